internal import COpenSSL
public import Foundation
public import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the chain verification looks for trusted roots.
public enum TLSTrust: Hashable, Sendable {
    /// The system trust store (OpenSSL's default paths, /etc/ssl/certs on Debian).
    case system
    /// The PEM certificates in this file only (`--ca-file`, and tests).
    case caFile(String)
}

/// How a ``TLSClient`` connects and what it verifies against.
public struct TLSClientConfiguration: Hashable, Sendable {
    /// The expected server name: sent as SNI (RFC 6066 §3) and checked against the leaf
    /// certificate (RFC 6125 §6.4); for SMTP, the MX host name. An IP address is checked
    /// against the certificate's IP addresses and sent without SNI. Nil checks no name.
    public var serverName: String?
    public var trust: TLSTrust
    /// The time to verify validity periods at; nil means now. Tests inject a fixed time.
    public var verificationTime: Date?
    /// The lowest version offered. The default, TLS 1.0, lets the audit see and report a
    /// server stuck below TLS 1.2 (RFC 8996) instead of failing to connect.
    public var minimumVersion: TLSProtocolVersion

    public init(serverName: String?, trust: TLSTrust = .system, verificationTime: Date? = nil, minimumVersion: TLSProtocolVersion = .tls1_0) {
        self.serverName = serverName
        self.trust = trust
        self.verificationTime = verificationTime
        self.minimumVersion = minimumVersion
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
    /// The client could not be set up (an unreadable CA file, an OpenSSL allocation failure).
    case configuration(String)

    public var description: String {
        switch self {
        case .timedOut: "TLS handshake timed out"
        case .closed: "connection closed during the TLS handshake"
        case .handshakeFailed(let reason): "TLS handshake failed: \(reason)"
        case .configuration(let reason): "TLS setup failed: \(reason)"
        }
    }
}

/// Why ``TLSClient/connect(to:port:configuration:connectTimeout:deadline:)`` failed.
public enum TLSConnectError: Error, Hashable, Sendable {
    case connect(ConnectError)
    case tls(TLSFailure)
}

/// A TLS client session over a ``TCPConnection``: STARTTLS (RFC 3207) starts it over the
/// SMTP connection; implicit TLS (RFC 8314 §3.3) starts it on a fresh one.
///
/// ```swift
/// let tls = try TLSClient.handshake(over: connection, configuration: .init(serverName: "mx1.example.com"), deadline: .now + .seconds(30))
/// print(tls.facts.protocolVersion, tls.facts.verification.result)
/// ```
///
/// The handshake always completes when the server's certificate is bad: the chain is
/// verified (against ``TLSClientConfiguration/trust`` at the injected time) but never
/// enforced, and ``facts`` reports what was found. Calls block the calling thread up to their
/// deadline: use it from a dedicated thread.
public final class TLSClient: ByteStream {
    /// What the handshake showed.
    public let facts: TLSFacts
    private let session: SSLSession
    private let connection: TCPConnection
    private var isClosed = false

    private init(session: SSLSession, connection: TCPConnection, facts: TLSFacts) {
        self.session = session
        self.connection = connection
        self.facts = facts
    }

    /// Runs a client handshake over an already connected socket, for example right after the
    /// server's `220` reply to `STARTTLS`.
    ///
    /// - Throws: ``TLSFailure`` when the handshake does not complete: timed out, closed by the
    ///   server, refused by OpenSSL (with its reason) or not set up.
    public static func handshake(
        over connection: TCPConnection, configuration: TLSClientConfiguration, deadline: ContinuousClock.Instant
    ) throws(TLSFailure) -> TLSClient {
        let context = try TLSContext(trust: configuration.trust, minimumVersion: configuration.minimumVersion)
        let session = try SSLSession(context: context, descriptor: connection.descriptor, configuration: configuration)
        try session.handshake(deadline: deadline)
        let facts = session.facts(configuration: configuration)
        return TLSClient(session: session, connection: connection, facts: facts)
    }

