import MailAuditRecords
import Testing

/// Reply parsing (RFC 5321 §4.2): multi-line replies, bad codes, limits.
struct SMTPReplyTests {
    struct Good: Sendable, CustomTestStringConvertible {
        var text: String
        var code: Int
        var lines: [String]
        var testDescription: String { text.replacingOccurrences(of: "\r\n", with: "⏎") }
    }

    static let good: [Good] = [
        Good(text: "220 mx.example.com ESMTP Postfix\r\n", code: 220, lines: ["mx.example.com ESMTP Postfix"]),
        Good(text: "250-mx.example.com\r\n250-PIPELINING\r\n250 STARTTLS\r\n", code: 250, lines: ["mx.example.com", "PIPELINING", "STARTTLS"]),
        Good(text: "220-first\r\n220-\r\n220 last", code: 220, lines: ["first", "", "last"]),
        // A bare code is a complete last line: Reply-code [ SP textstring ] CRLF.
        Good(text: "250\r\n", code: 250, lines: [""]),
        // Bare LF line ends are accepted.
        Good(text: "421-busy\n421 try later\n", code: 421, lines: ["busy", "try later"]),
        Good(text: "554 5.7.1  two spaces kept", code: 554, lines: ["5.7.1  two spaces kept"]),
    ]

    @Test(arguments: good)
    func parsesAndRendersBack(_ example: Good) throws {
        let reply = try SMTPReply(parsing: example.text)
        #expect(reply.code == example.code)
        #expect(reply.lines == example.lines)
        #expect(try SMTPReply(parsing: reply.description) == reply, "parsing the rendering gives the same value")
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var text: String
        var error: SMTPReplyError
        var reason: String
        var testDescription: String { reason }
    }

    static let bad: [Bad] = [
        Bad(text: "", error: .empty, reason: "nothing"),
        Bad(text: "25 ok\r\n", error: .invalidCode("25 ok"), reason: "two digits"),
        Bad(text: "OK\r\n", error: .invalidCode("OK"), reason: "no code"),
        Bad(text: "600 nope\r\n", error: .invalidCode("600 nope"), reason: "first digit above 5"),
        Bad(text: "170 nope\r\n", error: .invalidCode("170 nope"), reason: "first digit below 2"),
        Bad(text: "260 nope\r\n", error: .invalidCode("260 nope"), reason: "second digit above 5"),
        Bad(text: "2x0 nope\r\n", error: .invalidCode("2x0 nope"), reason: "a letter in the code"),
        Bad(text: "250x ok\r\n", error: .malformedLine("250x ok"), reason: "no separator after the code"),
        Bad(text: "250\tok\r\n", error: .malformedLine("250\tok"), reason: "a tab is no separator"),
        Bad(text: "250-a\r\n251 b\r\n", error: .codeChanged(expected: 250, found: 251), reason: "code changes within the reply"),
        Bad(text: "250-a\r\n250-b\r\n", error: .unterminated, reason: "no last line"),
        Bad(text: "250 a\r\n250 b\r\n", error: .textAfterLastLine, reason: "a second reply"),
        Bad(text: "220 " + String(repeating: "x", count: 2045) + "\r\n", error: .lineTooLong(2049), reason: "a line over 2048 bytes"),
        Bad(text: String(repeating: "250-x\r\n", count: 100) + "250 end\r\n", error: .tooManyLines(101), reason: "101 lines"),
    ]

    @Test(arguments: bad)
    func rejects(_ example: Bad) {
        #expect(throws: example.error) { try SMTPReply(parsing: example.text) }
    }

    @Test func limitsAreConfigurable() throws {
        let limits = SMTPLimits(maximumLineLength: 10, maximumReplyLines: 2)
        #expect(throws: SMTPReplyError.lineTooLong(11)) { try SMTPReply(parsing: "220 1234567", limits: limits) }
        #expect(throws: SMTPReplyError.tooManyLines(3)) { try SMTPReply(parsing: "250-a\r\n250-b\r\n250 c", limits: limits) }
        #expect(try SMTPReply(parsing: "250-a\r\n250 b", limits: limits).lines == ["a", "b"])
    }

    @Test(arguments: [
        ("421 4.7.0 mx.example.com Error: too many connections", "4.7.0"),
        ("250 2.0.0 Ok", "2.0.0"),
        ("550 5.1.1 <x@example.com>: Recipient address rejected", "5.1.1"),
        ("250 mx.example.com", nil),
        ("451 4.x.1 odd", nil),
        ("220 3.1.1 not a class", nil),
    ] as [(String, String?)])
    func enhancedStatusCode(text: String, expected: String?) throws {
        #expect(try SMTPReply(parsing: text).enhancedStatusCode?.description == expected)
    }

    /// A server saying it is busy makes the probe inconclusive, not failed.
    @Test(arguments: [
        ("421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1", true),
        ("421 4.3.2 Service shutting down", true),
        ("450 4.7.1 Client host rejected: cannot find your hostname", true),
        ("451 4.7.1 Please try again later", true),
        ("554 5.7.1 Rate limit exceeded for your IP", true),
        ("550 5.7.1 Too many concurrent SMTP connections", true),
        ("452 4.5.3 Too many recipients", false),
        ("554 5.7.1 Service unavailable; client host blocked", false),
        ("220 mx.example.com busy mail hub", false),
        ("502 5.5.2 Error: command not recognized", false),
    ])
    func rateLimiting(text: String, limited: Bool) throws {
        #expect(try SMTPReply(parsing: text).indicatesRateLimiting == limited)
    }

    @Test func replyClasses() {
        #expect(SMTPReply(code: 250, lines: ["ok"]).isPositive)
        #expect(SMTPReply(code: 421, lines: ["busy"]).isTransientFailure)
        #expect(SMTPReply(code: 554, lines: ["no"]).isPermanentFailure)
        #expect(SMTPReply(code: 250, lines: []).lines == [""])
        #expect(SMTPReply(code: 250, lines: ["a", "b"]).text == "a b")
    }
}
