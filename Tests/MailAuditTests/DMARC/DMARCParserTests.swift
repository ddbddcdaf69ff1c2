import MailAuditCore
import MailAuditRecords
import Testing

@Suite("DMARC record parser")
struct DMARCParserTests {
    /// (record, canonical form, why it is valid).
    static let goodRecords: [(String, String, String)] = [
        ("v=DMARC1; p=reject", "v=DMARC1; p=reject", "the smallest useful record"),
        ("v=DMARC1", "v=DMARC1", "p may be absent: it counts as none (RFC 9989 §4.10.1)"),
        ("v=DMARC1;p=none;", "v=DMARC1; p=none", "no spaces, and a trailing separator"),
        ("v = DMARC1 ; p = quarantine", "v=DMARC1; p=quarantine", "whitespace around '=' and ';' (dmarc-sep, equals)"),
        ("V=DMARC1; P=Reject; SP=NONE", "v=DMARC1; p=reject; sp=none", "tag names and keyword values are case-insensitive"),
        ("v=DMARC1; p=none;; rua=mailto:d@example.com", "v=DMARC1; p=none; rua=mailto:d@example.com",
         "an empty segment between separators is skipped"),
        ("v=DMARC1; rua=mailto:a@example.com; p=reject; sp=quarantine; np=reject; psd=n; t=y; adkim=s; aspf=r; ruf=mailto:f@example.com; fo=0:d:s",
         "v=DMARC1; p=reject; sp=quarantine; np=reject; psd=n; t=y; adkim=s; aspf=r; rua=mailto:a@example.com; ruf=mailto:f@example.com; fo=0:d:s",
         "every RFC 9989 tag, rendered in the order of §4.7"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com , mailto:b@example.net!10m",
         "v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@example.net!10m",
         "a URI list with whitespace around the comma, and the obsolete size suffix"),
        ("v=DMARC1; p=none; pct=50; ri=86400; rf=afrf", "v=DMARC1; p=none; pct=50; ri=86400; rf=afrf",
         "removed tags are kept as written, in order"),
        ("v=DMARC1; p=none; Foo=bar baz", "v=DMARC1; p=none; foo=bar baz", "an unknown tag is kept; values may hold spaces"),
        ("v=DMARC1; p=none; rua=https://reports.example.com/dmarc", "v=DMARC1; p=none; rua=https://reports.example.com/dmarc",
         "any URI scheme is valid syntax"),
        ("v=DMARC1; p=none; fo=1", "v=DMARC1; p=none; fo=1", "a single failure option"),
        ("v=DMARC1; p=none; rua=mailto:dmarc%2Breports@example.com", "v=DMARC1; p=none; rua=mailto:dmarc%2Breports@example.com",
         "percent-encoding in a URI"),
    ]

