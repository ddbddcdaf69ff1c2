public import MailAuditCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Ports and raw sockets on any loopback address (127.0.0.0/8 or ::1), for servers that
/// listen on several addresses at one port, as MX hosts on port 25 do.
public enum LoopbackPorts {
    /// A TCP port that is free on every one of `addresses` right now.
    ///
    /// On Linux every 127.0.0.0/8 address routes to `lo`, so 127.0.1.2 can be bound without
    /// configuring anything. The port is released before returning: callers retry on a clash.
    /// - Throws: ``HarnessError/notLoopback(_:)`` for another address,
    ///   ``HarnessError/noFreePort`` after 50 tries.
    public static func freeTCPPort(on addresses: [IPAddress]) throws(HarnessError) -> UInt16 {
        for address in addresses where !Loopback.isLoopback(address) { throw .notLoopback(address.description) }
        guard let first = addresses.first else { return try Loopback.freePort() }
        for _ in 0..<50 {
            guard let probe = try? ListeningSocket(address: first, port: 0, backlog: 1) else { continue }
            let port = probe.port
            var held = [probe]
            var allFree = port != 0
            for address in addresses.dropFirst() where allFree {
                if let socket = try? ListeningSocket(address: address, port: port, backlog: 1) { held.append(socket) } else { allFree = false }
            }
            held.removeAll()
            if allFree { return port }
        }
        throw .noFreePort
    }

    /// Connects to `address`:`port` and returns the first line the server sends, without its
    /// CRLF; nil when nothing complete comes within `timeout`. Runs on its own thread.
    public static func firstLine(from address: IPAddress, port: UInt16, timeout: Duration = .seconds(2)) async -> String? {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: blockingFirstLine(address: address, port: port, timeout: timeout, readLine: true))
            }
            thread.start()
        }
    }

    /// True when a TCP connection to `address`:`port` succeeds within `timeout`.
    public static func accepts(_ address: IPAddress, port: UInt16, timeout: Duration = .seconds(2)) async -> Bool {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: blockingFirstLine(address: address, port: port, timeout: timeout, readLine: false) != nil)
            }
            thread.start()
        }
    }

    private static func blockingFirstLine(address: IPAddress, port: UInt16, timeout: Duration, readLine: Bool) -> String? {
        let deadline = ContinuousClock.now + timeout
        let descriptor = socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var wait = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let connected = address.withSocketAddress(port: port) { connect(descriptor, $0, $1) } == 0
        guard connected else { return nil }
        guard readLine else { return "" }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        while ContinuousClock.now < deadline, received.count < 4096 {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            received += buffer[0..<count]
            if let end = received.firstIndex(of: UInt8(ascii: "\n")) {
                let line = received[..<end]
                return String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
            }
        }
        return nil
    }
}

/// A TCP socket bound and listening on a loopback address, closed when released.
final class ListeningSocket: Sendable {
    let descriptor: Int32
    let port: UInt16

    init(address: IPAddress, port: UInt16, backlog: Int32) throws(HarnessError) {
        let descriptor = socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .socket("socket(): \(errnoText())") }
        if address.isIPv6 {
            var one: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.withSocketAddress(port: port, { bind(descriptor, $0, $1) }) == 0, listen(descriptor, backlog) == 0 else {
            let reason = errnoText()
            close(descriptor)
            throw .socket("bind(\(address) port \(port)): \(reason)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        let boundPort: UInt16 = withUnsafeBytes(of: storage) { raw in
            // sin_port and sin6_port both sit right after the 2-byte family.
            UInt16(raw[2]) << 8 | UInt16(raw[3])
        }
        self.descriptor = descriptor
        self.port = boundPort
    }

    deinit { close(descriptor) }
}

