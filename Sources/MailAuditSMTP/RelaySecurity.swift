/// How the relay session starts TLS (`--security`).
public enum RelaySecurity: String, Hashable, Sendable, Codable, CaseIterable {
    /// Implicit TLS on 465, STARTTLS on every other port.
    case auto
    case starttls
    case implicit
    /// No TLS at all, even when offered.
    case none

    /// What to do on `port`.
    public func resolved(for port: UInt16) -> SMTPSecurity {
        switch self {
        case .auto: RelayPorts.implicitTLSPorts.contains(port) ? .implicitTLS : .startTLS
        case .starttls: .startTLS
        case .implicit: .implicitTLS
        case .none: .plain
        }
    }
}

/// The candidate ports, in order of preference, when none is given.
public enum RelayPorts {
    /// Submission (RFC 6409), submissions over implicit TLS (RFC 8314), SMTP, and the
    /// alternative many providers open because 25 and 587 are often blocked.
    public static let candidates: [UInt16] = [587, 465, 25, 2525]
    /// Ports where TLS starts with the first byte under `--security auto`.
    public static let implicitTLSPorts: Set<UInt16> = [465, 2465]
}
