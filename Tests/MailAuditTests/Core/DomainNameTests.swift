import Testing
@testable import MailAuditCore

@Suite struct DomainNameTests {
    @Test(arguments: [
        ("example.com", "example.com"),
        ("Example.COM.", "example.com"),
        ("  mail.example.org\n", "mail.example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("münchen.de", "xn--mnchen-3ya.de"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("_dmarc.example.com", "_dmarc.example.com"),
        ("a。b．example", "a.b.example"),
    ])
    func parsesAndNormalises(input: String, expected: String) throws {
        #expect(try DomainName(parsing: input).description == expected)
    }

    @Test(arguments: [
        ("", DomainNameError.empty, "nothing to audit"),
        ("   ", .empty, "only white space"),
        (".", .empty, "the root alone"),
        ("192.0.2.1", .ipAddress("192.0.2.1"), "an IPv4 address"),
        ("2001:db8::1", .ipAddress("2001:db8::1"), "an IPv6 address"),
        ("[192.0.2.1]", .ipAddress("[192.0.2.1]"), "an address literal"),
        ("example..com", .emptyLabel("example..com"), "two dots in a row"),
        (".example.com", .emptyLabel(".example.com"), "a leading dot"),
        ("localhost", .singleLabel("localhost"), "a single label"),
        ("ex ample.com", .badCharacter(label: "ex ample", character: " "), "a space"),
        ("exa$mple.com", .badCharacter(label: "exa$mple", character: "$"), "a dollar sign"),
        ("-example.com", .hyphenAtEdge("-example"), "a leading hyphen"),
        ("example-.com", .hyphenAtEdge("example-"), "a trailing hyphen"),
        ("xn--zz.example", .badPunycode("xn--zz"), "bad punycode"),
        ("example.123", .numericTopLevel("example.123"), "an all-numeric top-level label"),
    ] as [(String, DomainNameError, String)])
    func rejectsBadInput(input: String, error: DomainNameError, reason: String) {
        #expect(throws: error, "\(reason)") { try DomainName(parsing: input) }
    }

    @Test func rejectsOverlongLabelsAndNames() {
        let label = String(repeating: "a", count: 64)
        #expect(throws: DomainNameError.labelTooLong(label, 64)) { try DomainName(parsing: "\(label).com") }
        let long = Array(repeating: String(repeating: "b", count: 60), count: 5).joined(separator: ".")
        #expect(throws: DomainNameError.nameTooLong(306)) { try DomainName(parsing: long) }
        let exactly63 = String(repeating: "c", count: 63) + ".com"
        #expect((try? DomainName(parsing: exactly63)) != nil)
    }

    @Test func messagesNameTheProblem() {
        #expect("\(DomainNameError.labelTooLong("x", 64))".contains("63"))
        #expect("\(DomainNameError.ipAddress("192.0.2.1"))".contains("IP address"))
        #expect("\(DomainNameError.badCharacter(label: "a$b", character: "$"))".contains("'$'"))
    }

    @Test(arguments: [
        ("bücher", "bcher-kva"), ("münchen", "mnchen-3ya"), ("例え", "r8jz45g"), ("テスト", "zckzah"),
        ("ليهمابتكلموشعربي؟", "egbpdaj6bu4bxfgehfvwxn"),
    ])
    func punycodeRoundTrips(unicode: String, encoded: String) {
        #expect(Punycode.encode(unicode) == encoded)
        #expect(Punycode.decode(encoded) == unicode)
    }

    @Test func relationsBetweenNames() throws {
        let parent = try DomainName(parsing: "example.com")
        let child = try DomainName(parsing: "mail.example.com")
        #expect(child.isSubdomain(of: parent))
        #expect(!parent.isSubdomain(of: child))
        #expect(child.parent == parent)
        #expect(parent.prepending("_dmarc").description == "_dmarc.example.com")
        #expect(parent.fqdn == "example.com.")
    }
}

@Suite struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "1.2.0.192.in-addr.arpa"),
        ("2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"),
    ])
    func reverseNames(address: String, name: String) throws {
        #expect(try #require(IPAddress(address)).reverseName.description == name)
    }

    @Test(arguments: ["1", "256.1.1.1", "1.2.3", "0x7f.0.0.1", "::g", "example.com", ""])
    func rejectsNonAddresses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("10.1.2.3", true), ("172.31.255.255", true), ("172.32.0.1", false),
        ("192.168.0.1", true), ("169.254.1.1", true), ("100.64.0.1", true), ("198.51.100.7", true),
        ("8.8.8.8", false), ("::1", true), ("fe80::1", true), ("fd00::1", true), ("2001:db8::5", true),
        ("2a00:1450::1", false),
    ])
    func classifiesNonPublicRanges(address: String, isSpecial: Bool) throws {
        #expect((try #require(IPAddress(address)).nonPublicRange != nil) == isSpecial)
    }

    @Test func printsCanonicalIPv6() throws {
        #expect(try #require(IPAddress("2001:0DB8:0:0:0:0:0:0001")).description == "2001:db8::1")
    }
}
