import MailAuditCore
import NIOCore
import NIOPosix
import Synchronization

/// A few long-lived UDP sockets per nameserver, shared by every query of a run.
///
/// A socket per query costs a socket, a bind, a connect, an event-loop registration and a close
/// for a 40-octet datagram; in bulk runs that was most of the CPU. Here each server gets up to
/// ``socketsPerServer`` (4) connected sockets, each bound by the kernel to a random ephemeral port,
/// and queries rotate over them. A reply is accepted only from the server's address, with the ID
/// of a query waiting on that socket and that query's question (RFC 5452 §3, §9.1). IDs are
/// random and never reused while in flight on one socket. After ``queriesPerSocket`` (5,000) queries a
/// socket is retired (closed once its last query ends) and a new one takes its place, so the
/// source port keeps changing through a long run (RFC 5452 §9.2).
final class DatagramPool: Sendable {
    static let socketsPerServer = 4
    static let queriesPerSocket = 5_000

    private struct Slots {
        var sockets: [SocketAddress: [PooledDatagramSocket]] = [:]
        var turn = 0
    }

    private let group: any EventLoopGroup
    private let socketsPerServer: Int
    private let queriesPerSocket: Int
    private let slots = Locked(Slots())

    init(group: any EventLoopGroup, socketsPerServer: Int = DatagramPool.socketsPerServer,
         queriesPerSocket: Int = DatagramPool.queriesPerSocket) {
        self.group = group
        self.socketsPerServer = max(1, socketsPerServer)
        self.queriesPerSocket = max(1, queriesPerSocket)
    }

    /// Sends `query` (its ID is chosen here) to `server` and waits for the matching reply.
    func exchange(query: [UInt8], question: DNSQuestion, server: SocketAddress, peer: String, timeout: Duration)
        async -> Result<DecodedReply, ExchangeFailure>
    {
        let socket = take(server, peer: peer)
        let promise = socket.loop.makePromise(of: DecodedReply.self)
        let token = socket.nextToken()
        socket.loop.execute { socket.send(query, question: question, token: token, timeout: timeout, promise: promise) }
        return await promise.reply(peer: peer) { socket.loop.execute { socket.cancel(token: token) } }
    }

    /// Closes every socket (queries still waiting fail).
    func shutdown() {
        let all = slots.withLock { slots in
            defer { slots.sockets = [:] }
            return slots.sockets.values.flatMap { $0 }
        }
        for socket in all { socket.loop.execute { socket.retire() } }
    }

    /// A socket for `server`, in rotation; opens one when a slot is free, dead or worn out.
    private func take(_ server: SocketAddress, peer: String) -> PooledDatagramSocket {
        let (socket, worn) = slots.withLock { slots -> (PooledDatagramSocket, PooledDatagramSocket?) in
            slots.turn &+= 1
            var list = slots.sockets[server] ?? []
            var index = slots.turn % socketsPerServer
            var worn: PooledDatagramSocket?
            if index >= list.count {
                list.append(PooledDatagramSocket(server: server, peer: peer, loop: group.next()))
                index = list.count - 1
            } else if list[index].isDead || list[index].uses >= queriesPerSocket {
                worn = list[index]
                list[index] = PooledDatagramSocket(server: server, peer: peer, loop: group.next())
            }
            let socket = list[index]
            socket.uses += 1
            socket.users.add(1, ordering: .relaxed)
            slots.sockets[server] = list
            return (socket, worn)
        }
        if let worn { worn.loop.execute { worn.retire() } }
        return socket
    }
}

/// One connected UDP socket and the queries waiting on it. Everything but `uses` (guarded by
/// the pool's lock), `users`, `dead` and the token counter is touched only on `loop`.
final class PooledDatagramSocket: @unchecked Sendable {
    let server: SocketAddress
    /// The server as the user wrote it, for messages.
    let peer: String
    let loop: any EventLoop
    /// Queries handed this socket; guarded by the pool's lock.
    var uses = 0
    /// Queries handed this socket and not yet finished: it closes only when none is left.
    let users = Atomic<Int>(0)
    private let dead = Atomic<Bool>(false)
    private let tokens = Atomic<Int>(0)

    private struct Waiter {
        let token: Int
        let question: DNSQuestion
        let promise: EventLoopPromise<DecodedReply>
        let deadline: Scheduled<Void>
        var malformed: String?
    }

    private var waiting: [UInt16: Waiter] = [:]
    private var idOfToken: [Int: UInt16] = [:]
    private var channel: EventLoopFuture<any Channel>?
    private var retired = false
    private var flushPending = false

    init(server: SocketAddress, peer: String, loop: any EventLoop) {
        self.server = server
        self.peer = peer
        self.loop = loop
    }

