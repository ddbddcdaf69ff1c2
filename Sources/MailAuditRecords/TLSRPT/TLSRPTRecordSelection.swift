/// TLS-RPT records among the TXT records at `_smtp._tls.<domain>` (RFC 8460 §3): "Records that
/// do not begin with `v=TLSRPTv1;` are discarded. If the number of resulting records is not one,
/// senders MUST assume the recipient domain does not implement TLSRPT."
public typealias TLSRPTRecordSelection = TXTRecordSelection<TLSRPTRecordKind>

public enum TLSRPTRecordKind: TXTRecordKind {
    public static let versionWord = "tlsrptv1"

    /// `v=TLSRPTv1`, then the end, whitespace or ";".
    public static func matches(_ text: String) -> Bool { TLSRPTRecordSelection.startsWithVersion(text, "v=TLSRPTv1") }
}
