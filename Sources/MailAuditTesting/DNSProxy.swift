public import MailAuditCore
public import NIOCore
import NIOPosix

/// A UDP and TCP DNS proxy on 127.0.0.1 in front of a loopback upstream (usually an
/// ``NSDServer``), for latency, timeout and query-count tests.
///
/// ```swift
/// let proxy = try DNSProxy(upstreamPort: nsd.requirePort(), delay: .milliseconds(50),
///                          dropping: [DomainName(labels: ["drop", "slow", "test"])])
/// try await proxy.start()
/// // query 127.0.0.1:\(proxy.port!) …
/// let repeats = proxy.statistics.repeatedQuestions
/// ```
///
/// - Every answer is held back by `delay` before it goes to the client, each on its own
///   timer, so concurrent queries are delayed concurrently (this kernel has no netem).
/// - A query whose QNAME is at or below a dropped name gets no answer at all.
/// - Forwarded queries are counted per question (name and type) and per transport, so a
///   benchmark can report repeated queries.
/// - A message whose question cannot be read is forwarded untouched and counted as unparsable.
///
/// Each UDP query goes upstream on a fresh socket and each TCP query on a fresh connection,
/// so replies can never be crossed; an upstream that does not answer within five seconds is
/// given up on.
public final class DNSProxy: Sendable {
    public let upstreamHost: String
    public let upstreamPort: UInt16
    private let core: ProxyCore
    private let group: any EventLoopGroup
    private let listeners = LoopbackDNSListeners()

    /// What the proxy has seen since it started or was last reset.
    public struct Statistics: Hashable, Sendable {
        /// Queries forwarded upstream, per question, over either transport.
        public var forwarded: [DNSQuestion: Int] = [:]
        /// The part of `forwarded` that came over TCP (typically retries after a truncated answer).
        public var forwardedOverTCP: [DNSQuestion: Int] = [:]
        /// Queries dropped because their name is on the drop list, per question.
        public var dropped: [DNSQuestion: Int] = [:]
        /// Messages whose question could not be read (forwarded anyway).
        public var unparsable = 0
        /// Replies passed back to clients.
        public var repliesRelayed = 0

        /// All queries forwarded upstream, readable or not.
        public var totalForwarded: Int { forwarded.values.reduce(0, +) + unparsable }
        /// Queries forwarded over TCP.
        public var totalForwardedOverTCP: Int { forwardedOverTCP.values.reduce(0, +) }
        /// Questions forwarded more than once over the same transport, with how many times
        /// in all. A UDP try followed by one TCP retry after truncation is not a repeat.
        public var repeatedQuestions: [DNSQuestion: Int] {
            forwarded.filter { question, count in
                let overTCP = forwardedOverTCP[question] ?? 0
                return overTCP > 1 || count - overTCP > 1
            }
        }
    }

