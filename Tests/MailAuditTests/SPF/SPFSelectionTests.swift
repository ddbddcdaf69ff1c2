import MailAuditCore
import MailAuditRecords
import Testing

@Suite("SPF record selection")
struct SPFSelectionTests {
    /// (TXT records as strings, expected outcome, why).
    static let table: [([[String]], SPFRecordSelection.Outcome, String)] = [
        ([["v=spf1 -all"]], .record("v=spf1 -all"), "one record"),
        ([["v=spf1 ip4:", "192.0.2.5 -all"]], .record("v=spf1 ip4:192.0.2.5 -all"), "strings are joined with no separator (§3.3)"),
        ([["v=spf1", "mx"]], .none, "joined to \"v=spf1mx\", which is no SPF record (§4.5)"),
        ([["v=spf1"]], .record("v=spf1"), "the version alone is a record"),
        ([["v=spf10 -all"]], .none, "v=spf10 is another version"),
        ([["V=SpF1 ~all"]], .record("V=SpF1 ~all"), "the version is case-insensitive"),
        ([["google-site-verification=abc"], ["v=spf1 -all"]], .record("v=spf1 -all"), "other TXT records are ignored"),
        ([["v=spf1 -all"], ["v=spf1 +all"]], .multiple(["v=spf1 -all", "v=spf1 +all"]), "two records (§4.5: permerror)"),
        ([["v=spf1 -all"], ["v=spf1 -all"]], .multiple(["v=spf1 -all", "v=spf1 -all"]), "even identical ones"),
        ([], .none, "no TXT records"),
        ([[]], .none, "a TXT record with no strings"),
        ([["\u{96}"], ["v=spf1 a -all"]], .record("v=spf1 a -all"), "non-ASCII in other records is none of our business"),
    ]

    @Test("selecting the record (RFC 7208 §4.5)", arguments: table)
    func select(_ records: [[String]], _ outcome: SPFRecordSelection.Outcome, _ why: String) {
        let selection = SPFRecordSelection(txtStrings: records.map { $0.map { Array($0.utf8) } })
        #expect(selection.outcome == outcome, "\(why)")
        #expect(selection.texts.count == records.count)
        if case .record(let text) = outcome { #expect(selection.selected == text) } else { #expect(selection.selected == nil) }
    }

    @Test("records of other types in an answer are ignored")
    func fromRecords() {
        let name = DomainName(labels: ["example", "com"])
        let selection = SPFRecordSelection(records: [
            DNSRecord(name: name, type: .txt, ttl: 300, data: .txt([Array("v=spf1 ".utf8), Array("-all".utf8)])),
            DNSRecord(name: name, type: .a, ttl: 300, data: .a(IPAddress("192.0.2.1")!)),
        ])
        #expect(selection.outcome == .record("v=spf1 -all"))
    }

    @Test("answer size against 512 octets (RFC 7208 §3.4)")
    func answerSize() {
        let name = DomainName(labels: ["example", "com"])
        // 12 header + (13 name + 4) question + (2 pointer + 10 fixed + 1 length + 11 text) answer.
        #expect(SPFAnswerSize.estimate(name: name, txtStrings: [[Array("v=spf1 -all".utf8)]]) == 53)
        #expect(!SPFAnswerSize.exceedsUDPLimit(name: name, txtStrings: [[Array("v=spf1 -all".utf8)]]))
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 255)
        // Three long strings in one record plus a second record do not fit.
        #expect(SPFAnswerSize.exceedsUDPLimit(name: name, txtStrings: [[long, long], [long]]))
        #expect(SPFAnswerSize.estimate(name: name, txtStrings: [[long], [long]]) == 12 + 17 + 2 * (12 + 256))
    }
}
