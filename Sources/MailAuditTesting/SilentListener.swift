public import NIOCore
import NIOPosix
import Synchronization

/// A server on 127.0.0.1 that never answers: UDP datagrams are read and ignored, and TCP
/// connections are accepted, read and never written to. For "the server never answers"
/// timeout tests, of DNS or of SMTP.
///
/// ```swift
/// let silent = SilentListener(udp: true, tcp: true)
/// try await silent.start()
/// // resolve via 127.0.0.1:\(silent.port!) → .timeout
/// #expect(silent.datagramsReceived > 0)
/// ```
public final class SilentListener: Sendable {
    public let listensOnUDP: Bool
    public let listensOnTCP: Bool
    private let group: any EventLoopGroup
    private let counters = SilentCounters()
    private let bound = Mutex<LoopbackBinder.Bound?>(nil)

    /// A listener for UDP, TCP or both (on the same port).
    public init(udp: Bool = true, tcp: Bool = false, group: (any EventLoopGroup)? = nil) {
        listensOnUDP = udp
        listensOnTCP = tcp
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    /// The port it listens on, or nil when it is not running.
    public var port: UInt16? { bound.withLock { $0?.port } }

    /// The running listener's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("silent listener") }
        return port
    }

    /// Datagrams received (and ignored) so far.
    public var datagramsReceived: Int { counters.state.withLock { $0.datagrams } }
    /// TCP connections accepted so far.
    public var connectionsAccepted: Int { counters.state.withLock { $0.connections } }
    /// Bytes read from TCP connections so far.
    public var bytesReceivedOverTCP: Int { counters.state.withLock { $0.tcpBytes } }

    /// Binds a free port on 127.0.0.1.
    ///
    /// - Throws: ``HarnessError/socket(_:)`` when no port could be bound.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let counters = self.counters
        let result = try await LoopbackBinder.bind(
            udp: listensOnUDP ? { [group] in
                DatagramBootstrap(group: group).channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IgnoringDatagramHandler(counters: counters))
                    }
                }
            } : nil,
            tcp: listensOnTCP ? { [group] in
                ServerBootstrap(group: group).childChannelInitializer { channel in
                    counters.accepted(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(IgnoringStreamHandler(counters: counters))
                    }
                }
            } : nil)
        bound.withLock { $0 = result }
    }

    /// Closes the listening sockets and every accepted connection.
    public func stop() async {
        let result = bound.withLock { state -> LoopbackBinder.Bound? in
            defer { state = nil }
            return state
        }
        for channel in result?.channels ?? [] { try? await channel.close() }
        for channel in counters.takeOpenConnections() { try? await channel.close() }
    }

    deinit {
        for channel in (bound.withLock { $0 }?.channels ?? []) + counters.takeOpenConnections() {
            channel.close(promise: nil)
        }
    }
}

final class SilentCounters: Sendable {
    struct State {
        var datagrams = 0
        var connections = 0
        var tcpBytes = 0
        var open: [ObjectIdentifier: any Channel] = [:]
    }

    let state = Mutex(State())

    func accepted(_ channel: any Channel) {
        state.withLock { state in
            state.connections += 1
            state.open[ObjectIdentifier(channel)] = channel
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    func takeOpenConnections() -> [any Channel] {
        state.withLock { state in
            defer { state.open = [:] }
            return Array(state.open.values)
        }
    }
}

private final class IgnoringDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let counters: SilentCounters

    init(counters: SilentCounters) { self.counters = counters }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counters.state.withLock { $0.datagrams += 1 }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

private final class IgnoringStreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let counters: SilentCounters

    init(counters: SilentCounters) { self.counters = counters }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let count = unwrapInboundIn(data).readableBytes
        counters.state.withLock { $0.tcpBytes += count }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
