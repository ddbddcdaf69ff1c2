import MailAuditCore
import MailAuditRecords
import Testing

@Suite("TLS-RPT record parser")
struct TLSRPTParserTests {
    /// (record, canonical form, why it is valid).
    static let goodRecords: [(String, String, String)] = [
        ("v=TLSRPTv1; rua=mailto:tls@example.com", "v=TLSRPTv1; rua=mailto:tls@example.com", "the smallest record"),
        ("v=TLSRPTv1;rua=mailto:tls@example.com;", "v=TLSRPTv1; rua=mailto:tls@example.com", "no spaces, and a trailing field-delim"),
        ("v=TLSRPTv1 ; rua=https://reports.example.com/v1/tlsrpt", "v=TLSRPTv1; rua=https://reports.example.com/v1/tlsrpt",
         "whitespace before \";\" (field-delim = *WSP \";\" *WSP), an https URI"),
        ("v=TLSRPTv1; rua=mailto:a@example.com , https://r.example.net:8443/x?y=1", "v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.net:8443/x?y=1",
         "a list with whitespace around the comma, a port and a query"),
        ("v=TLSRPTv1; rua=mailto:tls%2Breports@example.com", "v=TLSRPTv1; rua=mailto:tls%2Breports@example.com", "percent-encoding"),
        ("v=TLSRPTv1; rua=http://reports.example.com/", "v=TLSRPTv1; rua=http://reports.example.com/",
         "http: is valid syntax; the rules refuse it"),
        ("v=TLSRPTv1; rua=ftp://reports.example.com/", "v=TLSRPTv1; rua=ftp://reports.example.com/", "so is any scheme"),
        ("v=TLSRPTv1; x-ext.1=abc:def; rua=mailto:tls@example.com", "v=TLSRPTv1; rua=mailto:tls@example.com; x-ext.1=abc:def",
         "an extension is kept, rendered after rua (RFC 8460 §3: unknown fields are ignored)"),
    ]

