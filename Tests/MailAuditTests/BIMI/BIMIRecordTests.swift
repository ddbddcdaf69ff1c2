import MailAuditCore
import MailAuditRecords
import Testing

@Suite("BIMI record")
struct BIMIRecordTests {
    /// (record, canonical form, why it is valid).
    static let goodRecords: [(String, String, String)] = [
        ("v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem", "v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem",
         "logo and evidence"),
        ("v=BIMI1; l=https://example.com/logo.svg", "v=BIMI1; l=https://example.com/logo.svg", "a= may be absent"),
        ("v=BIMI1; l=https://example.com/logo.svg; a=;", "v=BIMI1; l=https://example.com/logo.svg", "an empty a= is the same as none"),
        ("v = BIMI1 ;l= https://example.com/logo.svg ;", "v=BIMI1; l=https://example.com/logo.svg", "*WSP around '=' and ';' (§4.3 ABNF)"),
        ("v=BIMI1; l=; a=;", "v=BIMI1; l=; a=", "the declination record of §4.3.1"),
        ("v=BIMI1; l=; a=https://example.com/vmc.pem", "v=BIMI1; l=; a=https://example.com/vmc.pem", "evidence only: the logo is in the certificate"),
        ("v=BIMI1; a=https://example.com/vmc.pem; l=https://example.com/logo.svg", "v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem",
         "l and a in any order"),
        ("v=BIMI1; l=https://example.com/l.svg; lps=true; avp=brand; x_1=y", "v=BIMI1; l=https://example.com/l.svg; lps=true; avp=brand; x_1=y",
         "lps, avp and unknown tags are kept as written"),
        ("v=BIMI1; l=HTTPS://Brand.Example.COM:8443/a%2Cb.svg?v=1", "v=BIMI1; l=HTTPS://Brand.Example.COM:8443/a%2Cb.svg?v=1",
         "scheme and host case, a port, an encoded comma and a query"),
    ]

