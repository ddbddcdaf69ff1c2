public import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP connection on a non-blocking socket, with poll()-based deadlines on every call.
///
/// ```swift
/// let connection = try TCPConnection.connect(to: IPAddress("192.0.2.25")!, port: 25, timeout: .seconds(10))
/// let greeting = try connection.read(upTo: 512, deadline: .now + .seconds(30))
/// ```
///
/// It owns its file descriptor and closes it in `deinit`. A ``TLSClient`` started over it
/// keeps it alive. Every call blocks the calling thread: use it from a dedicated thread.
public final class TCPConnection: ByteStream {
    /// The connected socket; -1 once closed.
    private(set) var descriptor: Int32
    /// The address and port connected to.
    public let address: IPAddress
    public let port: UInt16

    private init(descriptor: Int32, address: IPAddress, port: UInt16) {
        self.descriptor = descriptor
        self.address = address
        self.port = port
    }

    deinit { close() }

    /// Connects to `address`:`port` (IPv4 or IPv6) within `timeout`.
    ///
    /// - Throws: ``ConnectError/refused`` on a TCP reset (nothing listens there),
    ///   ``ConnectError/timedOut`` when no answer came in time (a filter drops the packets, or
    ///   the server's accept queue is full), ``ConnectError/unreachable(_:)`` for a network or
    ///   host that cannot be reached, ``ConnectError/failed(_:)`` for any other socket error.
    public static func connect(to address: IPAddress, port: UInt16, timeout: Duration) throws(ConnectError) -> TCPConnection {
        let deadline = ContinuousClock.now + timeout
        let family = address.isIPv6 ? AF_INET6 : AF_INET
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .failed("socket(): \(errnoText(errno))") }
        // From here the connection owns the descriptor: every early exit closes it in deinit.
        let connection = TCPConnection(descriptor: descriptor, address: address, port: port)
        let flags = fcntl(descriptor, F_GETFL, 0)
        guard flags >= 0, fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) == 0 else {
            throw .failed("fcntl(O_NONBLOCK): \(errnoText(errno))")
        }
        var one: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result = address.withSocketAddress(port: port) { pointer, length in
            systemConnect(descriptor, pointer, length)
        }
        if result != 0 {
            let code = errno
            guard code == EINPROGRESS || code == EINTR else { throw ConnectError(errno: code) }
            switch waitForSocket(descriptor, events: Int16(POLLOUT), deadline: deadline) {
            case .timedOut: throw .timedOut
            case .failed(let code): throw ConnectError(errno: code)
            case .ready: break
            }
            var pending: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &pending, &length) == 0 else {
                throw ConnectError(errno: errno)
            }
            if pending != 0 { throw ConnectError(errno: pending) }
        }
        return connection
    }

    public func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(StreamError) -> [UInt8] {
        guard descriptor >= 0 else { throw .closed }
        var buffer = [UInt8](repeating: 0, count: max(1, maxBytes))
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { return Array(buffer.prefix(count)) }
            if count == 0 { return [] }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                switch waitForSocket(descriptor, events: Int16(POLLIN), deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut
                case .failed(let code): throw StreamError(errno: code)
                }
            default: throw StreamError(errno: code)
            }
        }
    }

    public func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(StreamError) {
        guard descriptor >= 0 else { throw .closed }
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer that has gone gives EPIPE, not a SIGPIPE that ends the process.
            let count = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress.map { $0 + offset }, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                offset += count
                continue
            }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                switch waitForSocket(descriptor, events: Int16(POLLOUT), deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut
                case .failed(let code): throw StreamError(errno: code)
                }
            default: throw StreamError(errno: code)
            }
        }
    }

    public func close() {
        guard descriptor >= 0 else { return }
        systemClose(descriptor)
        descriptor = -1
    }
}

/// Why ``TCPConnection/connect(to:port:timeout:)`` failed.
public enum ConnectError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The host answered with a reset: nothing listens on that port (ECONNREFUSED).
    case refused
    /// No answer before the timeout.
    case timedOut
    /// The network or host cannot be reached from here (ENETUNREACH, EHOSTUNREACH, …).
    case unreachable(String)
    /// Any other socket error.
    case failed(String)

    init(errno code: Int32) {
        switch code {
        case ECONNREFUSED: self = .refused
        case ETIMEDOUT: self = .timedOut
        case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL, ENETDOWN, EHOSTDOWN: self = .unreachable(errnoText(code))
        default: self = .failed(errnoText(code))
        }
    }

    public var description: String {
        switch self {
        case .refused: "connection refused"
        case .timedOut: "connection timed out"
        case .unreachable(let reason): "unreachable: \(reason)"
        case .failed(let reason): reason
        }
    }
}

extension StreamError {
    init(errno code: Int32) {
        switch code {
        case ECONNRESET, EPIPE, ENOTCONN: self = .closed
        default: self = .failed(errnoText(code))
        }
    }
}

enum SocketWait: Equatable {
    case ready
    case timedOut
    case failed(Int32)
}

/// Waits with poll() until `descriptor` is ready for `events`, or the deadline passes.
///
/// POLLERR and POLLHUP count as ready: the next call on the socket reports what happened.
func waitForSocket(_ descriptor: Int32, events: Int16, deadline: ContinuousClock.Instant) -> SocketWait {
    while true {
        let left = deadline - .now
        guard left > .zero else { return .timedOut }
        let milliseconds = left.wholeMilliseconds + 1
        var entry = pollfd(fd: descriptor, events: events, revents: 0)
        let result = poll(&entry, 1, Int32(clamping: milliseconds))
        if result > 0 { return .ready }
        if result == 0 { continue }
        if errno == EINTR { continue }
        return .failed(errno)
    }
}

// The class's own `connect` and `close` hide the C functions inside it.
private func systemConnect(_ descriptor: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t) -> Int32 {
    connect(descriptor, address, length)
}

private func systemClose(_ descriptor: Int32) {
    close(descriptor)
}

func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