    @Test("valid records parse and render canonically", arguments: goodRecords)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let record = try DMARCRecord(parsing: text)
        #expect(record.description == canonical, "\(reason)")
        #expect(try DMARCRecord(parsing: record.description) == record, "round trip: \(reason)")
    }

    @Test func fieldsAndDefaults() throws {
        let record = try DMARCRecord(parsing: "v=DMARC1; p=reject; sp=quarantine; rua=mailto:a@example.com!5k; pct=20")
        #expect(record.policy == .reject)
        #expect(record.effectiveSubdomainPolicy == .quarantine)
        #expect(record.effectiveNonExistentPolicy == .quarantine, "np falls back to sp")
        #expect(record.aggregateReportURIs?.first?.host == DomainName(labels: ["example", "com"]))
        #expect(record.aggregateReportURIs?.first?.sizeLimit == "5k")
        #expect(record.removedTags == [DMARCTag(name: "pct", value: "20")])
        let bare = try DMARCRecord(parsing: "v=DMARC1")
        #expect(bare.effectivePolicy == .none && bare.effectiveNonExistentPolicy == .none && !bare.isTesting)
        #expect(DMARCPolicy.none < .quarantine && DMARCPolicy.quarantine < .reject)
    }

    /// (record, tag named by the error, offset, reason, why it is invalid).
    static let badRecords: [(String, String, Int, DMARCParseError.Reason, String)] = [
        ("p=reject; v=DMARC1", "p", 0, .notDMARCVersion, "v must be the first tag (RFC 9989 §4.7)"),
        ("v=DMARC2; p=none", "v", 0, .notDMARCVersion, "the only version is DMARC1"),
        ("v=dmarc1; p=none", "v", 0, .notDMARCVersion, "the version value is case-sensitive (%s\"DMARC1\")"),
        (" v=DMARC1; p=none", "v", 0, .notDMARCVersion, "the record must start with v"),
        ("v=DMARC1; p=block", "p", 12, .badPolicy("block"), "p is none, quarantine or reject"),
        ("v=DMARC1; p=none; sp=maybe", "sp", 21, .badPolicy("maybe"), "sp takes a policy"),
        ("v=DMARC1; p=none; np=", "np", 21, .emptyValue, "a tag needs a value (1*dmarc-value)"),
        ("v=DMARC1; p=none; p=reject", "p", 18, .duplicateTag, "a tag may appear once"),
        ("v=DMARC1; p=none; t=yes", "t", 20, .badValue("yes", allowed: ["y", "n"]), "t is y or n"),
        ("v=DMARC1; p=none; adkim=x", "adkim", 24, .badValue("x", allowed: ["r", "s"]), "alignment is r or s"),
        ("v=DMARC1; p=none; psd=q", "psd", 22, .badValue("q", allowed: ["y", "n", "u"]), "psd is y, n or u"),
        ("v=DMARC1; p=none; rua=dmarc@example.com", "rua", 22,
         .badURI(DMARCURIError(uri: "dmarc@example.com", reason: .noScheme)), "a report address is a URI, with mailto:"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com,mailto:dmarc", "rua", 43,
         .badURI(DMARCURIError(uri: "mailto:dmarc", reason: .badMailbox("dmarc"))), "the offset points at the bad URI in the list"),
        ("v=DMARC1; p=none; ruf=mailto:a b@example.com", "ruf", 22,
         .badURI(DMARCURIError(uri: "mailto:a b@example.com", reason: .mustBeEncoded(" "))), "a space must be encoded"),
        ("v=DMARC1; p=none; rua=mailto:a@example.com!10x", "rua", 22,
         .badURI(DMARCURIError(uri: "mailto:a@example.com!10x", reason: .badSizeLimit("10x"))), "the size unit is k, m, g or t"),
        ("v=DMARC1; p=none; fo=0:1", "fo", 21, .badFailureOptions("0:1"), "0 and 1 exclude each other"),
        ("v=DMARC1; p=none; fo=2", "fo", 21, .badFailureOptions("2"), "fo is 0, 1, d or s"),
        ("v=DMARC1; p=none; r2=x", "r2", 18, .badTagName, "tag names are letters only"),
        ("v=DMARC1; p=none; junk", "junk", 18, .missingEquals, "a tag needs '='"),
        ("v=DMARC1; p=n\u{F6}ne", "", 13, .nonASCII("\u{F6}"), "records are ASCII"),
    ]

    @Test("invalid records are refused, naming the tag and offset", arguments: badRecords)
    func bad(_ text: String, _ tag: String, _ offset: Int, _ reason: DMARCParseError.Reason, _ why: String) {
        #expect(throws: DMARCParseError(tag: tag, offset: offset, reason: reason), "\(why)") {
            try DMARCRecord(parsing: text)
        }
    }

    /// (TXT texts, expected outcome, why).
    static let selections: [([String], DMARCRecordSelection.Outcome, String)] = [
        (["v=DMARC1; p=none"], .record("v=DMARC1; p=none"), "one record"),
        (["v=spf1 -all", "v=DMARC1; p=none"], .record("v=DMARC1; p=none"), "other TXT records are discarded"),
        (["v=DMARC1; p=none", "v=DMARC1; p=reject"], .multiple(["v=DMARC1; p=none", "v=DMARC1; p=reject"]), "two records"),
        (["v=DMARC10; p=none"], .none, "DMARC10 is not DMARC1"),
        (["v = DMARC1;p=none"], .record("v = DMARC1;p=none"), "whitespace around '='"),
        (["p=none; v=DMARC1"], .none, "a record must start with v"),
        ([], .none, "no TXT records"),
    ]

    @Test("record selection", arguments: selections)
    func selection(_ texts: [String], _ outcome: DMARCRecordSelection.Outcome, _ why: String) {
        #expect(DMARCRecordSelection(texts: texts).outcome == outcome, "\(why)")
    }

    @Test func nearMissesAreNoticed() {
        let selection = DMARCRecordSelection(texts: ["p=reject; v=DMARC1", "hello"])
        #expect(selection.outcome == .none)
        #expect(selection.nearMisses == ["p=reject; v=DMARC1"])
    }
}

