import MailAuditCore
import NIOCore
import NIOPosix

/// How one exchange with one server failed.
enum ExchangeFailure: Error, Hashable, Sendable {
    /// Nothing usable arrived before the deadline.
    case timeout
    /// Only malformed packets arrived before the deadline.
    case malformed(String)
    /// The server or the network refused: ICMP unreachable, connection refused, closed early.
    case network(String)
    /// The calling task was cancelled.
    case cancelled
}

/// Decides whether a packet is the reply to our query (RFC 5452 §3: ID, source address and question must match).
struct ReplyMatcher: Sendable {
    enum Verdict {
        case reply(DecodedReply)
        case ignored
        case malformed(String)
    }

    let id: UInt16
    let question: DNSQuestion

    func judge(_ bytes: [UInt8]) -> Verdict {
        let reply: DecodedReply
        do {
            reply = try LDNSCodec.decodeReply(bytes)
        } catch {
            return .malformed(error.reason)
        }
        guard reply.isResponse, reply.id == id else { return .ignored }
        if let echoed = reply.question {
            guard echoed == question else { return .ignored }
        } else if reply.rcode == ResponseCode.noError || reply.rcode == ResponseCode.nxDomain {
            // Only an error reply (FORMERR, NOTIMP, ...) may leave out the question.
            return .ignored
        }
        return .reply(reply)
    }
}

/// Sends one query to one server over TCP with SwiftNIO and waits for the matching reply
/// (the UDP path is ``DatagramPool``).
///
/// Each exchange uses its own connection, closed when the exchange ends. Nothing blocks a thread:
/// the caller suspends on a promise that the first of reply, deadline, error or cancellation completes.
struct TCPTransport: Sendable {
    let group: any EventLoopGroup

    func exchange(query: [UInt8], matcher: ReplyMatcher, server: SocketAddress, peer: String, timeout: Duration)
        async -> Result<DecodedReply, ExchangeFailure>
    {
        let loop = group.next()
        let promise = loop.makePromise(of: DecodedReply.self)
        // Written and read only on `loop`: the reason of the last malformed message seen.
        let malformed = NIOLoopBoundBox.makeEmptyBox(valueType: String.self, eventLoop: loop)
        let deadline = loop.scheduleTask(in: TimeAmount(timeout)) {
            promise.fail(malformed.value.map { ExchangeFailure.malformed($0) } ?? .timeout)
        }
        let channel = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    // Frames are at most 2 + 65535 octets; more than two buffered means a broken peer.
                    try operations.addHandler(ByteToMessageHandler(DNSFrameDecoder(), maximumBufferSize: 2 * 65_537))
                    try operations.addHandler(TCPReplyHandler(matcher: matcher, peer: peer, promise: promise, malformed: malformed))
                }
            }
            .connect(to: server)

        var message = ByteBuffer()
        // RFC 1035 §4.2.2: a two-octet length field before each message.
        message.writeInteger(UInt16(truncatingIfNeeded: query.count))
        message.writeBytes(query)
        let outgoing = message
        channel.whenComplete { result in
            switch result {
            case .success(let channel):
                channel.writeAndFlush(outgoing).whenFailure { error in
                    promise.fail(ExchangeFailure(error, peer: peer))
                }
            case .failure(let error):
                promise.fail(ExchangeFailure(error, peer: peer))
            }
        }

        let result = await promise.reply(peer: peer) { promise.fail(ExchangeFailure.cancelled) }
        deadline.cancel()
        channel.whenSuccess { $0.close(promise: nil) }
        return result
    }
}

extension EventLoopPromise where Value == DecodedReply {
    /// Suspends until the promise is completed; when the task is cancelled, `onCancel` must
    /// complete it (with ``ExchangeFailure/cancelled``).
    func reply(peer: String, onCancel: @escaping @Sendable () -> Void) async -> Result<DecodedReply, ExchangeFailure> {
        await withTaskCancellationHandler {
            do {
                return .success(try await futureResult.get())
            } catch let failure as ExchangeFailure {
                return .failure(failure)
            } catch {
                return .failure(ExchangeFailure(error, peer: peer))
            }
        } onCancel: {
            onCancel()
        }
    }
}

extension ExchangeFailure {
    /// Maps a NIO or socket error to a failure that names the peer.
    init(_ error: any Error, peer: String) {
        if let failure = error as? ExchangeFailure {
            self = failure
        } else if let error = error as? IOError, error.errnoCode == ECONNREFUSED {
            self = .network("\(peer) refused the query (connection refused or ICMP port unreachable)")
        } else if case ChannelError.connectTimeout = error {
            self = .timeout
        } else {
            self = .network("\(peer): \(error)")
        }
    }
}

/// Splits a TCP stream into DNS messages (RFC 1035 §4.2.2).
private struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let frame = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

/// Completes the exchange's promise from framed messages on a TCP connection.
private final class TCPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let matcher: ReplyMatcher
    private let peer: String
    private let promise: EventLoopPromise<DecodedReply>
    private let malformed: NIOLoopBoundBox<String?>

    init(matcher: ReplyMatcher, peer: String, promise: EventLoopPromise<DecodedReply>, malformed: NIOLoopBoundBox<String?>) {
        self.matcher = matcher
        self.peer = peer
        self.promise = promise
        self.malformed = malformed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch matcher.judge(Array(Self.unwrapInboundIn(data).readableBytesView)) {
        case .reply(let reply): promise.succeed(reply)
        case .ignored: break
        case .malformed(let reason): malformed.value = reason
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let reason = malformed.value.map { "malformed reply from \(peer): \($0)" }
        promise.fail(ExchangeFailure.network(reason ?? "\(peer) closed the connection without a reply"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
