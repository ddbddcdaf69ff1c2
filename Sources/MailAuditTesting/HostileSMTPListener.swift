public import MailAuditCore
public import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A misbehaving SMTP server on a loopback address, for the probe's safety tests.
///
/// ```swift
/// let dripper = HostileSMTPListener(.dripsGreeting(every: .milliseconds(200)), address: "127.0.1.21")
/// try await dripper.start()
/// defer { Task { await dripper.stop() } }
/// // probe 127.0.1.21 port \(dripper.port!) → timeout(greeting)
/// ```
///
/// Each connection gets the behaviour; the server side answers EHLO, STARTTLS, NOOP and
/// QUIT and nothing else (it never accepts mail). Commands read before TLS are recorded.
public final class HostileSMTPListener: Sendable {
    public enum Behavior: Hashable, Sendable {
        /// Accepts and reads, never writes.
        case neverGreets
        /// Sends an endless multi-line greeting ("220-…"), one byte every `every`.
        case dripsGreeting(every: Duration)
        /// Sends "220 " and then bytes without an end of line, as fast as they are read
        /// (at most 64 MiB).
        case endlessLine
        /// Offers STARTTLS, answers it with 220, then sends text instead of a TLS handshake.
        case garbageAfterSTARTTLS
        /// Offers STARTTLS, answers it with 220, reads the ClientHello and closes.
        case closesDuringHandshake
        /// Sends this greeting (one or more CRLF-separated lines), then a normal dialogue
        /// without STARTTLS; after a 421 greeting it closes, as RFC 5321 §3.8 says.
        case greeting(String)
        /// Greets with 220, then answers EHLO with this reply (for example "451 4.7.1 rate limit exceeded").
        case ehloReply(String)
        /// A well-behaved server without STARTTLS that greets only after `after`.
        case slowGreeting(after: Duration)
        /// Listens with a full accept queue, so connecting times out: the TCP handshake never completes.
        case acceptQueueFull
    }

    public let behavior: Behavior
    /// The loopback address it listens on, for example "127.0.1.20".
    public let address: String
    private let requestedPort: UInt16
    private let group: any EventLoopGroup
    private let record = HostileRecord()
    private let bound = RunningState<Bound>()

    private struct Bound {
        var channel: (any Channel)?
        var rawListener: ListeningSocket?
        var filler: Int32?
        var port: UInt16
    }

    /// A listener with `behavior` on `address` at `port` (0: any free port).
    public init(_ behavior: Behavior, address: String = "127.0.1.20", port: UInt16 = 0, group: (any EventLoopGroup)? = nil) {
        self.behavior = behavior
        self.address = address
        self.requestedPort = port
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    deinit {
        let state = bound.read { $0 }
        state?.channel?.close(promise: nil)
        if let filler = state?.filler { closeDescriptor(filler) }
        for channel in record.connections.takeOpen() { channel.close(promise: nil) }
    }

    /// The port, or nil when it is not running.
    public var port: UInt16? { bound.read(\.port) }

    /// The running listener's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("hostile SMTP listener") }
        return port
    }

    /// The parsed address.
    public var ipAddress: IPAddress? { IPAddress(address) }

    /// Every command line clients sent before any TLS, in order.
    public var commandsReceived: [String] { record.state.withLock { $0.commands } }
    /// Connections accepted so far.
    public var connectionsAccepted: Int { record.connections.count }

