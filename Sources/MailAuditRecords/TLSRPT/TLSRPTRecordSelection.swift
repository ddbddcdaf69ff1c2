public import MailAuditCore

/// The TLS-RPT record chosen among the TXT records at `_smtp._tls.<domain>` (RFC 8460 §3).
///
/// Each TXT record's strings are joined with no separator. "Records that do not begin with
/// `v=TLSRPTv1;` are discarded. If the number of resulting records is not one, senders MUST
/// assume the recipient domain does not implement TLSRPT."
///
/// ```swift
/// TLSRPTRecordSelection(texts: ["v=TLSRPTv1; rua=mailto:r@example.com", "other"]).outcome  // .record(…)
/// TLSRPTRecordSelection(texts: ["rua=mailto:r@example.com; v=TLSRPTv1"]).nearMisses       // that record: discarded
/// ```
public struct TLSRPTRecordSelection: Hashable, Sendable {
    /// Every TXT record, joined, in the order given.
    public let texts: [String]
    /// The records that start with `v=TLSRPTv1`.
    public let candidates: [String]
    /// Records that mention TLSRPTv1 (in any case) but do not start with `v=TLSRPTv1`: senders
    /// discard them, though their publisher meant them as TLS-RPT records.
    public let nearMisses: [String]

    public init(texts: [String]) {
        self.texts = texts
        candidates = texts.filter(Self.isTLSRPT)
        nearMisses = texts.filter { !Self.isTLSRPT($0) && $0.lowercasedASCII.contains("tlsrptv1") }
    }

    /// Selects among the TXT records of an answer; records of other types are ignored.
    public init(records: [DNSRecord]) {
        self.init(texts: records.compactMap(\.data.joinedText))
    }

    /// None, one, or several TLS-RPT records; several count as none for senders.
    public var outcome: RecordSelectionOutcome { RecordSelectionOutcome(candidates: candidates) }

    /// The record starts with `v=TLSRPTv1`, then the end, whitespace or ";".
    public static func isTLSRPT(_ text: String) -> Bool { startsWithVersion(text, "v=TLSRPTv1") }

    /// True when `text` starts with `version` (case-sensitive), followed by the end, whitespace
    /// or ";": the test for `v=TLSRPTv1` and for MTA-STS's `v=STSv1` (RFC 8461 §3.1).
    public static func startsWithVersion(_ text: String, _ version: String) -> Bool {
        guard text.hasPrefix(version) else { return false }
        let rest = text.dropFirst(version.count)
        return rest.isEmpty || rest.first == ";" || rest.first == " " || rest.first == "\t"
    }
}
