/// A connected byte stream with deadlines: a plain TCP connection or TLS over one.
///
/// The SMTP client talks to this protocol only, so the same dialogue runs in the clear,
/// after STARTTLS (RFC 3207) and over implicit TLS (RFC 8314 §3.3). Implementations block
/// the calling thread (up to the deadline): call them from a dedicated thread, never from
/// Swift's cooperative pool. An instance is used by one thread at a time.
public protocol ByteStream: AnyObject {
    /// Reads at most `maxBytes` bytes, waiting until at least one arrives or `deadline` passes.
    ///
    /// Returns an empty array at end of stream (the peer closed the connection).
    /// - Throws: ``StreamError/timedOut`` at the deadline, ``StreamError/failed(_:)`` on an
    ///   error of the socket or of TLS.
    func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(StreamError) -> [UInt8]

    /// Writes every byte of `bytes` before `deadline`.
    ///
    /// - Throws: ``StreamError/timedOut`` at the deadline, ``StreamError/closed`` when the peer
    ///   has gone, ``StreamError/failed(_:)`` on any other error.
    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(StreamError)

    /// Closes the stream; later reads and writes fail. Safe to call more than once.
    func close()
}

/// Why a read or write on a ``ByteStream`` did not complete.
public enum StreamError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The deadline passed first.
    case timedOut
    /// The peer closed or reset the connection.
    case closed
    /// The socket or TLS layer reported an error (errno text or the OpenSSL reason).
    case failed(String)

    public var description: String {
        switch self {
        case .timedOut: "timed out"
        case .closed: "connection closed by the peer"
        case .failed(let reason): reason
        }
    }
}