    /// Connects to `address`:`port` and runs a handshake at once (implicit TLS, RFC 8314 §3.3).
    ///
    /// - Throws: ``TLSConnectError/connect(_:)`` when the TCP connection fails,
    ///   ``TLSConnectError/tls(_:)`` when the handshake does.
    public static func connect(
        to address: IPAddress, port: UInt16, configuration: TLSClientConfiguration, connectTimeout: Duration,
        deadline: ContinuousClock.Instant
    ) throws(TLSConnectError) -> TLSClient {
        let connection: TCPConnection
        do { connection = try TCPConnection.connect(to: address, port: port, timeout: min(connectTimeout, deadline - .now)) }
        catch { throw .connect(error) }
        do { return try handshake(over: connection, configuration: configuration, deadline: deadline) }
        catch { throw .tls(error) }
    }

    public func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(StreamError) -> [UInt8] {
        guard !isClosed else { throw .closed }
        return try session.read(upTo: maxBytes, deadline: deadline)
    }

    public func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(StreamError) {
        guard !isClosed else { throw .closed }
        try session.write(bytes, deadline: deadline)
    }

    /// Sends close_notify once (without waiting for the answer) and closes the socket.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        session.shutdown()
        connection.close()
    }
}

/// Owns one `SSL` and the recorder its verify callback writes to.
final class SSLSession {
    let pointer: OpaquePointer
    /// SSL_new takes its own reference on the SSL_CTX; holding ours as well keeps the
    /// lifetimes plain to read.
    private let context: TLSContext
    private let recorder = VerificationRecorder()
    private let descriptor: Int32

