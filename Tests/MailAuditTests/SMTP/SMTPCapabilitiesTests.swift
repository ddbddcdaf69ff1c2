import MailAuditRecords
import Testing

/// EHLO capability parsing (RFC 5321 §4.1.1.1).
struct SMTPCapabilitiesTests {
    static func capabilities(_ text: String) throws -> SMTPCapabilities {
        SMTPCapabilities(ehloReply: try SMTPReply(parsing: text))
    }

    @Test func postfixReply() throws {
        let capabilities = try Self.capabilities("""
            250-mx.example.com\r
            250-PIPELINING\r
            250-SIZE 10240000\r
            250-VRFY\r
            250-ETRN\r
            250-STARTTLS\r
            250-ENHANCEDSTATUSCODES\r
            250-8BITMIME\r
            250-DSN\r
            250-SMTPUTF8\r
            250 CHUNKING\r

            """)
        #expect(capabilities.domain == "mx.example.com")
        #expect(capabilities.greeting == "")
        #expect(capabilities.keywords == [
            "PIPELINING", "SIZE", "VRFY", "ETRN", "STARTTLS", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING",
        ])
        #expect(capabilities.supportsSTARTTLS)
        #expect(capabilities.supportsPipelining)
        #expect(capabilities.size == 10_240_000)
        #expect(capabilities.authMechanisms.isEmpty)
        #expect(capabilities.malformedLines.isEmpty)
    }

    @Test func submissionReplyWithAuth() throws {
        let capabilities = try Self.capabilities(
            "250-smtp.example.com at your service, [192.0.2.1]\r\n250-SIZE\r\n250-AUTH LOGIN PLAIN XOAUTH2\r\n250-AUTH=LOGIN\r\n250 starttls")
        #expect(capabilities.domain == "smtp.example.com")
        #expect(capabilities.greeting == "at your service, [192.0.2.1]")
        #expect(capabilities.size == 0, "SIZE without a number: no fixed limit (RFC 1870 §4)")
        #expect(capabilities.authMechanisms == ["LOGIN", "PLAIN", "XOAUTH2"], "AUTH=LOGIN merges into AUTH")
        #expect(capabilities.supportsSTARTTLS, "keywords are case-insensitive")
        #expect(capabilities.supports("auth"))
        #expect(capabilities["size"]?.parameters == [])
    }

    @Test(arguments: [
        ("250-mx\r\n250 -BAD", ["-BAD"]),
        ("250-mx\r\n250 ÜTF8", ["ÜTF8"]),
        ("250-mx\r\n250 SIZE=100", ["SIZE=100"]),
    ])
    func malformedLinesAreKeptApart(text: String, malformed: [String]) throws {
        let capabilities = try Self.capabilities(text)
        #expect(capabilities.malformedLines == malformed)
        #expect(capabilities.extensions.isEmpty)
    }

    @Test func oneLineReplyHasNoExtensions() throws {
        let capabilities = try Self.capabilities("250 mx.example.com Hello")
        #expect(capabilities.domain == "mx.example.com")
        #expect(capabilities.extensions.isEmpty)
        #expect(!capabilities.supportsSTARTTLS)
        #expect(capabilities.size == nil)
    }

    @Test func sizeThatIsNoNumber() throws {
        #expect(try Self.capabilities("250-mx\r\n250 SIZE lots").size == nil)
    }
}
