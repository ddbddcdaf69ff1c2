public import Foundation

/// Where the chain verification looks for trusted roots.
public enum TLSTrust: Hashable, Sendable {
    /// The system trust store (OpenSSL's default paths, /etc/ssl/certs on Debian).
    case system
    /// The PEM certificates in this file only (`--ca-file`, and tests).
    case caFile(String)
}

/// What a ``TLSClient`` does with a certificate that fails verification.
public enum TLSVerificationMode: Hashable, Sendable {
    /// The auditor's mode: the handshake completes whatever the certificate, and
    /// ``TLSFacts/verification`` reports every error (habit "observe, don't abort"). Old
    /// protocol versions and weak keys are allowed so that they can be reported.
    case observe
    /// For fetches that must be trustworthy, such as an MTA-STS policy over HTTPS
    /// (RFC 8461 §3.3): the chain must lead to a trusted root and match the server name
    /// (RFC 6125 §6.4), TLS 1.2 or later is required (RFC 8996), and OpenSSL's default security
    /// level applies. A failure aborts the handshake with ``TLSFailure/verificationFailed(_:)``
    /// or ``TLSFailure/protocolVersionRefused(_:)``.
    case strict
}

/// How a ``TLSClient`` connects and what it verifies against.
public struct TLSClientConfiguration: Hashable, Sendable {
    /// The expected server name: sent as SNI (RFC 6066 §3) and checked against the leaf
    /// certificate (RFC 6125 §6.4); for SMTP, the MX host name. An IP address is checked
    /// against the certificate's IP addresses and sent without SNI. Nil checks no name
    /// (refused in ``TLSVerificationMode/strict`` mode).
    public var serverName: String?
    public var trust: TLSTrust
    /// The time to verify validity periods at; nil means now. Tests inject a fixed time.
    public var verificationTime: Date?
    /// The lowest version offered. The default, TLS 1.0, lets the audit see and report a
    /// server stuck below TLS 1.2 (RFC 8996) instead of failing to connect. Strict mode never
    /// goes below TLS 1.2 (see ``effectiveMinimumVersion``).
    public var minimumVersion: TLSProtocolVersion
    /// Whether a bad certificate is observed (the default) or aborts the handshake.
    public var mode: TLSVerificationMode

    public init(
        serverName: String?, trust: TLSTrust = .system, verificationTime: Date? = nil, minimumVersion: TLSProtocolVersion = .tls1_0,
        mode: TLSVerificationMode = .observe
    ) {
        self.serverName = serverName
        self.trust = trust
        self.verificationTime = verificationTime
        self.minimumVersion = minimumVersion
        self.mode = mode
    }

    /// A strict configuration: verified chain, checked name, TLS 1.2 or later.
    ///
    /// ```swift
    /// let configuration = TLSClientConfiguration.strict(serverName: "mta-sts.example.com")
    /// ```
    public static func strict(serverName: String, trust: TLSTrust = .system, verificationTime: Date? = nil) -> TLSClientConfiguration {
        TLSClientConfiguration(serverName: serverName, trust: trust, verificationTime: verificationTime, minimumVersion: .tls1_2, mode: .strict)
    }

    /// The version floor the handshake uses: ``minimumVersion``, raised to TLS 1.2 in strict mode.
    public var effectiveMinimumVersion: TLSProtocolVersion {
        mode == .strict ? max(minimumVersion, .tls1_2) : minimumVersion
    }
}

/// Why a TLS handshake did not complete.
public enum TLSFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// The deadline passed during the handshake.
    case timedOut
    /// The server closed the connection during the handshake.
    case closed
    /// OpenSSL gave up; the text is its reason, for example
    /// "error:0A00010B:SSL routines::wrong version number".
    case handshakeFailed(String)
    /// The client could not be set up (an unreadable CA file, an OpenSSL allocation failure,
    /// strict mode without a server name).
    case configuration(String)
    /// Strict mode only: the chain failed verification and the handshake was aborted. The
    /// error names the reason (X509_verify_cert_error_string: "certificate has expired",
    /// "hostname mismatch", "unable to get local issuer certificate", …) and the certificate.
    case verificationFailed(VerifyError)
    /// Strict mode only: the server offers no protocol version at or above TLS 1.2
    /// (RFC 8996 §4, §5); the text is OpenSSL's reason, for example "unsupported protocol".
    case protocolVersionRefused(String)

    public var description: String {
        switch self {
        case .timedOut: "TLS handshake timed out"
        case .closed: "connection closed during the TLS handshake"
        case .handshakeFailed(let reason): "TLS handshake failed: \(reason)"
        case .configuration(let reason): "TLS setup failed: \(reason)"
        case .verificationFailed(let error): "certificate verification failed: \(error)"
        case .protocolVersionRefused(let reason): "TLS handshake failed: no protocol version at or above TLS 1.2 in common: \(reason)"
        }
    }
}

/// Why ``TLSClient/connect(to:port:configuration:connectTimeout:deadline:)`` failed.
public enum TLSConnectError: Error, Hashable, Sendable {
    case connect(ConnectError)
    case tls(TLSFailure)
}
