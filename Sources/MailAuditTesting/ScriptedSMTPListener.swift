public import MailAuditCore
public import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An SMTP server on a loopback address that answers each verb as its ``Script`` says, for
/// the `relay` tests of replies Postfix will not easily give (421 greeting, 535, 530 at
/// MAIL, 452 or 451 at RCPT).
///
/// ```swift
/// let server = ScriptedSMTPListener(.rejectsCredentials, address: "127.0.21.2")
/// try await server.start()
/// defer { Task { await server.stop() } }
/// // relay to 127.0.21.2 port \(server.port!) with any credentials → 535 5.7.8
/// #expect(server.commandsReceived.contains("AUTH PLAIN AHVzZXIAcGFzcw=="))
/// ```
///
/// The dialogue: the greeting; EHLO (the ``Script/capabilities``, no STARTTLS by default),
/// HELO; AUTH PLAIN with or without an initial response (334 then the response), AUTH LOGIN
/// (334 VXNlcm5hbWU6, 334 UGFzc3dvcmQ6), AUTH CRAM-MD5, each then answered with
/// ``Script/authReply`` ("*" cancels with 501); MAIL, RCPT, DATA (354, then the message up to
/// the line "."), RSET, NOOP and QUIT (221 and close). MAIL before EHLO, RCPT before MAIL and
/// DATA without an accepted recipient get 503, as Postfix answers. Any reply whose last line
/// starts with 421 closes the connection after it is sent (RFC 5321 §3.8).
///
/// Every command line is recorded in order (``commandsReceived``), AUTH responses included,
/// and each message (dot-unstuffed, CRLF line ends, without the final ".") in
/// ``messagesReceived``. Memory is bounded: a line longer than 16 KiB gets "500 5.5.2 Line too
/// long" and the connection is closed, a message is kept up to 1 MiB (then 552 at its end),
/// and at most 1000 commands and 100 messages are kept.
public final class ScriptedSMTPListener: Sendable {
    /// What the server answers. Each reply is one line or several joined by CRLF
    /// ("250-first\r\n250 last"), without the final CRLF.
    public struct Script: Hashable, Sendable {
        /// The first reply; after one starting with 421 the server closes.
        public var greeting: String
        /// The domain in the EHLO and HELO replies.
        public var domain: String
        /// The EHLO keywords after the domain line, for example "AUTH PLAIN LOGIN".
        public var capabilities: [String]
        /// The reply to AUTH once the client sent its credentials.
        public var authReply: String
        public var mailReply: String
        /// The replies to the first, second, … RCPT of a transaction; the last one repeats.
        public var rcptReplies: [String]
        /// The reply to DATA; one starting with 354 reads the message.
        public var dataReply: String
        /// The reply after the message's final ".".
        public var messageReply: String
        public var rsetReply: String
        public var noopReply: String
        public var quitReply: String
        /// The reply to anything else, STARTTLS included.
        public var unknownReply: String

        public init(
            greeting: String = "220 scripted.test ESMTP",
            domain: String = "scripted.test",
            capabilities: [String] = ["SIZE 10240000", "AUTH PLAIN LOGIN", "ENHANCEDSTATUSCODES", "8BITMIME"],
            authReply: String = "235 2.7.0 Authentication successful",
            mailReply: String = "250 2.1.0 Ok",
            rcptReplies: [String] = ["250 2.1.5 Ok"],
            dataReply: String = "354 End data with <CR><LF>.<CR><LF>",
            messageReply: String = "250 2.0.0 Ok: queued as SCRIPTED1",
            rsetReply: String = "250 2.0.0 Ok",
            noopReply: String = "250 2.0.0 Ok",
            quitReply: String = "221 2.0.0 Bye",
            unknownReply: String = "502 5.5.2 Error: command not recognized"
        ) {
            self.greeting = greeting
            self.domain = domain
            self.capabilities = capabilities
            self.authReply = authReply
            self.mailReply = mailReply
            self.rcptReplies = rcptReplies
            self.dataReply = dataReply
            self.messageReply = messageReply
            self.rsetReply = rsetReply
            self.noopReply = noopReply
            self.quitReply = quitReply
            self.unknownReply = unknownReply
        }

