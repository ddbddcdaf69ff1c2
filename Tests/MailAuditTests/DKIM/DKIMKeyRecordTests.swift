import MailAuditCore
import MailAuditRecords
import Testing

@Suite("DKIM key record parser")
struct DKIMKeyRecordTests {
    /// 32 bytes of base64, the size of an Ed25519 key (RFC 8463's example key).
    static let ed = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

    /// (record, canonical form, why it is valid).
    static let goodRecords: [(String, String, String)] = [
        ("v=DKIM1; p=\(ed)", "v=DKIM1; p=\(ed)", "the smallest record"),
        ("p=\(ed)", "p=\(ed)", "v is optional (RFC 6376 §3.6.1)"),
        ("v=DKIM1; p=", "v=DKIM1; p=", "an empty p= revokes the key"),
        ("v=DKIM1;k=ed25519;p=\(ed)", "v=DKIM1; k=ed25519; p=\(ed)", "no spaces"),
        ("v=DKIM1; k=RSA; p=\(ed)", "v=DKIM1; k=rsa; p=\(ed)", "the key type is lower-cased"),
        ("v=DKIM1; p=11qYAYKxCrfVS/7T yWQHOg7hcvPapiMl\r\n rwIaaPcHURo=", "v=DKIM1; p=\(ed)", "whitespace inside p= is folding"),
        ("v=DKIM1; h=sha1:sha256; s=email; t=y:s; n=hello world; p=\(ed)",
         "v=DKIM1; h=sha1:sha256; s=email; t=y:s; n=hello world; p=\(ed)", "every tag"),
        ("v=DKIM1; x_y1=whatever; p=\(ed)", "v=DKIM1; x_y1=whatever; p=\(ed)", "unknown tags are kept"),
        ("v=DKIM1; p=\(ed);", "v=DKIM1; p=\(ed)", "a trailing ';' is allowed"),
    ]

    @Test("valid records parse and render canonically", arguments: goodRecords)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let record = try DKIMKeyRecord(parsing: text)
        #expect(record.description == canonical, "\(reason)")
        #expect(try DKIMKeyRecord(parsing: record.description) == record, "round trip: \(reason)")
    }

    @Test func flags() throws {
        let record = try DKIMKeyRecord(parsing: "v=DKIM1; h=sha1; s=other; t=y; p=")
        #expect(record.isRevoked && record.isTesting && !record.allowsSHA256 && !record.allowsEmail)
        let plain = try DKIMKeyRecord(parsing: "p=\(Self.ed)")
        #expect(plain.effectiveKeyType == "rsa" && !plain.isRevoked && plain.allowsSHA256 && plain.allowsEmail && !plain.isTesting)
        #expect(plain.publicKey.count == 32)
    }

    /// (record, tag, offset, reason, why it is invalid).
    static let badRecords: [(String, String, Int, DKIMParseError.Reason, String)] = [
        ("k=rsa; v=DKIM1; p=", "v", 7, .versionNotFirst, "v must be the first tag"),
        ("v=DKIM2; p=", "v", 2, .badVersion("DKIM2"), "only DKIM1"),
        ("v=DKIM1; k=rsa", "p", 14, .missingPublicKey, "p= is required"),
        ("v=DKIM1; p=MIGf!!==", "p", 11, .badBase64, "not base64"),
        ("v=DKIM1; p=AAA", "p", 11, .badBase64, "base64 comes in groups of four"),
        ("v=DKIM1; p=; p=", "p", 13, .duplicateTag, "a repeated tag makes the record invalid (RFC 6376 §3.2)"),
        ("v=DKIM1; 1a=b; p=", "1a", 9, .badTagName, "a tag name starts with a letter"),
        ("v=DKIM1; k=; p=", "k", 11, .emptyValue, "k needs a value"),
        ("v=DKIM1; p", "p", 9, .missingEquals, "a tag needs '='"),
        ("v=DKIM1; n=caf\u{E9}; p=", "", 14, .nonASCII("\u{E9}"), "records are ASCII"),
    ]

    @Test("invalid records are refused, naming the tag and offset", arguments: badRecords)
    func bad(_ text: String, _ tag: String, _ offset: Int, _ reason: DKIMParseError.Reason, _ why: String) {
        #expect(throws: DKIMParseError(tag: tag, offset: offset, reason: reason), "\(why)") {
            try DKIMKeyRecord(parsing: text)
        }
    }

    /// (selector, valid, why).
    static let selectors: [(String, Bool, String)] = [
        ("selector1", true, "a plain label"),
        ("s1.eu", true, "selectors may have several labels (RFC 6376 §3.1)"),
        ("2024_01-a", true, "digits, underscore and hyphen"),
        ("", false, "empty"),
        ("a..b", false, "an empty label"),
        ("bad selector", false, "a space"),
        ("-x", false, "a leading hyphen"),
        (String(repeating: "a", count: 64), false, "a label over 63 octets"),
    ]

    @Test("selector names", arguments: selectors)
    func selector(_ selector: String, _ valid: Bool, _ why: String) throws {
        let name = DKIMSelector.recordName(selector, domain: try DomainName(parsing: "example.com"))
        #expect((name != nil) == valid, "\(why)")
        if valid { #expect(name?.description == "\(selector.lowercased())._domainkey.example.com") }
    }
}
