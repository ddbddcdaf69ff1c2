import MailAuditCore
import MailAuditRecords
import Testing

@Suite("MTA-STS policy")
struct MTASTSPolicyTests {
    static let canonical = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800\n"

    /// (policy text, canonical form, why it is valid).
    static let goodPolicies: [(String, String, String)] = [
        ("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n", canonical,
         "CRLF line ends, as in RFC 8461 §3.2"),
        ("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\nmax_age: 604800", canonical,
         "LF line ends, and none after the last line"),
        ("mode: enforce\nmax_age: 604800\nmx: mail.example.com\nversion: STSv1\nmx: *.example.net\n", canonical, "fields in any order"),
        ("version:STSv1\nmode:\tenforce  \nmx:   mail.example.com\nmx: *.example.net\nmax_age: 604800\n", canonical,
         "whitespace after ':' and at the end of a line"),
        ("version: STSv1\nmode: enforce\nmx: MAIL.Example.COM\nmx: *.example.net\nmax_age: 604800\n", canonical, "mx names fold case"),
        ("version: STSv1\nmode: none\nmax_age: 86400\n", "version: STSv1\nmode: none\nmax_age: 86400\n", "mode none needs no mx"),
        ("version: STSv1\nmode: testing\nmx: m.example.com\nmax_age: 0\nnote: caf\u{E9} au lait\n",
         "version: STSv1\nmode: testing\nmx: m.example.com\nmax_age: 0\nnote: caf\u{E9} au lait\n",
         "max_age 0, and an extension with UTF-8 and inner spaces is kept"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 31557600\n",
         "version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 31557600\n", "the largest max_age"),
    ]