        /// Accepts any credentials and any message.
        public static let accepting = Script()
        /// Greets with 421 and closes.
        public static let busy = Script(greeting: "421 4.7.0 scripted.test Too many connections, try again later")
        /// Answers every AUTH with 535 5.7.8.
        public static let rejectsCredentials = Script(authReply: "535 5.7.8 Error: authentication failed: authentication failure")
        /// Answers MAIL with 530 5.7.0, as a server wanting AUTH first does.
        public static let mailNeedsAuthentication = Script(mailReply: "530 5.7.0 Authentication required")
        /// Answers RCPT with 452 4.5.3.
        public static let tooManyRecipients = Script(rcptReplies: ["452 4.5.3 Error: too many recipients"])
        /// Answers RCPT with 451 4.7.1, as greylisting does.
        public static let greylists = Script(rcptReplies: ["451 4.7.1 Greylisted, please try again later"])
    }

    public let script: Script
    /// The loopback address it listens on, for example "127.0.21.1".
    public let address: String
    private let requestedPort: UInt16
    private let namespace: FilteredPort?
    private let group: any EventLoopGroup
    private let record = ScriptedRecord()
    private let bound = RunningState<Bound>()

    private struct Bound {
        var channel: any Channel
        var port: UInt16
    }

    /// A server answering as `script` on `address` at `port` (0: any free port).
    public init(_ script: Script = .accepting, address: String = "127.0.21.1", port: UInt16 = 0, group: (any EventLoopGroup)? = nil) {
        self.script = script
        self.address = address
        self.requestedPort = port
        self.namespace = nil
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    /// A server answering as `script` on `filtered`'s target address at `port`, inside its
    /// network namespace: an open port beside the dropped ones (and the refused rest).
    /// `filtered` must be started first; `port` must not be one it drops.
    public init(_ script: Script = .accepting, behind filtered: FilteredPort, port: UInt16, group: (any EventLoopGroup)? = nil) {
        self.script = script
        self.address = filtered.address?.description ?? ""
        self.requestedPort = port
        self.namespace = filtered
        self.group = group ?? MultiThreadedEventLoopGroup.singleton
    }

    deinit {
        bound.read(\.channel)?.close(promise: nil)
        for channel in record.connections.takeOpen() { channel.close(promise: nil) }
    }

    /// The port, or nil when it is not running.
    public var port: UInt16? { bound.read(\.port) }

    /// The running listener's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("scripted SMTP listener") }
        return port
    }

    /// The parsed address.
    public var ipAddress: IPAddress? { IPAddress(address) }

    /// Every line clients sent outside DATA, in order, AUTH responses included.
    public var commandsReceived: [String] { record.state.withLock { $0.commands } }
    /// Every message clients sent after DATA, in order: dot-unstuffed, CRLF line ends, without the final ".".
    public var messagesReceived: [String] { record.state.withLock { $0.messages } }
    /// Connections accepted so far.
    public var connectionsAccepted: Int { record.connections.count }

