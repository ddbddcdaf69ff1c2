public import NIOCore
import MailAuditCore
import NIOPosix

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
    private let bound = RunningState<LoopbackBinder.Bound>()

    /// A listener for UDP, TCP or both (on the same port).
    public init(udp: Bool = true, tcp: Bool = false, group: (any EventLoopGroup)? = nil) {
        listensOnUDP = udp
        listensOnTCP = tcp
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    /// The port it listens on, or nil when it is not running.
    public var port: UInt16? { bound.read(\.port) }

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
    public var connectionsAccepted: Int { counters.connections.count }
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
                ServerBootstrap(group: group).childChannelInitializer(recordingIn: counters.connections) {
                    IgnoringStreamHandler(counters: counters)
                }
            } : nil)
        bound.store(result)
    }

    /// Closes the listening sockets and every accepted connection.
    public func stop() async {
        let result = bound.take()
        for channel in result?.channels ?? [] { try? await channel.close() }
        for channel in counters.connections.takeOpen() { try? await channel.close() }
    }

    deinit {
        for channel in (bound.read(\.channels) ?? []) + counters.connections.takeOpen() {
            channel.close(promise: nil)
        }
    }
}

final class SilentCounters: Sendable {
    struct State {
        var datagrams = 0
        var tcpBytes = 0
    }

    let state = Locked(State())
    let connections = AcceptedConnections()
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