@Suite("DMARC reporting URIs")
struct DMARCURITests {
    /// (URI, address, host, size, why).
    static let good: [(String, String?, String?, String?, String)] = [
        ("mailto:dmarc@example.com", "dmarc@example.com", "example.com", nil, "the usual form"),
        ("MAILTO:Dmarc@Example.COM", "Dmarc@Example.COM", "example.com", nil, "the scheme is case-insensitive; the host is folded"),
        ("mailto:dmarc@example.com!10m", "dmarc@example.com", "example.com", "10m", "the obsolete size suffix (RFC 9989 §4.8)"),
        ("mailto:dmarc@example.com!100", "dmarc@example.com", "example.com", "100", "a size without a unit"),
        ("mailto:a%40b@example.com", "a@b@example.com", "example.com", nil, "percent-encoding is decoded"),
        ("mailto:d@example.com?subject=x", "d@example.com", "example.com", nil, "header fields are ignored"),
        ("https://user@reports.example.net:8443/x", nil, "reports.example.net", nil, "the host of an https URI"),
    ]

    @Test("valid URIs", arguments: good)
    func valid(_ text: String, _ address: String?, _ host: String?, _ size: String?, _ why: String) throws {
        let uri = try DMARCURI(parsing: text)
        #expect(uri.address == address, "\(why)")
        #expect(uri.host?.description == host, "\(why)")
        #expect(uri.sizeLimit == size, "\(why)")
        #expect(uri.description == text, "\(why): the URI renders as written")
    }

    /// (URI, reason, why).
    static let bad: [(String, DMARCURIError.Reason, String)] = [
        ("", .empty, "nothing"),
        ("dmarc@example.com", .noScheme, "no scheme"),
        ("1mailto:d@example.com", .noScheme, "a scheme starts with a letter"),
        ("mailto:d@example.com!", .badSizeLimit(""), "'!' must be followed by a size"),
        ("mailto:d@example.com!1q", .badSizeLimit("1q"), "q is no unit"),
        ("mailto:d@example.com!1m!2m", .mustBeEncoded("!"), "a second '!' must be encoded"),
        ("mailto:d@ex ample.com", .mustBeEncoded(" "), "spaces must be encoded"),
        ("mailto:d@example.com%2", .badPercentEncoding, "'%' needs two hex digits"),
        ("mailto:@example.com", .badMailbox("@example.com"), "no local part"),
        ("mailto:d@localhost", .badMailbox("d@localhost"), "a single-label domain"),
    ]

    @Test("invalid URIs", arguments: bad)
    func invalid(_ text: String, _ reason: DMARCURIError.Reason, _ why: String) {
        #expect(throws: DMARCURIError(uri: text, reason: reason), "\(why)") { try DMARCURI(parsing: text) }
    }
}