    @Test("valid policies parse and render canonically", arguments: goodPolicies)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let policy = try MTASTSPolicy(parsing: text)
        #expect(policy.description == canonical, "\(reason)")
        #expect(try MTASTSPolicy(parsing: policy.description) == policy, "round trip: \(reason)")
    }

    @Test func aRepeatedFieldKeepsItsFirstValueButMxAddsUp() throws {
        let policy = try MTASTSPolicy(parsing: "version: STSv1\nmode: testing\nmode: enforce\nmx: a.example\nmx: b.example\nmax_age: 86400\n")
        #expect(policy.mode == .testing, "the first mode counts (RFC 8461 §3.2)")
        #expect(policy.ignoredDuplicates == [MTASTSPolicyField(key: "mode", value: "enforce")])
        #expect(policy.mx.map(\.description) == ["a.example", "b.example"])
    }

    static let valid = "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 604800\n"

    /// (policy, line, key, reason, why it is invalid).
    static let badPolicies: [(String, Int, String, MTASTSPolicyError.Reason, String)] = [
        ("version: STSv1\nmode: strict\nmx: m.example.com\nmax_age: 86400\n", 2, "mode", .badMode("strict"), "an invalid mode"),
        ("version: STSv1\nmode: Enforce\nmx: m.example.com\nmax_age: 86400\n", 2, "mode", .badMode("Enforce"), "modes are case-sensitive"),
        ("version: STSv2\nmode: enforce\nmx: m.example.com\nmax_age: 86400\n", 1, "version", .badVersion("STSv2"), "the only version is STSv1"),
        ("mode: enforce\nmx: m.example.com\nmax_age: 86400\n", 0, "version", .missingField(writtenAs: nil), "version is required"),
        ("version: STSv1\nmx: m.example.com\nmax_age: 86400\n", 0, "mode", .missingField(writtenAs: nil), "mode is required"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com\n", 0, "max_age", .missingField(writtenAs: nil), "max_age is required"),
        ("version: STSv1\nmode: testing\nmax_age: 86400\n", 0, "mx", .missingField(writtenAs: nil), "mx is required unless mode is none"),
        ("version: STSv1\nMode: enforce\nmx: m.example.com\nmax_age: 86400\n", 0, "mode", .missingField(writtenAs: "Mode"),
         "keys are case-sensitive: Mode is an extension"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 31557601\n", 4, "max_age", .maxAgeTooLarge(31_557_601), "over one year"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 1w\n", 4, "max_age", .badMaxAge("1w"), "seconds only"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 12345678901\n", 4, "max_age", .badMaxAge("12345678901"), "at most 10 digits"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com.\nmax_age: 86400\n", 3, "mx", .badMX("m.example.com.", "a pattern has no trailing dot"),
         "Domain has no trailing dot"),
        ("version: STSv1\nmode: enforce\nmx: *.*.example.com\nmax_age: 86400\n", 3, "mx",
         .badMX("*.*.example.com", "\"*\" may only stand alone as the whole leftmost label"), "one wildcard label only"),
        ("version: STSv1\nmode: enforce\nmx: mail*.example.com\nmax_age: 86400\n", 3, "mx",
         .badMX("mail*.example.com", "\"mail*\" has a character other than letters, digits and \"-\""), "no partial wildcards"),
        ("version: STSv1\nmode: enforce\nmx: -mail.example.com\nmax_age: 86400\n", 3, "mx",
         .badMX("-mail.example.com", "\"-mail\" starts or ends with \"-\""), "LDH labels"),
        ("version: STSv1\n\nmode: enforce\nmx: m.example.com\nmax_age: 86400\n", 2, "", .emptyLine, "no empty lines in the grammar"),
        ("version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 86400\n\n", 5, "", .emptyLine, "nor an empty line at the end"),
        (" version: STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 86400\n", 1, " version", .badKey, "no whitespace before a key"),
        ("version : STSv1\nmode: enforce\nmx: m.example.com\nmax_age: 86400\n", 1, "version ", .badKey, "nor before ':'"),
        ("version: STSv1\nmode enforce\nmx: m.example.com\nmax_age: 86400\n", 2, "", .missingColon, "every line is key: value"),
        ("version: STSv1\nmode:\nmx: m.example.com\nmax_age: 86400\n", 2, "mode", .emptyValue, "a value is required"),
        ("version: STSv1\nmode: enforce\rmx: m.example.com\nmax_age: 86400\n", 2, "", .controlCharacter("\r"), "a bare CR is no line end"),
    ]

    @Test("invalid policies are refused, naming the line and key", arguments: badPolicies)
    func bad(_ text: String, _ line: Int, _ key: String, _ reason: MTASTSPolicyError.Reason, _ why: String) {
        #expect(throws: MTASTSPolicyError(line: line, key: key, reason: reason), "\(why)") {
            try MTASTSPolicy(parsing: text)
        }
    }

    @Test func aBodyMustBeUTF8() {
        #expect(throws: MTASTSPolicyError(line: 0, key: "", reason: .notUTF8)) {
            try MTASTSPolicy(parsing: Array(Self.valid.utf8) + [0xFF])
        }
        #expect((try? MTASTSPolicy(parsing: Array(Self.valid.utf8)))?.mode == .enforce)
    }

    @Test func errorsNameTheLineAndKey() {
        #expect(MTASTSPolicyError(line: 2, key: "mode", reason: .badMode("strict")).description
            == "line 2 (\"mode\"): \"strict\" is not a mode: enforce, testing or none (in lower case)")
        #expect(MTASTSPolicyError(line: 0, key: "mx", reason: .missingField(writtenAs: nil)).description
            == "policy (\"mx\"): the field is required but missing")
    }

    /// (pattern, host, matches, why) — RFC 8461 §4.1.
    static let matches: [(String, String, Bool, String)] = [
        ("mail.example.com", "mail.example.com", true, "a name matches itself"),
        ("mail.example.com", "MAIL.EXAMPLE.COM", true, "case-insensitively"),
        ("mail.example.com", "mx.example.com", false, "another name does not"),
        ("*.example.com", "mail.example.com", true, "a wildcard matches one more label"),
        ("*.example.com", "example.com", false, "not the domain itself"),
        ("*.example.com", "a.b.example.com", false, "not two more labels"),
        ("*.example.com", "mail.example.net", false, "not another domain"),
        ("example.com", "mail.example.com", false, "a plain name does not match its subdomains"),
    ]

    @Test("mx patterns match MX host names", arguments: matches)
    func match(_ pattern: String, _ host: String, _ expected: Bool, _ why: String) throws {
        let parsed = try MTASTSMXPattern(parsing: pattern)
        #expect(parsed.matches(try DomainName(parsing: host)) == expected, "\(why)")
    }
}