    init(context: TLSContext, descriptor: Int32, configuration: TLSClientConfiguration) throws(TLSFailure) {
        // SSL_new: freed with SSL_free in deinit; it holds its own reference on the context.
        guard let ssl = SSL_new(context.pointer) else {
            throw .configuration("SSL_new: \(drainOpenSSLErrors() ?? "failed")")
        }
        pointer = ssl
        self.context = context
        self.descriptor = descriptor
        // SSL_set_fd wraps the descriptor in a socket BIO that the SSL owns and frees; the BIO
        // does not close the descriptor (BIO_NOCLOSE): the TCPConnection does.
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            throw .configuration("SSL_set_fd: \(drainOpenSSLErrors() ?? "failed")")
        }
        // App data (ex_data 0) points at the recorder, unretained: this object outlives the SSL's use of it.
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(recorder).toOpaque())
        if let name = configuration.serverName, !name.isEmpty {
            // All copy the name. SNI carries host names only (RFC 6066 §3); an address
            // literal is checked against the certificate's IP addresses instead.
            if IPAddress(name) == nil {
                _ = mailaudit_SSL_set_tlsext_host_name(ssl, name)
                _ = SSL_set1_host(ssl, name)
            } else {
                _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)  // the param is borrowed
            }
        }
        if let time = configuration.verificationTime {
            // SSL_get0_param: borrowed from the SSL. set_time also turns on X509_V_FLAG_USE_CHECK_TIME.
            X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), time_t(time.timeIntervalSince1970.rounded(.down)))
        }
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(pointer) }

    func handshake(deadline: ContinuousClock.Instant) throws(TLSFailure) {
        while true {
            ERR_clear_error()
            let result = withSIGPIPESuppressed { SSL_do_handshake(pointer) }
            if result == 1 { return }
            let error = SSL_get_error(pointer, result)
            let savedErrno = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
                switch waitForSocket(descriptor, events: events, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut
                case .failed(let code): throw .handshakeFailed(errnoText(code))
                }
            case SSL_ERROR_ZERO_RETURN:
                throw .closed
            case SSL_ERROR_SYSCALL:
                if openSSLErrorIsUnexpectedEOF() { _ = drainOpenSSLErrors(); throw .closed }
                if let reason = drainOpenSSLErrors() { throw .handshakeFailed(reason) }
                if savedErrno == 0 || savedErrno == ECONNRESET || savedErrno == EPIPE { throw .closed }
                throw .handshakeFailed(errnoText(savedErrno))
            default:
                if openSSLErrorIsUnexpectedEOF() { _ = drainOpenSSLErrors(); throw .closed }
                throw .handshakeFailed(drainOpenSSLErrors() ?? "SSL error \(error)")
            }
        }
    }

    /// Copies the negotiated parameters, the chain and the verification out of the SSL.
    func facts(configuration: TLSClientConfiguration) -> TLSFacts {
        // SSL_get_current_cipher: borrowed; SSL_CIPHER_get_name: a static string.
        let cipher = SSL_get_current_cipher(pointer).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "unknown"
        var chain: [CertificateFacts] = []
        var leaf: OpaquePointer?
        // SSL_get_peer_cert_chain: borrowed; on the client side it starts with the leaf.
        if let stack = SSL_get_peer_cert_chain(pointer) {
            for index in 0..<min(20, max(0, mailaudit_sk_X509_num(stack))) {
                guard let certificate = mailaudit_sk_X509_value(stack, index) else { continue }  // borrowed
                if index == 0 { leaf = certificate }
                chain.append(CertificateFacts(certificate: certificate))
            }
        }
        if leaf == nil { leaf = SSL_get0_peer_certificate(pointer) }  // borrowed
        var hostNameMatches: Bool?
        if let name = configuration.serverName, !name.isEmpty, let leaf {
            hostNameMatches = IPAddress(name) == nil
                ? X509_check_host(leaf, name, name.utf8.count, 0, nil) == 1
                : X509_check_ip_asc(leaf, name, 0) == 1
        }
        let verifiedAt = configuration.verificationTime ?? Date()
        let errors = recorder.errors
        let verification = ChainVerification(
            result: VerifyCode(rawValue: SSL_get_verify_result(pointer)),
            errors: errors,
            hostNameMatches: hostNameMatches,
            hostName: configuration.serverName,
            verifiedAt: verifiedAt,
            daysUntilExpiry: chain.first?.daysUntilExpiry(at: verifiedAt),
            untrusted: UntrustedChain.classify(errors))
        return TLSFacts(
            protocolVersion: TLSProtocolVersion(rawValue: Int(SSL_version(pointer))), cipher: cipher, peerChain: chain,
            verification: verification)
    }

    func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(StreamError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(1, min(maxBytes, 65_536)))
        while true {
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { raw in
                withSIGPIPESuppressed { SSL_read(pointer, raw.baseAddress, Int32(raw.count)) }
            }
            if count > 0 { return Array(buffer.prefix(Int(count))) }
            let error = SSL_get_error(pointer, count)
            let savedErrno = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
                switch waitForSocket(descriptor, events: events, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut
                case .failed(let code): throw StreamError(errno: code)
                }
            case SSL_ERROR_ZERO_RETURN:
                return []
            case SSL_ERROR_SYSCALL:
                if openSSLErrorIsUnexpectedEOF() || savedErrno == 0 { _ = drainOpenSSLErrors(); return [] }
                if let reason = drainOpenSSLErrors() { throw .failed(reason) }
                throw StreamError(errno: savedErrno)
            default:
                // A server that closes without close_notify (common after QUIT) ends the stream.
                if openSSLErrorIsUnexpectedEOF() { _ = drainOpenSSLErrors(); return [] }
                throw .failed(drainOpenSSLErrors() ?? "SSL error \(error)")
            }
        }
    }

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(StreamError) {
        guard !bytes.isEmpty else { return }
        while true {
            ERR_clear_error()
            // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write writes all or nothing, and a
            // retry must pass the same buffer.
            let count = bytes.withUnsafeBytes { raw in
                withSIGPIPESuppressed { SSL_write(pointer, raw.baseAddress, Int32(raw.count)) }
            }
            if count > 0 { return }
            let error = SSL_get_error(pointer, count)
            let savedErrno = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
                switch waitForSocket(descriptor, events: events, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut
                case .failed(let code): throw StreamError(errno: code)
                }
            case SSL_ERROR_ZERO_RETURN:
                throw .closed
            case SSL_ERROR_SYSCALL:
                if let reason = drainOpenSSLErrors() { throw .failed(reason) }
                throw savedErrno == 0 ? .closed : StreamError(errno: savedErrno)
            default:
                throw .failed(drainOpenSSLErrors() ?? "SSL error \(error)")
            }
        }
    }

    /// One non-blocking SSL_shutdown: sends close_notify if it can, waits for nothing.
    func shutdown() {
        ERR_clear_error()
        _ = withSIGPIPESuppressed { SSL_shutdown(pointer) }
        ERR_clear_error()
    }
}
