public import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The loopback interface: the only place the harness sends anything to.
public enum Loopback {
    /// The IPv4 loopback address every harness server listens on.
    public static let host = "127.0.0.1"

    /// True for 127.0.0.0/8 and ::1, the only addresses tests may talk to.
    public static func isLoopback(_ address: IPAddress) -> Bool {
        switch address {
        case .v4(let bytes): bytes.first == 127
        case .v6(let bytes): bytes == Array(repeating: 0, count: 15) + [1]
        }
    }

    /// Parses `host` and checks it is a loopback address.
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` for names and for any other address.
    public static func checkedAddress(_ host: String) throws(HarnessError) -> IPAddress {
        guard let address = IPAddress(host), isLoopback(address) else { throw .notLoopback(host) }
        return address
    }

    /// A port on 127.0.0.1 that is free for both UDP and TCP right now.
    ///
    /// The port is released before returning, so another process may take it: servers that
    /// can bind port 0 themselves should do so instead, and callers should retry on a clash.
    /// - Throws: ``HarnessError/noFreePort`` after 50 tries.
    public static func freePort() throws(HarnessError) -> UInt16 {
        for _ in 0..<50 {
            guard let udp = try? BoundSocket(type: SOCK_DGRAM, port: 0) else { continue }
            let port = udp.port
            guard port != 0, (try? BoundSocket(type: SOCK_STREAM, port: port)) != nil else { continue }
            return port
        }
        throw .noFreePort
    }
}

/// A socket bound to 127.0.0.1, closed when released.
final class BoundSocket {
    let descriptor: Int32

    /// `descriptor` is set only once the socket is bound: a class whose initialiser throws after
    /// setting every property is deinitialised, and `deinit` would close the socket a second
    /// time, perhaps after another thread had been given the same number.
    init(type: __socket_type, port: UInt16) throws(HarnessError) {
        let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
        guard descriptor >= 0 else { throw .socket("socket(): \(errnoText())") }
        var address = SocketAddressV4(host: [127, 0, 0, 1], port: port).storage
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = errnoText()
            close(descriptor)
            throw .socket("bind(127.0.0.1:\(port)): \(reason)")
        }
        self.descriptor = descriptor
    }

    var port: UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return result == 0 ? UInt16(bigEndian: address.sin_port) : 0
    }

    deinit { close(descriptor) }
}

/// A sockaddr_in built from bytes and a port.
struct SocketAddressV4 {
    let storage: sockaddr_in

    init(host: [UInt8], port: UInt16) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: host.prefix(4)) }
        storage = address
    }
}

func errnoText() -> String {
    String(cString: strerror(errno))
}
