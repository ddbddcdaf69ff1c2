import Foundation
import MailAuditCore
import NIOCore
import NIOPosix
import Testing
@testable import MailAuditDNS

/// A UDP server on 127.0.0.1 that answers each query through `respond`, which returns the
/// datagrams to send back (none for silence). It records the source port of every query.
private final class ScriptedUDPServer: Sendable {
    /// Numbers appended from several tasks.
    final class PortLog: Sendable {
        let ports = Locked<[Int]>([])
    }

    private let log = PortLog()
    private let respond: @Sendable ([UInt8]) -> [[UInt8]]
    private let channel: any Channel

    init(respond: @escaping @Sendable ([UInt8]) -> [[UInt8]]) async throws {
        self.respond = respond
        let ports = log
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(respond: respond, ports: ports))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    var sourcePorts: [Int] { log.ports.withLock { $0 } }

    var nameserver: Nameserver { Nameserver(address: .v4([127, 0, 0, 1]), port: channel.localAddress?.port ?? 0) }

    func stop() async { try? await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let respond: @Sendable ([UInt8]) -> [[UInt8]]
        let ports: PortLog

        init(respond: @escaping @Sendable ([UInt8]) -> [[UInt8]], ports: PortLog) {
            self.respond = respond
            self.ports = ports
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = Self.unwrapInboundIn(data)
            ports.ports.withLock { $0.append(envelope.remoteAddress.port ?? 0) }
            for reply in respond(Array(envelope.data.readableBytesView)) {
                context.write(Self.wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply))),
                              promise: nil)
            }
            context.flush()
        }
    }
}

/// The query turned into an NXDOMAIN reply with the same ID and question.
private func nxdomain(_ query: [UInt8]) -> [UInt8] {
    var reply = query
    reply[2] = 0x81  // QR, RD
    reply[3] = 0x83  // RA, NXDOMAIN
    return reply
}

private func question(_ name: String) throws -> DNSQuestion { DNSQuestion(try DomainName(parsing: name), .txt) }

@Suite(.timeLimit(.minutes(1))) struct NetworkResolverTests {
    @Test func repliesWithAnotherIDOrQuestionAreIgnored() async throws {
        let server = try await ScriptedUDPServer { query in
            // The forged replies say NODATA; only the real one says NXDOMAIN.
            var forged = nxdomain(query)
            forged[3] = 0x80
            var wrongID = forged
            wrongID[0] ^= 0xFF
            var wrongQuestion = forged
            wrongQuestion[13] ^= 0x01  // a letter of the first label
            return [wrongID, wrongQuestion, nxdomain(query)]
        }
        defer { Task { await server.stop() } }
        let resolver = NetworkResolver(nameservers: [server.nameserver], timeout: .seconds(2), attempts: 1)
        let answer = await resolver.resolve(try question("spoof.example"))
        #expect(answer.outcome == .nxDomain)
        #expect(answer.question == (try question("spoof.example")))
    }

    @Test func manyQueriesShareAFewSocketsEachOnItsOwnPort() async throws {
        let server = try await ScriptedUDPServer { [nxdomain($0)] }
        defer { Task { await server.stop() } }
        let resolver = NetworkResolver(nameservers: [server.nameserver], timeout: .seconds(2), attempts: 1)
        let outcomes = await withTaskGroup(of: DNSOutcome.self) { group in
            for index in 0..<300 {
                group.addTask { await resolver.resolve(DNSQuestion(DomainName(labels: ["n\(index)", "example"]), .txt)).outcome }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 300 && outcomes.allSatisfy { $0 == .nxDomain })
        let ports = Set(server.sourcePorts)
        #expect(ports.count >= 1 && ports.count <= DatagramPool.socketsPerServer, "ports seen: \(ports.sorted())")
        let statistics = await resolver.statistics()
        #expect(statistics.queriesSent == 300 && statistics.repeatedQueries == 0)
    }

    @Test func aWornSocketIsReplacedSoTheSourcePortChanges() async throws {
        let server = try await ScriptedUDPServer { [nxdomain($0)] }
        defer { Task { await server.stop() } }
        let pool = DatagramPool(group: MultiThreadedEventLoopGroup.singleton, socketsPerServer: 1, queriesPerSocket: 10)
        let address = try SocketAddress(ipAddress: "127.0.0.1", port: server.nameserver.port)
        for index in 0..<30 {
            let asked = DNSQuestion(DomainName(labels: ["n\(index)", "example"]), .txt)
            let query = try LDNSCodec.encodeQuery(asked, id: 0)
            let result = await pool.exchange(query: query, question: asked, server: address, peer: "test", timeout: .seconds(2))
            #expect((try? result.get())?.rcode == ResponseCode.nxDomain)
        }
        #expect(Set(server.sourcePorts).count == 3, "one socket per ten queries")
    }

    @Test func aCancelledQueryReturnsAtOnce() async throws {
        let server = try await ScriptedUDPServer { _ in [] }
        defer { Task { await server.stop() } }
        let resolver = NetworkResolver(nameservers: [server.nameserver], timeout: .seconds(120), attempts: 3)
        let started = ContinuousClock.now
        let lookup = Task { await resolver.resolve(try question("silent.example")) }
        try await Task.sleep(for: .milliseconds(100))
        lookup.cancel()
        // Cancelled before any reply: "not finished by the deadline", not a timeout of the server.
        #expect(try await lookup.value.outcome == .notFinished)
        #expect(try await lookup.value.outcome.summary == "not finished by the deadline")
        #expect(ContinuousClock.now - started < .seconds(30), "returned long before the first of three 120 s timeouts")
    }

    @Test func aClosedPortIsReportedAsRefused() async throws {
        let port = try await {
            let server = try await ScriptedUDPServer { _ in [] }
            let port = server.nameserver.port
            await server.stop()
            return port
        }()
        // The refusal comes at once; the long timeout only keeps a busy machine's pauses from turning it into a timeout.
        let resolver = NetworkResolver(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: port)], timeout: .seconds(30), attempts: 1)
        guard case .networkError(let reason) = await resolver.resolve(try question("closed.example")).outcome else {
            Issue.record("expected a network error")
            return
        }
        #expect(reason.contains("refused"))
    }
}

@Suite(.timeLimit(.minutes(1))) struct InFlightLimitTests {
    @Test func waitersAreServedInOrderAndACancelledOneLeaves() async throws {
        let limit = InFlightLimit(1)
        #expect(await limit.acquire())
        let order = ScriptedUDPServer.PortLog()
        let first = Task { if await limit.acquire() { order.ports.withLock { $0.append(1) } } }
        try await Task.sleep(for: .milliseconds(50))
        let cancelled = Task { await limit.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        let third = Task { if await limit.acquire() { order.ports.withLock { $0.append(3) } } }
        try await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        #expect(await cancelled.value == false, "a cancelled waiter gets no slot")
        limit.release()
        await first.value
        limit.release()
        await third.value
        #expect(order.ports.withLock { $0 } == [1, 3])
    }
}
