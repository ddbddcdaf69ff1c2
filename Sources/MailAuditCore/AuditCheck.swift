/// The checks an audit can run (`checks = [...]` in the config, `--checks`).
public enum AuditCheck: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case mx, rdns, spf, dkim, dmarc, probe, dnssec
    case mtaSTS = "mta-sts", tlsRPT = "tls-rpt", dane, dnsbl, bimi

    public var description: String { rawValue }

    /// "mx, rdns, …": every name, for help and messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
