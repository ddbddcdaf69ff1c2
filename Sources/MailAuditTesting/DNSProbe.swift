public import MailAuditCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A throwaway DNS client for harness checks: one hand-built query to a loopback server,
/// one reply. It does not depend on the project's resolver, so it can test the servers that
/// resolver is tested against.
///
/// Each exchange runs on its own thread with blocking sockets and `poll`, never on the
/// cooperative pool.
public enum DNSProbe {
    public enum Transport: String, Sendable, CaseIterable { case udp, tcp }

    /// A reply: the raw bytes, the header, and the answer records.
    public struct Reply: Sendable {
        public var bytes: [UInt8]
        public var header: DNSWire.Header
        public var answers: [DNSWire.Record]
        /// Time from sending the query to reading the reply.
        public var elapsed: Duration

        public var rcode: UInt16 { header.rcode }
        /// The A and AAAA addresses in the answer section.
        public var addresses: [IPAddress] { answers.compactMap(\.address) }
    }

    /// Sends one query and waits for the reply with the same id.
    ///
    /// Example: `try await DNSProbe.query("mx1.good.test", .a, port: nsd.port)`.
    /// - Returns: the reply, or nil when none came within `timeout` (or the port refused).
    /// - Throws: ``HarnessError/notLoopback(_:)`` for a non-loopback `host`, or a socket error.
    public static func query(
        _ name: String, _ type: RRType, host: String = Loopback.host, port: UInt16,
        transport: Transport = .udp, ednsPayloadSize: UInt16? = 1232, timeout: Duration = .seconds(2)
    ) async throws(HarnessError) -> Reply? {
        let domain = name == "." ? DomainName.root
            : DomainName(labels: name.split(separator: ".").map(String.init))
        let id = UInt16.random(in: 0...UInt16.max)
        guard let message = DNSWire.query(id: id, name: domain, type: type, ednsPayloadSize: ednsPayloadSize) else {
            throw .socket("cannot encode the name \(name)")
        }
        let clock = ContinuousClock()
        let start = clock.now
        guard let bytes = try await exchange(message, host: host, port: port, transport: transport, timeout: timeout) else {
            return nil
        }
        let elapsed = clock.now - start
        guard let parsed = DNSWire.answers(of: bytes) else {
            guard let header = DNSWire.header(of: bytes) else { throw .socket("unreadable reply of \(bytes.count) bytes") }
            return Reply(bytes: bytes, header: header, answers: [], elapsed: elapsed)
        }
        return Reply(bytes: bytes, header: parsed.header, answers: parsed.answers, elapsed: elapsed)
    }

    /// Sends raw bytes (a query, or garbage) and returns the first datagram or TCP message
    /// that comes back, or nil when nothing does within `timeout`. Over UDP a reply must carry
    /// the id of the first two bytes sent, when at least two were sent.
    public static func exchange(
        _ message: [UInt8], host: String = Loopback.host, port: UInt16, transport: Transport = .udp,
        timeout: Duration = .seconds(2)
    ) async throws(HarnessError) -> [UInt8]? {
        let address = try Loopback.checkedAddress(host)
        let result: Result<[UInt8]?, HarnessError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                let socket = ProbeSocket(address: address, port: port, deadline: .now + timeout)
                continuation.resume(returning: Result { () throws(HarnessError) in
                    switch transport {
                    case .udp: try socket.udpExchange(message)
                    case .tcp: try socket.tcpExchange(message)
                    }
                })
            }
            thread.start()
        }
        return try result.get()
    }
}

/// One blocking exchange with a deadline.
private struct ProbeSocket {
    let address: IPAddress
    let port: UInt16
    let deadline: ContinuousClock.Instant

    private var family: Int32 { address.isIPv6 ? AF_INET6 : AF_INET }

    private var millisecondsLeft: Int32 {
        let left = deadline - .now
        let milliseconds = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: max(0, milliseconds))
    }

    private func open(_ type: __socket_type) throws(HarnessError) -> Int32 {
        let descriptor = socket(family, Int32(type.rawValue), 0)
        guard descriptor >= 0 else { throw .socket("socket(): \(errnoText())") }
        let flags = fcntl(descriptor, F_GETFL, 0)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        return descriptor
    }

    /// Starts a non-blocking connect; returns false when the peer refused at once.
    private func startConnect(_ descriptor: Int32) -> Bool {
        let result: Int32
        switch address {
        case .v4(let bytes):
            var storage = SocketAddressV4(host: bytes, port: port).storage
            result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(let bytes):
            var storage = sockaddr_in6()
            storage.sin6_family = sa_family_t(AF_INET6)
            storage.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &storage.sin6_addr) { $0.copyBytes(from: bytes) }
            result = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        return result == 0 || errno == EINPROGRESS
    }

    /// Waits until the descriptor is ready for `events`; false at the deadline or on error/hang-up only.
    private func wait(_ descriptor: Int32, for events: Int16) -> Bool {
        while true {
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let left = millisecondsLeft
            if left == 0 { return false }
            let count = poll(&entry, 1, left)
            if count < 0 && errno == EINTR { continue }
            return count > 0 && entry.revents & events != 0
        }
    }

    func udpExchange(_ message: [UInt8]) throws(HarnessError) -> [UInt8]? {
        let descriptor = try open(SOCK_DGRAM)
        defer { close(descriptor) }
        guard startConnect(descriptor) else { return nil }
        guard message.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == message.count else {
            return nil
        }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        while wait(descriptor, for: Int16(POLLIN)) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return nil  // ECONNREFUSED: nobody listens
            }
            let reply = Array(buffer[0..<count])
            if message.count < 2 || (reply.count >= 2 && reply[0] == message[0] && reply[1] == message[1]) {
                return reply
            }
        }
        return nil
    }

    func tcpExchange(_ message: [UInt8]) throws(HarnessError) -> [UInt8]? {
        let descriptor = try open(SOCK_STREAM)
        defer { close(descriptor) }
        guard startConnect(descriptor), wait(descriptor, for: Int16(POLLOUT)) else { return nil }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) == 0, error == 0 else { return nil }
        var framed: [UInt8] = []
        DNSWire.append(UInt16(truncatingIfNeeded: message.count), to: &framed)
        framed += message
        var sent = 0
        while sent < framed.count {
            guard wait(descriptor, for: Int16(POLLOUT)) else { return nil }
            let count = framed[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return nil
            }
            sent += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_537)
        while wait(descriptor, for: Int16(POLLIN)) {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return nil
            }
            if count == 0 { return nil }  // closed before a whole message
            received += buffer[0..<count]
            if received.count >= 2 {
                let size = Int(received[0]) << 8 | Int(received[1])
                if received.count >= 2 + size { return Array(received[2..<2 + size]) }
            }
        }
        return nil
    }
}