    /// Binds the address and starts answering.
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` off loopback, ``HarnessError/socket(_:)``
    ///   when the address and port cannot be bound.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let ip = try Loopback.checkedAddress(address)
        if behavior == .acceptQueueFull {
            // Backlog 0 holds one connection; the filler takes it, and later SYNs are dropped.
            let listener = try ListeningSocket(address: ip, port: requestedPort, backlog: 0)
            let filler = connectFiller(ip, port: listener.port)
            bound.store(Bound(channel: nil, rawListener: listener, filler: filler, port: listener.port))
            return
        }
        let behavior = self.behavior
        let record = self.record
        do {
            let channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer(recordingIn: record.connections) { HostileSMTPHandler(behavior: behavior, record: record) }
                .bind(host: address, port: Int(requestedPort)).get()
            let port = UInt16(channel.localAddress?.port ?? 0)
            bound.store(Bound(channel: channel, rawListener: nil, filler: nil, port: port))
        } catch {
            throw .socket("bind \(address) port \(requestedPort): \(error)")
        }
    }

    /// Closes the listener and every connection.
    public func stop() async {
        let state = bound.take()
        if let channel = state?.channel { try? await channel.close() }
        if let filler = state?.filler { closeDescriptor(filler) }
        for channel in record.connections.takeOpen() { try? await channel.close() }
    }
}

/// What the connections of one listener did, shared with their handlers.
final class HostileRecord: Sendable {
    struct State {
        var commands: [String] = []
    }

    let state = Locked(State())
    let connections = AcceptedConnections()

    func command(_ line: String) {
        state.withLock { state in
            if state.commands.count < 1000 { state.commands.append(line) }
        }
    }
}

private final class HostileSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let behavior: HostileSMTPListener.Behavior
    let record: HostileRecord
    private var pending: [UInt8] = []
    private var afterSTARTTLS = false

    init(behavior: HostileSMTPListener.Behavior, record: HostileRecord) {
        self.behavior = behavior
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        switch behavior {
        case .neverGreets, .acceptQueueFull:
            break
        case .dripsGreeting(let interval):
            Self.drip(Array("220-hostile.test slowly, very slowly\r\n".utf8), index: 0, every: interval, on: channel)
        case .endlessLine:
            channel.writeAndFlush(ByteBuffer(string: "220 "), promise: nil)
            Self.pump(channel, written: 0)
        case .greeting(let text):
            let lines = text.hasSuffix("\r\n") ? text : text + "\r\n"
            let write = channel.writeAndFlush(ByteBuffer(string: lines))
            if text.hasPrefix("421") { write.whenComplete { _ in channel.close(promise: nil) } }
        case .slowGreeting(let delay):
            channel.eventLoop.scheduleTask(in: TimeAmount(delay)) {
                channel.writeAndFlush(ByteBuffer(string: "220 hostile.test ESMTP slow\r\n"), promise: nil)
            }
        case .garbageAfterSTARTTLS, .closesDuringHandshake, .ehloReply:
            channel.writeAndFlush(ByteBuffer(string: "220 hostile.test ESMTP\r\n"), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data).readableBytesView
        if afterSTARTTLS {
            switch behavior {
            case .closesDuringHandshake:
                context.close(promise: nil)
            case .garbageAfterSTARTTLS:
                let garbage = String(repeating: "this is not TLS, just some garbage\r\n", count: 4)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: garbage)), promise: nil)
            default:
                break
            }
            return
        }
        guard pending.count < 65_536 else { return }
        pending += bytes
        while let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = pending[..<end]
            pending.removeSubrange(...end)
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            let command = String(decoding: line, as: UTF8.self)
            record.command(command)
            answer(command, context: context)
            if afterSTARTTLS { return }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func answer(_ command: String, context: ChannelHandlerContext) {
        let verb = command.split(separator: " ").first.map { $0.uppercased() } ?? ""
        let offersTLS = behavior == .garbageAfterSTARTTLS || behavior == .closesDuringHandshake
        var reply: String
        switch verb {
        case "EHLO":
            if case .ehloReply(let text) = behavior {
                reply = text.hasSuffix("\r\n") ? text : text + "\r\n"
            } else {
                reply = "250-hostile.test\r\n250-PIPELINING\r\n" + (offersTLS ? "250-STARTTLS\r\n" : "") + "250 8BITMIME\r\n"
            }
        case "HELO", "NOOP": reply = "250 2.0.0 Ok\r\n"
        case "STARTTLS" where offersTLS:
            reply = "220 2.0.0 Ready to start TLS\r\n"
            afterSTARTTLS = true
        case "QUIT":
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "221 2.0.0 Bye\r\n"))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
            return
        default: reply = "502 5.5.2 Error: command not recognized\r\n"
        }
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)), promise: nil)
    }

    /// Writes one byte, then schedules the next; the text repeats forever.
    private static func drip(_ text: [UInt8], index: Int, every interval: Duration, on channel: any Channel) {
        guard channel.isActive else { return }
        channel.writeAndFlush(ByteBuffer(bytes: [text[index % text.count]]), promise: nil)
        channel.eventLoop.scheduleTask(in: TimeAmount(interval)) {
            drip(text, index: index + 1, every: interval, on: channel)
        }
    }

    /// Writes 4 KiB without a line end each time the previous write is done; the next write
    /// is queued on the event loop so that completions do not nest.
    private static func pump(_ channel: any Channel, written: Int) {
        guard channel.isActive, written < 64 << 20 else {
            channel.close(promise: nil)
            return
        }
        let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 4096)
        channel.writeAndFlush(chunk).whenSuccess {
            channel.eventLoop.execute { pump(channel, written: written + 4096) }
        }
    }
}

/// Opens one connection to fill a backlog-0 listener's accept queue; returns its descriptor.
private func connectFiller(_ address: IPAddress, port: UInt16) -> Int32? {
    let descriptor = socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    guard address.withSocketAddress(port: port, { connect(descriptor, $0, $1) }) == 0 else {
        closeDescriptor(descriptor)
        return nil
    }
    return descriptor
}

private func closeDescriptor(_ descriptor: Int32) {
    close(descriptor)
}
