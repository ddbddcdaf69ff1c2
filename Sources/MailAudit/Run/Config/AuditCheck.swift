/// The checks an audit can run (`checks = [...]` in the config, `--checks` later).
public enum AuditCheck: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case mx, rdns, spf, dkim, dmarc, probe

    public var description: String { rawValue }
}
