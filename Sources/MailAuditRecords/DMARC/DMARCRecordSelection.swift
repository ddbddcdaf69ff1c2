public import MailAuditCore

/// The DMARC record chosen among the TXT records at a `_dmarc` name (RFC 9989 §4.10 steps 2 and 6).
///
/// Each TXT record's strings are joined with no separator (RFC 9989 §4.5). A record is a DMARC
/// record when it starts with the `v` tag, "=", and `DMARC1`, followed by the end, whitespace or
/// ";". Other records are discarded; so are all of them when more than one is a DMARC record.
///
/// ```swift
/// DMARCRecordSelection(texts: ["v=DMARC1; p=none", "some-verification=abc"]).outcome  // .record("v=DMARC1; p=none")
/// DMARCRecordSelection(texts: ["p=reject; v=DMARC1"]).nearMisses   // ["p=reject; v=DMARC1"]: ignored by receivers
/// ```
public struct DMARCRecordSelection: Hashable, Sendable {
    /// Every TXT record, joined, in the order given.
    public let texts: [String]
    /// The records that start with `v=DMARC1`.
    public let candidates: [String]
    /// Records that mention DMARC1 but do not start with `v=DMARC1`: receivers ignore them,
    /// though their publisher meant them as DMARC records.
    public let nearMisses: [String]

    public init(texts: [String]) {
        self.texts = texts
        candidates = texts.filter(Self.isDMARC)
        nearMisses = texts.filter { !Self.isDMARC($0) && $0.lowercasedASCII.contains("dmarc1") }
    }

    /// Selects among the TXT records of an answer; records of other types are ignored.
    public init(records: [DNSRecord]) {
        self.init(texts: records.compactMap(\.data.joinedText))
    }

    /// `.none`: no DMARC record; `.record`: exactly one; `.multiple`: more than one, and all are discarded.
    public typealias Outcome = RecordSelectionOutcome

    /// None, one, or several DMARC records.
    public var outcome: Outcome { Outcome(candidates: candidates) }

    /// `"v" *WSP "=" *WSP "DMARC1"` then the end, whitespace or ";" (RFC 9989 §4.8).
    public static func isDMARC(_ text: String) -> Bool {
        var rest = Substring(text)
        guard rest.first == "v" || rest.first == "V" else { return false }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard rest.first == "=" else { return false }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard rest.hasPrefix("DMARC1") else { return false }
        rest = rest.dropFirst(6)
        return rest.isEmpty || rest.first == ";" || rest.first == " " || rest.first == "\t"
    }
}
