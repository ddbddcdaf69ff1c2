public import MailAuditCore

/// A TLS client session over a ``TCPConnection``: STARTTLS (RFC 3207) starts it over the
/// SMTP connection; implicit TLS (RFC 8314 §3.3) starts it on a fresh one.
///
/// ```swift
/// let tls = try TLSClient.handshake(over: connection, configuration: .init(serverName: "mx1.example.com"), deadline: .now + .seconds(30))
/// print(tls.facts.protocolVersion, tls.facts.verification.result)
/// ```
///
/// In the default ``TLSVerificationMode/observe`` mode the handshake completes when the
/// server's certificate is bad: the chain is verified (against ``TLSClientConfiguration/trust``
/// at the injected time) but not enforced, and ``facts`` reports what was found. In
/// ``TLSVerificationMode/strict`` mode a bad certificate or a version below TLS 1.2 aborts the
/// handshake instead.
///
/// Handshakes with the same trust, mode and version floor share one `SSL_CTX`, made on first
/// use: the CA file is read once, and again only when it changes on disk. Calls block the
/// calling thread up to their deadline: use it from a dedicated thread.
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
    ///   server, refused by OpenSSL (with its reason) or not set up; in strict mode also a
    ///   certificate that fails verification and a server below TLS 1.2.
    public static func handshake(
        over connection: TCPConnection, configuration: TLSClientConfiguration, deadline: ContinuousClock.Instant
    ) throws(TLSFailure) -> TLSClient {
        if configuration.mode == .strict, (configuration.serverName ?? "").isEmpty {
            throw .configuration("strict verification needs a server name to check")
        }
        let context = try TLSContextCache.shared.context(for: TLSContextKey(configuration))
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

    /// The address of the `SSL_CTX` this session was made from, for tests that check sharing.
    var contextAddress: UInt { session.contextAddress }

    /// Sends close_notify once (without waiting for the answer) and closes the socket.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        session.shutdown()
        connection.close()
    }
}