    /// Makes a proxy for the server at `upstreamHost:upstreamPort`, which must be loopback.
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` for any other upstream address.
    public init(
        upstreamPort: UInt16, upstreamHost: String = Loopback.host, delay: Duration = .zero,
        dropping droppedNames: [DomainName] = [], group: (any EventLoopGroup)? = nil
    ) throws(HarnessError) {
        _ = try Loopback.checkedAddress(upstreamHost)
        let upstream: SocketAddress
        do {
            upstream = try SocketAddress(ipAddress: upstreamHost, port: Int(upstreamPort))
        } catch {
            throw .notLoopback(upstreamHost)
        }
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
        core = ProxyCore(upstream: upstream, delay: delay, dropped: droppedNames)
    }

    /// The port the proxy listens on for UDP and TCP, or nil when it is not running.
    public var port: UInt16? { listeners.port }

    /// The running proxy's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("DNS proxy") }
        return port
    }

    /// The delay added to every answer; changes apply to queries that arrive afterwards.
    public var delay: Duration {
        get { core.settings.withLock { $0.delay } }
        set { core.settings.withLock { $0.delay = newValue } }
    }

    /// Names whose queries (and their subdomains' queries) are dropped.
    public var droppedNames: [DomainName] {
        get { core.settings.withLock { $0.dropped } }
        set { core.settings.withLock { $0.dropped = newValue } }
    }

    public var statistics: Statistics { core.statistics.withLock { $0 } }

    /// Forgets the counts so far.
    public func resetStatistics() {
        core.statistics.withLock { $0 = Statistics() }
    }

    /// Binds UDP and TCP on one free port of 127.0.0.1.
    ///
    /// - Throws: ``HarnessError/socket(_:)`` when no port could be bound.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let core = self.core
        try await listeners.start(group: group, udp: { UDPFrontHandler(core: core) }, tcp: { TCPFrontHandler(core: core) })
    }

    /// Closes the listening sockets. Queries in flight may still be answered.
    public func stop() async { await listeners.stop() }
}

/// State shared by every handler of one proxy.
final class ProxyCore: Sendable {
    struct Settings {
        var delay: Duration
        var dropped: [DomainName]
    }

    /// How long to wait for the upstream before giving up on one query.
    static let upstreamTimeout = TimeAmount.seconds(5)

    let upstream: SocketAddress
    let settings: Locked<Settings>
    let statistics = Locked(DNSProxy.Statistics())

    init(upstream: SocketAddress, delay: Duration, dropped: [DomainName]) {
        self.upstream = upstream
        settings = Locked(Settings(delay: delay, dropped: dropped))
    }

    /// Counts the query and returns the delay to apply, or nil to drop it.
    func admit(_ message: ByteBuffer, overTCP: Bool) -> TimeAmount? {
        let (delay, dropped) = settings.withLock { ($0.delay, $0.dropped) }
        let question = DNSWire.firstQuestion(of: message.allBytes)
        return statistics.withLock { statistics in
            guard let question else {
                statistics.unparsable += 1
                return TimeAmount(clamping: delay)
            }
            if dropped.contains(where: { question.name.isSubdomain(of: $0) }) {
                statistics.dropped[question, default: 0] += 1
                return nil
            }
            statistics.forwarded[question, default: 0] += 1
            if overTCP { statistics.forwardedOverTCP[question, default: 0] += 1 }
            return TimeAmount(clamping: delay)
        }
    }

    func relayed() {
        statistics.withLock { $0.repliesRelayed += 1 }
    }
}

/// Receives client datagrams and sends each upstream from a fresh socket.
private final class UDPFrontHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let core: ProxyCore

    init(core: ProxyCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let delay = core.admit(envelope.data, overTCP: false) else { return }
        let front = context.channel
        let client = envelope.remoteAddress
        let query = envelope.data
        let core = self.core
        DatagramBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        UDPUpstreamHandler(core: core, front: front, client: client, delay: delay))
                }
            }
            .bind(host: Loopback.host, port: 0)
            .whenSuccess { upstream in
                upstream.writeAndFlush(AddressedEnvelope(remoteAddress: core.upstream, data: query), promise: nil)
                upstream.eventLoop.scheduleTask(in: ProxyCore.upstreamTimeout) { upstream.close(promise: nil) }
            }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A datagram socket keeps serving after an error (for example a refused reply).
    }
}

/// Waits for the upstream's reply on a per-query socket and sends it to the client after the delay.
private final class UDPUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let core: ProxyCore
    let front: any Channel
    let client: SocketAddress
    let delay: TimeAmount

    init(core: ProxyCore, front: any Channel, client: SocketAddress, delay: TimeAmount) {
        self.core = core
        self.front = front
        self.client = client
        self.delay = delay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == core.upstream else { return }
        let reply = AddressedEnvelope(remoteAddress: client, data: envelope.data)
        let front = self.front
        let core = self.core
        context.eventLoop.scheduleTask(in: delay) {
            core.relayed()
            front.writeAndFlush(reply, promise: nil)
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Receives length-prefixed queries from one client connection; each goes upstream on a
/// fresh connection.
private final class TCPFrontHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let core: ProxyCore

    init(core: ProxyCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let query = unwrapInboundIn(data)
        guard let delay = core.admit(query, overTCP: true) else { return }
        let front = context.channel
        let core = self.core
        ClientBootstrap(group: context.eventLoop)
            .connectTimeout(ProxyCore.upstreamTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        TCPUpstreamHandler(core: core, front: front, delay: delay))
                }
            }
            .connect(to: core.upstream)
            .whenSuccess { upstream in
                upstream.writeAndFlush(query.lengthPrefixed, promise: nil)
                upstream.eventLoop.scheduleTask(in: ProxyCore.upstreamTimeout) { upstream.close(promise: nil) }
            }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Reads the upstream's length-prefixed reply and writes it to the client after the delay.
private final class TCPUpstreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let core: ProxyCore
    let front: any Channel
    let delay: TimeAmount

    init(core: ProxyCore, front: any Channel, delay: TimeAmount) {
        self.core = core
        self.front = front
        self.delay = delay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data).lengthPrefixed
        let front = self.front
        let core = self.core
        context.eventLoop.scheduleTask(in: delay) {
            core.relayed()
            front.writeAndFlush(reply, promise: nil)
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