    @Test("valid records parse and render canonically", arguments: goodRecords)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let record = try TLSRPTRecord(parsing: text)
        #expect(record.description == canonical, "\(reason)")
        #expect(try TLSRPTRecord(parsing: record.description) == record, "round trip: \(reason)")
    }

    @Test func fields() throws {
        let record = try TLSRPTRecord(parsing: "v=TLSRPTv1; rua=mailto:tls%2Br@example.com,https://r.example.net/p")
        #expect(record.reportURIs.map(\.scheme) == ["mailto", "https"])
        #expect(record.reportURIs[0].address == "tls+r@example.com", "percent-encoding is decoded in the address")
        #expect(record.reportURIs[0].host == DomainName(labels: ["example", "com"]))
        #expect(record.reportURIs[1].host == DomainName(labels: ["r", "example", "net"]))
        #expect(record.reportURIs[1].address == nil)
    }

    /// (record, field named by the error, offset, reason, why it is invalid).
    static let badRecords: [(String, String, Int, TLSRPTParseError.Reason, String)] = [
        ("rua=mailto:tls@example.com; v=TLSRPTv1", "rua", 0, .notTLSRPTVersion, "v must be the first field"),
        ("v=TLSRPTv2; rua=mailto:tls@example.com", "v", 0, .notTLSRPTVersion, "the only version is TLSRPTv1"),
        ("v=tlsrptv1; rua=mailto:tls@example.com", "v", 0, .notTLSRPTVersion, "the version is case-sensitive (%s)"),
        ("v = TLSRPTv1; rua=mailto:tls@example.com", "v", 0, .notTLSRPTVersion, "%s\"v=TLSRPTv1\" allows no spaces"),
        (" v=TLSRPTv1; rua=mailto:tls@example.com", "v", 0, .notTLSRPTVersion, "nothing may come before v"),
        ("v=TLSRPTv1", "", 10, .missingReportURIs, "rua is required"),
        ("v=TLSRPTv1; x=1", "", 15, .missingReportURIs, "an extension does not replace rua"),
        ("v=TLSRPTv1; RUA=mailto:tls@example.com", "RUA", 12, .caseSensitiveName("rua"), "%s\"rua=\": names are case-sensitive"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com", "rua", 38, .duplicateTag, "rua given twice"),
        ("v=TLSRPTv1; rua=", "rua", 16, .emptyValue, "rua needs a URI"),
        ("v=TLSRPTv1; rua = mailto:tls@example.com", "rua", 12, .whitespaceAroundEquals, "%s\"rua=\" allows no spaces"),
        ("v=TLSRPTv1; rua=mailto:tls@example.com; ext= 1", "ext", 40, .whitespaceAroundEquals, "nor does an extension"),
        ("v=TLSRPTv1; rua=tls@example.com", "rua", 16,
         .badURI(TLSRPTURIError(uri: "tls@example.com", reason: .noScheme)), "an address without mailto: is not a URI"),
        ("v=TLSRPTv1; rua=mailto:a@example.com,mailto:tls", "rua", 37,
         .badURI(TLSRPTURIError(uri: "mailto:tls", reason: .badMailbox("tls"))), "the offset points at the bad URI of the list"),
        ("v=TLSRPTv1; rua=mailto:a@example.com,", "rua", 37,
         .badURI(TLSRPTURIError(uri: "", reason: .empty)), "a trailing comma leaves an empty URI"),
        ("v=TLSRPTv1; rua=mailto:a@example.com!10m", "rua", 16,
         .badURI(TLSRPTURIError(uri: "mailto:a@example.com!10m", reason: .mustBeEncoded("!"))), "\"!\" must be encoded: no DMARC size suffix"),
        ("v=TLSRPTv1; rua=https:reports.example.com", "rua", 16,
         .badURI(TLSRPTURIError(uri: "https:reports.example.com", reason: .noHost)), "https needs //host"),
        ("v=TLSRPTv1; rua=mailto:a@example.com%2", "rua", 16,
         .badURI(TLSRPTURIError(uri: "mailto:a@example.com%2", reason: .badPercentEncoding)), "a \"%\" needs two hex digits"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; ext=a b", "ext", 42, .badExtensionValue(" "), "extension values have no spaces"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; -x=1", "-x", 38, .badTagName, "a name starts with a letter or digit"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; " + String(repeating: "a", count: 33) + "=1", String(repeating: "a", count: 33), 38,
         .badTagName, "a name has at most 32 characters"),
        ("v=TLSRPTv1; rua=mailto:a@example.com; junk", "junk", 38, .missingEquals, "a field needs \"=\""),
        ("v=TLSRPTv1; rua=mailto:tl\u{E9}@example.com", "", 25, .nonASCII("\u{E9}"), "records are ASCII"),
    ]

    @Test("invalid records are refused, naming the field and offset", arguments: badRecords)
    func bad(_ text: String, _ tag: String, _ offset: Int, _ reason: TLSRPTParseError.Reason, _ why: String) {
        #expect(throws: TLSRPTParseError(tag: tag, offset: offset, reason: reason), "\(why)") { try TLSRPTRecord(parsing: text) }
    }

    @Test func errorsSayWhereAndWhat() {
        #expect(TLSRPTParseError(tag: "rua", offset: 16, reason: .badURI(TLSRPTURIError(uri: "x", reason: .noScheme))).description
            == "tag \"rua\" at offset 16: \"x\" is not a URI: it needs a scheme, as in mailto:tls-reports@example.com")
        #expect(TLSRPTParseError(tag: "", offset: 10, reason: .missingReportURIs).description
            == "offset 10: the record has no rua field, which is required")
    }

    /// (TXT records at _smtp._tls, the outcome, the near misses, why).
    static let selections: [([String], RecordSelectionOutcome, [String], String)] = [
        (["v=TLSRPTv1; rua=mailto:a@example.com"], .record("v=TLSRPTv1; rua=mailto:a@example.com"), [], "one record"),
        (["v=spf1 -all", "v=TLSRPTv1;rua=mailto:a@example.com"], .record("v=TLSRPTv1;rua=mailto:a@example.com"), [],
         "other TXT records are discarded"),
        (["v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"],
         .multiple(["v=TLSRPTv1; rua=mailto:a@example.com", "v=TLSRPTv1; rua=mailto:b@example.com"]), [],
         "two records: senders assume no TLS-RPT"),
        (["rua=mailto:a@example.com; v=TLSRPTv1"], .none, ["rua=mailto:a@example.com; v=TLSRPTv1"],
         "a record that does not begin with v=TLSRPTv1 is discarded, but noticed"),
        (["V=TLSRPTV1; rua=mailto:a@example.com"], .none, ["V=TLSRPTV1; rua=mailto:a@example.com"], "the version is case-sensitive"),
        (["v=TLSRPTv10; rua=mailto:a@example.com"], .none, ["v=TLSRPTv10; rua=mailto:a@example.com"], "v=TLSRPTv10 is not v=TLSRPTv1"),
        (["v=TLSRPTv1"], .record("v=TLSRPTv1"), [], "selected, to be refused by the parser (no rua)"),
    ]

    @Test("the record is chosen among the TXT records (RFC 8460 §3)", arguments: selections)
    func selection(_ texts: [String], _ outcome: RecordSelectionOutcome, _ nearMisses: [String], _ why: String) {
        let selection = TLSRPTRecordSelection(texts: texts)
        #expect(selection.outcome == outcome, "\(why)")
        #expect(selection.nearMisses == nearMisses, "\(why)")
    }

    @Test func versionPrefixForMTASTS() {
        #expect(TLSRPTRecordSelection.startsWithVersion("v=STSv1; id=2024", "v=STSv1"))
        #expect(TLSRPTRecordSelection.startsWithVersion("v=STSv1", "v=STSv1"))
        #expect(!TLSRPTRecordSelection.startsWithVersion("v=STSv10; id=1", "v=STSv1"))
        #expect(!TLSRPTRecordSelection.startsWithVersion("id=1; v=STSv1", "v=STSv1"))
    }
}