    @Test("valid records parse and render canonically", arguments: goodRecords)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let record = try BIMIRecord(parsing: text)
        #expect(record.description == canonical, "\(reason)")
        #expect(try BIMIRecord(parsing: record.description) == record, "round trip: \(reason)")
    }

    @Test func theURIsAreReadForFetching() throws {
        let record = try BIMIRecord(parsing: "v=BIMI1; l=https://Brand.Example.COM:8443/logo.svg?v=1#top; a=https://example.com")
        #expect(record.location?.host == DomainName(labels: ["brand", "example", "com"]))
        #expect(record.location?.port == 8443)
        #expect(record.location?.target == "/logo.svg?v=1", "the fragment is not sent")
        #expect(record.evidence?.port == 443 && record.evidence?.target == "/")
        #expect(try BIMIRecord(parsing: "v=BIMI1; l=; a=").isDeclination)
        #expect(try !BIMIRecord(parsing: "v=BIMI1; l=; a=https://example.com/vmc.pem").isDeclination)
    }

    static func uri(_ tag: String, _ reason: HTTPSURLError.Reason, _ url: String) -> BIMIRecordError.Reason {
        .badURI(HTTPSURLError(url: url, reason: reason))
    }

    /// (record, tag named by the error, offset, reason, why it is invalid).
    static let badRecords: [(String, String, Int, BIMIRecordError.Reason, String)] = [
        ("l=https://example.com/l.svg; v=BIMI1", "l", 0, .notBIMIVersion, "v=BIMI1 must come first"),
        ("v=BIMI2; l=", "v", 0, .notBIMIVersion, "the only version is BIMI1"),
        ("v=bimi1; l=", "v", 0, .notBIMIVersion, "the version must match precisely"),
        ("v=BIMI1", "", 7, .missingLocation, "l= is required"),
        ("v=BIMI1; a=https://example.com/vmc.pem", "", 38, .missingLocation, "even with evidence"),
        ("v=BIMI1; L=https://example.com/l.svg", "L", 9, .caseSensitiveName("l"), "receivers must not fix capitalization"),
        ("v=BIMI1; l=; l=https://example.com/l.svg", "l", 13, .duplicateTag, "a repeated tag makes a tag-list invalid (RFC 6376 §3.2)"),
        ("v=BIMI1; l=https://a.example/1.svg,https://b.example/2.svg", "l", 34, .multipleURIs, "one URI only; commas must be encoded"),
        ("v=BIMI1; l=http://example.com/l.svg", "l", 11, uri("l", .notHTTPS("http"), "http://example.com/l.svg"), "https only"),
        ("v=BIMI1; l=https://example.com/l.svg; a=ftp://example.com/vmc.pem", "a", 40,
         uri("a", .notHTTPS("ftp"), "ftp://example.com/vmc.pem"), "https only for the evidence too"),
        ("v=BIMI1; l=https://192.0.2.1/l.svg", "l", 11, uri("l", .ipAddress("192.0.2.1"), "https://192.0.2.1/l.svg"), "the URI must hold an FQDN"),
        ("v=BIMI1; l=https://localhost/l.svg", "l", 11, uri("l", .badHost("localhost"), "https://localhost/l.svg"), "a single label is no FQDN"),
        ("v=BIMI1; l=https://example.com:0/l.svg", "l", 11, uri("l", .badPort("0"), "https://example.com:0/l.svg"), "port 0"),
        ("v=BIMI1; l=https://u@example.com/l.svg", "l", 11, uri("l", .userInformation, "https://u@example.com/l.svg"), "no user information"),
        ("v=BIMI1; l=https://example.com/a b.svg", "l", 11, uri("l", .badCharacter(" "), "https://example.com/a b.svg"), "a space must be encoded"),
        ("v=BIMI1; l=https://example.com/%zz.svg", "l", 11, uri("l", .badPercentEncoding, "https://example.com/%zz.svg"), "a bad escape"),
        ("v=BIMI1; l=example.com/l.svg", "l", 11, uri("l", .noScheme, "example.com/l.svg"), "a URI has a scheme"),
        ("v=BIMI1; l=https:/example.com/l.svg", "l", 11, uri("l", .noHost, "https:/example.com/l.svg"), "https needs //host"),
        ("v=BIMI1; l=x; junk", "junk", 14, .missingEquals, "a tag needs '='"),
        ("v=BIMI1; 1x=y; l=", "1x", 9, .badTagName, "a tag name starts with a letter"),
        ("v=BIMI1; l=\u{E9}", "", 11, .nonASCII("\u{E9}"), "records are ASCII"),
    ]

    @Test("invalid records are refused, naming the tag and offset", arguments: badRecords)
    func bad(_ text: String, _ tag: String, _ offset: Int, _ reason: BIMIRecordError.Reason, _ why: String) {
        #expect(throws: BIMIRecordError(tag: tag, offset: offset, reason: reason), "\(why)") {
            try BIMIRecord(parsing: text)
        }
    }

    @Test func onlyASchemeOtherThanHTTPSCountsAsNotHTTPS() {
        #expect(BIMIRecordError(tag: "l", offset: 11, reason: Self.uri("l", .notHTTPS("http"), "http://x.example/")).isNotHTTPS)
        #expect(!BIMIRecordError(tag: "l", offset: 11, reason: Self.uri("l", .noHost, "https:x")).isNotHTTPS)
        #expect(!BIMIRecordError(tag: "", offset: 7, reason: .missingLocation).isNotHTTPS)
    }

    /// (TXT records at the name, the selection, its near misses, why).
    static let selections: [([String], RecordSelectionOutcome, [String], String)] = [
        ([], .none, [], "no TXT record"),
        (["v=spf1 -all"], .none, [], "other records are ignored"),
        (["v=BIMI1; l=", "site-verification=x"], .record("v=BIMI1; l="), [], "one record among others"),
        (["v = BIMI1; l="], .record("v = BIMI1; l="), [], "whitespace around '=' is allowed"),
        (["v=BIMI1; l=", "v=BIMI1; l=; a="], .multiple(["v=BIMI1; l=", "v=BIMI1; l=; a="]), [], "two records"),
        (["l=; v=BIMI1"], .none, ["l=; v=BIMI1"], "v=BIMI1 not first: ignored, but meant as BIMI"),
        (["v=bimi1; l="], .none, ["v=bimi1; l="], "the version in the wrong case"),
        (["v=BIMI10; l="], .none, ["v=BIMI10; l="], "a longer version is no BIMI1 record"),
    ]

    @Test("the record is chosen among the TXT records", arguments: selections)
    func selection(_ texts: [String], _ outcome: RecordSelectionOutcome, _ nearMisses: [String], _ why: String) {
        let selection = BIMIRecordSelection(texts: texts)
        #expect(selection.outcome == outcome, "\(why)")
        #expect(selection.nearMisses == nearMisses, "\(why)")
    }
}