    var isDead: Bool { dead.load(ordering: .relaxed) }

    func nextToken() -> Int { tokens.wrappingAdd(1, ordering: .relaxed).newValue }

    // MARK: On `loop`

    func send(_ query: [UInt8], question: DNSQuestion, token: Int, timeout: Duration, promise: EventLoopPromise<DecodedReply>) {
        var fresh = UInt16.random(in: .min ... .max)
        while waiting[fresh] != nil { fresh = UInt16.random(in: .min ... .max) }
        let id = fresh
        let deadline = loop.scheduleTask(in: TimeAmount(timeout)) { [self] in
            finish(id: id, token: token, with: .failure(waiting[id]?.malformed.map { ExchangeFailure.malformed($0) } ?? .timeout))
        }
        waiting[id] = Waiter(token: token, question: question, promise: promise, deadline: deadline)
        idOfToken[token] = id
        var withID = ByteBuffer(bytes: query)
        withID.setInteger(id, at: 0)
        let message = withID
        open().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                channel.write(message).whenFailure { [self] error in
                    finish(id: id, token: token, with: .failure(ExchangeFailure(error, peer: peer)))
                }
                flushSoon(channel)
            case .failure(let error):
                finish(id: id, token: token, with: .failure(ExchangeFailure(error, peer: peer)))
            }
        }
    }

    /// Queries sent in one turn of the event loop leave in one flush (one sendmmsg).
    private func flushSoon(_ channel: any Channel) {
        guard !flushPending else { return }
        flushPending = true
        loop.execute { [self] in
            flushPending = false
            channel.flush()
        }
    }

    func cancel(token: Int) {
        guard let id = idOfToken[token] else { return }
        finish(id: id, token: token, with: .failure(.cancelled))
    }

    /// No new queries come; the socket closes when the last one ends.
    func retire() {
        retired = true
        closeIfIdle()
    }

    fileprivate func received(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard let waiter = waiting[id] else { return }
        switch ReplyMatcher(id: id, question: waiter.question).judge(bytes) {
        case .reply(let reply): finish(id: id, token: waiter.token, with: .success(reply))
        case .ignored: break
        case .malformed(let reason): waiting[id]?.malformed = reason
        }
    }

    /// The socket failed (ICMP unreachable on a connected socket) or closed: every waiting query
    /// to this server learns it; a closed socket is replaced by the pool.
    fileprivate func failed(_ failure: ExchangeFailure, closed: Bool) {
        if closed { dead.store(true, ordering: .relaxed) }
        for (id, waiter) in waiting { finish(id: id, token: waiter.token, with: .failure(failure)) }
    }

    private func finish(id: UInt16, token: Int, with result: Result<DecodedReply, ExchangeFailure>) {
        guard let waiter = waiting[id], waiter.token == token else { return }
        waiting[id] = nil
        idOfToken[token] = nil
        waiter.deadline.cancel()
        waiter.promise.completeWith(result.mapError { $0 as any Error })
        users.subtract(1, ordering: .relaxed)
        closeIfIdle()
    }

    private func closeIfIdle() {
        guard retired, waiting.isEmpty, users.load(ordering: .relaxed) == 0 else { return }
        dead.store(true, ordering: .relaxed)
        channel?.whenSuccess { $0.close(promise: nil) }
        channel = nil
    }

    private func open() -> EventLoopFuture<any Channel> {
        if let channel { return channel }
        let opened = DatagramBootstrap(group: loop)
            // NIO reads 2048 octets by default; a server that ignores our EDNS size may send up to 65535.
            // Replies are read up to 16 at a time (recvmmsg), each in its own 64 KiB share of the buffer.
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 16 * 65_536))
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.socketOption(.so_rcvbuf), value: 1 << 20)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PooledReplyHandler(socket: self))
                }
            }
            // Connected: the kernel drops datagrams from other sources and reports ICMP unreachable.
            .connect(to: server)
        opened.whenFailure { [self] _ in
            dead.store(true, ordering: .relaxed)
            channel = nil
        }
        channel = opened
        return opened
    }
}

/// Hands datagrams and socket errors of one pooled socket to it.
private final class PooledReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let socket: PooledDatagramSocket

    init(socket: PooledDatagramSocket) { self.socket = socket }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        // Spoofed or stray datagrams are dropped and the wait goes on.
        guard envelope.remoteAddress == socket.server else { return }
        socket.received(Array(envelope.data.readableBytesView))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        socket.failed(ExchangeFailure(error, peer: socket.peer), closed: false)
    }

    func channelInactive(context: ChannelHandlerContext) {
        socket.failed(.network("the UDP socket to \(socket.peer) closed"), closed: true)
        context.fireChannelInactive()
    }
}
