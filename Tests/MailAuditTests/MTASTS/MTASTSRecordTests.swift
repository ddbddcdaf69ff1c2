import MailAuditCore
import MailAuditRecords
import Testing

@Suite("MTA-STS TXT record")
struct MTASTSRecordTests {
    /// (record, canonical form, why it is valid).
    static let goodRecords: [(String, String, String)] = [
        ("v=STSv1; id=20160831085700Z", "v=STSv1; id=20160831085700Z", "the example of RFC 8461 §3.1"),
        ("v=STSv1;id=1", "v=STSv1; id=1", "no space after ';'"),
        ("v=STSv1; id=abc;", "v=STSv1; id=abc", "a trailing ';' (sts-field-delim)"),
        ("v=STSv1 ;  id=abc", "v=STSv1; id=abc", "whitespace around ';'"),
        ("v=STSv1; id=" + String(repeating: "a", count: 32), "v=STSv1; id=" + String(repeating: "a", count: 32), "an id of 32 characters"),
        ("v=STSv1; id=x1; ext_1.a-b=va!ue", "v=STSv1; id=x1; ext_1.a-b=va!ue", "an extension with the characters its grammar allows"),
        ("v=STSv1; foo=bar; id=9", "v=STSv1; id=9; foo=bar", "id need not come right after v"),
    ]

    @Test("valid records parse and render canonically", arguments: goodRecords)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let record = try MTASTSRecord(parsing: text)
        #expect(record.description == canonical, "\(reason)")
        #expect(try MTASTSRecord(parsing: record.description) == record, "round trip: \(reason)")
    }

    @Test func aRepeatedFieldKeepsItsFirstValue() throws {
        let record = try MTASTSRecord(parsing: "v=STSv1; id=first; id=second")
        #expect(record.id == "first")
        #expect(record.ignoredDuplicates == [TagListTag(name: "id", value: "second")])
    }

    /// (record, field named by the error, offset, reason, why it is invalid).
    static let badRecords: [(String, String, Int, MTASTSRecordError.Reason, String)] = [
        ("id=1; v=STSv1", "id", 0, .notSTSVersion, "v=STSv1 must come first"),
        ("v=STSv2; id=1", "v", 0, .notSTSVersion, "the only version is STSv1"),
        ("v=stsv1; id=1", "v", 0, .notSTSVersion, "the version is case-sensitive (%s\"v=STSv1\")"),
        ("v = STSv1; id=1", "v", 0, .notSTSVersion, "no whitespace in sts-version"),
        ("v=STSv1", "", 7, .missingID, "id is required"),
        ("v=STSv1; id=2024-01-01", "id", 12, .badID("2024-01-01"), "an id is letters and digits only"),
        ("v=STSv1; id=" + String(repeating: "7", count: 33), "id", 12, .badID(String(repeating: "7", count: 33)), "an id has at most 32 characters"),
        ("v=STSv1; id =1", "id", 9, .whitespaceAroundEquals, "sts-id is %s\"id=\" with nothing between"),
        ("v=STSv1; id= 1", "id", 9, .whitespaceAroundEquals, "nor after the '='"),
        ("v=STSv1; ID=1", "ID", 9, .caseSensitiveName("id"), "field names are case-sensitive"),
        ("v=STSv1; id=", "id", 12, .emptyValue, "an id cannot be empty"),
        ("v=STSv1; id=1; junk", "junk", 15, .missingEquals, "a field needs '='"),
        ("v=STSv1; id=1; _x=1", "_x", 15, .badTagName, "an extension name starts with a letter or digit"),
        ("v=STSv1; id=1; x=a=b", "x", 18, .badExtensionValue("="), "'=' cannot appear in an extension value"),
        ("v=STSv1; id=1; x=a b", "x", 18, .badExtensionValue(" "), "nor a space"),
        ("v=STSv1; id=1\u{E9}", "", 13, .nonASCII("\u{E9}"), "records are ASCII"),
    ]

    @Test("invalid records are refused, naming the field and offset", arguments: badRecords)
    func bad(_ text: String, _ tag: String, _ offset: Int, _ reason: MTASTSRecordError.Reason, _ why: String) {
        #expect(throws: MTASTSRecordError(tag: tag, offset: offset, reason: reason), "\(why)") {
            try MTASTSRecord(parsing: text)
        }
    }

    @Test func errorsNameTheirPlace() {
        let error = MTASTSRecordError(tag: "id", offset: 12, reason: .badID("2024-01-01"))
        #expect(error.description == "tag \"id\" at offset 12: \"2024-01-01\" is not an id: 1 to 32 letters and digits, nothing else")
    }

    /// (TXT records at the name, the selection, its near misses, why).
    static let selections: [([String], RecordSelectionOutcome, [String], String)] = [
        ([], .none, [], "no TXT record"),
        (["v=spf1 -all"], .none, [], "other records are discarded"),
        (["v=STSv1; id=1", "site-verification=x"], .record("v=STSv1; id=1"), [], "one record among others"),
        (["v=STSv1; id=1", "v=STSv1; id=2"], .multiple(["v=STSv1; id=1", "v=STSv1; id=2"]), [], "two records: no policy (RFC 8461 §3.1)"),
        (["id=1; v=STSv1"], .none, ["id=1; v=STSv1"], "a record that does not begin with v=STSv1 is ignored, and worth a warning"),
        (["v=STSv10; id=1"], .none, ["v=STSv10; id=1"], "a longer version is no STSv1 record"),
    ]

    @Test("the record is chosen among the TXT records", arguments: selections)
    func selection(_ texts: [String], _ outcome: RecordSelectionOutcome, _ nearMisses: [String], _ why: String) {
        let selection = MTASTSRecordSelection(texts: texts)
        #expect(selection.outcome == outcome, "\(why)")
        #expect(selection.nearMisses == nearMisses, "\(why)")
    }
}
