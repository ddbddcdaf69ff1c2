/// DMARC records among the TXT records at a `_dmarc` name (RFC 9989 §4.10 steps 2 and 6): a
/// record is a DMARC record when it starts with the `v` tag, "=", and `DMARC1`, followed by the
/// end, whitespace or ";". Other records are discarded; so are all of them when more than one
/// is a DMARC record.
public typealias DMARCRecordSelection = TXTRecordSelection<DMARCRecordKind>

public enum DMARCRecordKind: TXTRecordKind {
    public static let versionWord = "dmarc1"

    /// `"v" *WSP "=" *WSP "DMARC1"` then the end, whitespace or ";" (RFC 9989 §4.8).
    public static func matches(_ text: String) -> Bool {
        DMARCRecordSelection.startsWithVersionTag(Substring(text), value: "DMARC1") { $0 == "v" || $0 == "V" }
    }
}