    /// Binds the address and starts answering.
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` off loopback (unless behind a
    ///   ``FilteredPort``), ``HarnessError/socket(_:)`` when the address and port cannot be bound.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let script = self.script
        let record = self.record
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer(recordingIn: record.connections) { ScriptedSMTPHandler(script: script, record: record) }
        do {
            let channel: any Channel
            if let namespace {
                let descriptor = try await namespace.makeListeningSocket(port: requestedPort)
                // Not closed here on failure: once NIO has made its channel, it closes the socket
                // itself, and a second close could hit a number another thread has since been given.
                // (A failure before that leaves the socket open: a leak in a failing test, not a wrong close.)
                channel = try await bootstrap.withBoundSocket(descriptor).get()
            } else {
                _ = try Loopback.checkedAddress(address)
                channel = try await bootstrap.bind(host: address, port: Int(requestedPort)).get()
            }
            bound.store(Bound(channel: channel, port: UInt16(channel.localAddress?.port ?? 0)))
        } catch let error as HarnessError {
            throw error
        } catch {
            throw .socket("bind \(address) port \(requestedPort): \(error)")
        }
    }

    /// Closes the listener and every connection.
    public func stop() async {
        if let channel = bound.take()?.channel { try? await channel.close() }
        for channel in record.connections.takeOpen() { try? await channel.close() }
    }
}

/// What the connections of one scripted listener did, shared with their handlers.
final class ScriptedRecord: Sendable {
    struct State {
        var commands: [String] = []
        var messages: [String] = []
    }

    let state = Locked(State())
    let connections = AcceptedConnections()

    func command(_ line: String) {
        state.withLock { state in
            if state.commands.count < 1000 { state.commands.append(line) }
        }
    }

    func message(_ text: String) {
        state.withLock { state in
            if state.messages.count < 100 { state.messages.append(text) }
        }
    }
}

private final class ScriptedSMTPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maximumLineLength = 16 * 1024
    static let maximumMessageSize = 1 << 20

    /// Where the next line goes.
    private enum Phase {
        case command
        /// AUTH PLAIN without an initial response, or CRAM-MD5: the next line is the response.
        case authResponse
        case authLoginUser
        case authLoginPassword
        case data
        case closing
    }

    let script: ScriptedSMTPListener.Script
    let record: ScriptedRecord
    private var pending: [UInt8] = []
    private var phase = Phase.command
    private var greeted = false
    private var mailAccepted = false
    private var recipientsTried = 0
    private var recipientsAccepted = 0
    private var message: [UInt8] = []
    private var messageTooBig = false

    init(script: ScriptedSMTPListener.Script, record: ScriptedRecord) {
        self.script = script
        self.record = record
    }

    func channelActive(context: ChannelHandlerContext) {
        reply(script.greeting, context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard phase != .closing else { return }
        pending += unwrapInboundIn(data).readableBytesView
        while phase != .closing, let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(pending[..<end])
            pending.removeSubrange(...end)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            handle(line, context: context)
        }
        if phase != .closing, pending.count > Self.maximumLineLength {
            pending = []
            reply("500 5.5.2 Error: line too long", context: context, thenClose: true)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func handle(_ line: [UInt8], context: ChannelHandlerContext) {
        if phase == .data {
            dataLine(line, context: context)
            return
        }
        let text = String(decoding: line, as: UTF8.self)
        record.command(text)
        switch phase {
        case .authResponse, .authLoginPassword:
            phase = .command
            reply(text == "*" ? "501 5.7.0 Authentication aborted" : script.authReply, context: context)
        case .authLoginUser:
            if text == "*" {
                phase = .command
                reply("501 5.7.0 Authentication aborted", context: context)
            } else {
                phase = .authLoginPassword
                reply("334 UGFzc3dvcmQ6", context: context)
            }
        case .command:
            command(text, context: context)
        case .data, .closing:
            break
        }
    }

    private func command(_ text: String, context: ChannelHandlerContext) {
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        let verb = words.first.map { $0.uppercased() } ?? ""
        switch verb {
        case "EHLO":
            greeted = true
            resetTransaction()
            let lines = [script.domain] + script.capabilities
            reply(lines.enumerated().map { "250\($0.offset == lines.count - 1 ? " " : "-")\($0.element)" }.joined(separator: "\r\n"), context: context)
        case "HELO":
            greeted = true
            resetTransaction()
            reply("250 \(script.domain)", context: context)
        case "AUTH":
            auth(words.dropFirst().map(String.init), context: context)
        case "MAIL":
            if !greeted {
                reply("503 5.5.1 Error: send HELO/EHLO first", context: context)
            } else if mailAccepted {
                reply("503 5.5.1 Error: nested MAIL command", context: context)
            } else {
                mailAccepted = script.mailReply.hasPrefix("2")
                reply(script.mailReply, context: context)
            }
        case "RCPT":
            guard mailAccepted else { return reply("503 5.5.1 Error: need MAIL command", context: context) }
            let answer = script.rcptReplies.isEmpty ? "250 2.1.5 Ok" : script.rcptReplies[min(recipientsTried, script.rcptReplies.count - 1)]
            recipientsTried += 1
            if answer.hasPrefix("2") { recipientsAccepted += 1 }
            reply(answer, context: context)
        case "DATA":
            guard mailAccepted else { return reply("503 5.5.1 Error: need RCPT command", context: context) }
            guard recipientsAccepted > 0 else { return reply("554 5.5.1 Error: no valid recipients", context: context) }
            if script.dataReply.hasPrefix("354") {
                phase = .data
                message = []
                messageTooBig = false
            }
            reply(script.dataReply, context: context)
        case "RSET":
            resetTransaction()
            reply(script.rsetReply, context: context)
        case "NOOP":
            reply(script.noopReply, context: context)
        case "QUIT":
            reply(script.quitReply, context: context, thenClose: true)
        default:
            reply(script.unknownReply, context: context)
        }
    }

    /// AUTH mechanism [initial-response] (RFC 4954 §4).
    private func auth(_ arguments: [String], context: ChannelHandlerContext) {
        let mechanism = arguments.first?.uppercased() ?? ""
        let initialResponse = arguments.count > 1 ? arguments[1] : nil
        switch mechanism {
        case "PLAIN":
            if initialResponse != nil {
                reply(script.authReply, context: context)
            } else {
                phase = .authResponse
                reply("334 ", context: context)
            }
        case "LOGIN":
            if initialResponse != nil {
                phase = .authLoginPassword
                reply("334 UGFzc3dvcmQ6", context: context)
            } else {
                phase = .authLoginUser
                reply("334 VXNlcm5hbWU6", context: context)
            }
        case "CRAM-MD5":
            phase = .authResponse
            // base64("<1896.697170952@scripted.test>"), a fixed challenge (RFC 2195).
            reply("334 PDE4OTYuNjk3MTcwOTUyQHNjcmlwdGVkLnRlc3Q+", context: context)
        case "":
            reply("501 5.5.4 Syntax: AUTH mechanism", context: context)
        default:
            reply("535 5.7.8 Error: authentication failed: Invalid authentication mechanism", context: context)
        }
    }

    /// One line of the message: "." ends it; a leading "." is removed (RFC 5321 §4.5.2).
    private func dataLine(_ line: [UInt8], context: ChannelHandlerContext) {
        if line == [UInt8(ascii: ".")] {
            phase = .command
            // A message over the limit is kept cut at it.
            record.message(String(decoding: message, as: UTF8.self))
            let answer = messageTooBig ? "552 5.3.4 Error: message file too big" : script.messageReply
            resetTransaction()
            reply(answer, context: context)
            return
        }
        let content = line.first == UInt8(ascii: ".") ? line.dropFirst() : line[...]
        if message.count + content.count + 2 > Self.maximumMessageSize {
            messageTooBig = true
        } else {
            message += content
            message += [13, 10]
        }
    }

    private func resetTransaction() {
        mailAccepted = false
        recipientsTried = 0
        recipientsAccepted = 0
        message = []
    }

    /// Writes `text` and CRLF; closes after it when asked to, or when its last line starts with 421.
    private func reply(_ text: String, context: ChannelHandlerContext, thenClose: Bool = false) {
        let lastLine = text.split(separator: "\r\n").last.map(String.init) ?? text
        let closes = thenClose || lastLine.hasPrefix("421")
        let write = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")))
        if closes {
            phase = .closing
            write.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }
}
