public import MailAuditCore
import NIOCore
import NIOPosix

/// A DNS server on 127.0.0.1, UDP and TCP on one port, whose every reply is written by a
/// script: the hostile corpus (truncated even over TCP, long CNAME chains, thousands of
/// records, malformed rdata, silence). It counts the queries it receives.
///
/// ```swift
/// let server = HostileDNSServer { query in
///     .message(HostileDNSReply(to: query, answers: [.a(query.question.name, [192, 0, 2, 1])]).bytes)
/// }
/// try await server.start()
/// ```
public final class HostileDNSServer: Sendable {
    /// One query as received.
    public struct Query: Sendable {
        public var bytes: [UInt8]
        public var question: DNSQuestion
        public var overTCP: Bool
    }

    /// What to send back.
    public enum Response: Sendable {
        case silence
        case message([UInt8])
    }

    private let script: @Sendable (Query) -> Response
    private let listeners = LoopbackDNSListeners()
    private final class QueryLog: Sendable {
        let counts = Locked<[DNSQuestion: Int]>([:])
    }
    private let log = QueryLog()

    public init(script: @escaping @Sendable (Query) -> Response) { self.script = script }

    /// The port UDP and TCP listen on, once started.
    public var port: UInt16? { listeners.port }
    /// Queries received so far, over both transports.
    public var queryCount: Int { log.counts.withLock { $0.values.reduce(0, +) } }
    /// How often each question was received.
    public var questions: [DNSQuestion: Int] { log.counts.withLock { $0 } }

    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .socket("the hostile DNS server is not started") }
        return port
    }

    /// Binds UDP and TCP on one free port of 127.0.0.1.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let group = MultiThreadedEventLoopGroup.singleton
        let answer: @Sendable ([UInt8], Bool) -> [UInt8]? = { [script, log] bytes, overTCP in
            guard let question = DNSWire.firstQuestion(of: bytes) else { return nil }
            log.counts.withLock { $0[question, default: 0] += 1 }
            if case .message(let reply) = script(Query(bytes: bytes, question: question, overTCP: overTCP)) { return reply }
            return nil
        }
        try await listeners.start(group: group, udp: { UDPScriptHandler(answer: answer) }, tcp: { TCPScriptHandler(answer: answer) })
    }

    /// Closes the listening sockets. Queries in flight may still be answered.
    public func stop() async { await listeners.stop() }
}

private final class UDPScriptHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let answer: @Sendable ([UInt8], Bool) -> [UInt8]?

    init(answer: @escaping @Sendable ([UInt8], Bool) -> [UInt8]?) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let query = envelope.data.allBytes
        guard var reply = answer(query, false) else { return }
        // Like a real server, a reply longer than the EDNS size mailaudit offers is sent over
        // UDP as its header and question with TC set, so the client asks again over TCP.
        if reply.count > HostileDNSReply.udpLimit {
            reply = Array(reply.prefix(12 + HostileDNSReply.questionLength(of: query)))
            reply[2] |= 0x02
            reply[6] = 0; reply[7] = 0; reply[8] = 0; reply[9] = 0; reply[10] = 0; reply[11] = 0
        }
        let datagram = ByteBuffer(bytes: reply)
        context.writeAndFlush(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: datagram)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

private final class TCPScriptHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let answer: @Sendable ([UInt8], Bool) -> [UInt8]?

    init(answer: @escaping @Sendable ([UInt8], Bool) -> [UInt8]?) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let reply = answer(Self.unwrapInboundIn(data).allBytes, true) else { return }
        context.writeAndFlush(Self.wrapOutboundOut(ByteBuffer(bytes: reply.prefix(65_535)).lengthPrefixed), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}

/// A reply to a query, built record by record; rdata is raw, so it may lie about its length.
public struct HostileDNSReply: Sendable {
    /// One resource record with raw rdata; `rdlength` overrides the true length when set.
    public struct RR: Sendable {
        public var name: DomainName
        public var type: RRType
        public var ttl: UInt32 = 300
        public var rdata: [UInt8]
        public var rdlength: UInt16?

        public init(name: DomainName, type: RRType, rdata: [UInt8], rdlength: UInt16? = nil) {
            self.name = name
            self.type = type
            self.rdata = rdata
            self.rdlength = rdlength
        }

        public static func a(_ name: DomainName, _ bytes: [UInt8]) -> RR { RR(name: name, type: .a, rdata: bytes) }
        public static func cname(_ name: DomainName, _ target: DomainName) -> RR {
            RR(name: name, type: .cname, rdata: DNSWire.encode(target) ?? [0])
        }
        public static func mx(_ name: DomainName, _ preference: UInt16, _ exchange: DomainName) -> RR {
            RR(name: name, type: .mx, rdata: [UInt8(preference >> 8), UInt8(preference & 0xFF)] + (DNSWire.encode(exchange) ?? [0]))
        }
        /// A TXT record of `text`, split into strings of at most 255 octets.
        public static func txt(_ name: DomainName, _ text: String) -> RR {
            let bytes = Array(text.utf8)
            var rdata: [UInt8] = []
            for start in stride(from: 0, to: max(bytes.count, 1), by: 255) {
                let chunk = bytes[start..<min(start + 255, bytes.count)]
                rdata.append(UInt8(chunk.count))
                rdata += chunk
            }
            return RR(name: name, type: .txt, rdata: rdata)
        }
    }

    /// Replies longer than this go over UDP truncated (the EDNS size mailaudit offers is 1232).
    static let udpLimit = 1232

    /// The length of the first question of an uncompressed query.
    public static func questionLength(of query: [UInt8]) -> Int {
        var position = 12
        while position < query.count, query[position] != 0 { position += 1 + Int(query[position]) }
        return min(position + 5, query.count) - 12
    }

    public var query: HostileDNSServer.Query
    public var rcode: UInt8 = 0
    public var truncated = false
    public var answers: [RR] = []

    public init(to query: HostileDNSServer.Query, rcode: UInt8 = 0, truncated: Bool = false, answers: [RR] = []) {
        self.query = query
        self.rcode = rcode
        self.truncated = truncated
        self.answers = answers
    }

    /// The message: the query's ID and question, QR, AA and RA set, no authority or additional.
    public var bytes: [UInt8] {
        var out: [UInt8] = Array(query.bytes.prefix(2))
        out.append(0x84 | (truncated ? 0x02 : 0) | (query.bytes.count > 2 ? query.bytes[2] & 0x01 : 0))
        out.append(0x80 | (rcode & 0x0F))
        DNSWire.append(1, to: &out)
        DNSWire.append(UInt16(truncatingIfNeeded: answers.count), to: &out)
        DNSWire.append(0, to: &out)
        DNSWire.append(0, to: &out)
        out += DNSWire.encode(query.question.name) ?? [0]
        DNSWire.append(query.question.type.rawValue, to: &out)
        DNSWire.append(1, to: &out)
        for record in answers {
            // The question's name is written as a pointer to it (RFC 1035 §4.1.4), so thousands of records fit.
            out += record.name == query.question.name ? [0xC0, 0x0C] : DNSWire.encode(record.name) ?? [0]
            DNSWire.append(record.type.rawValue, to: &out)
            DNSWire.append(1, to: &out)
            DNSWire.append(UInt16(record.ttl >> 16), to: &out)
            DNSWire.append(UInt16(record.ttl & 0xFFFF), to: &out)
            DNSWire.append(record.rdlength ?? UInt16(truncatingIfNeeded: record.rdata.count), to: &out)
            out += record.rdata
        }
        return out
    }
}
