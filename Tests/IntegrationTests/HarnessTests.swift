import Foundation
import MailAuditCore
import MailAuditTesting
import Testing

extension Tag {
    /// Tests of the test harness itself: NSD, the DNS proxy, the silent listener, the static resolver.
    @Tag static var harness: Self
}

/// A name from presentation text, without the checks user input gets.
private func dn(_ text: String) -> DomainName {
    text == "." ? .root : DomainName(labels: text.split(separator: ".").map(String.init))
}

/// The self-tests of MailAuditTesting. They start real servers on 127.0.0.1 only.
@Suite(.serialized, .tags(.harness))
struct HarnessTests {
    static func fixtureServer() async throws -> NSDServer {
        let server = try NSDServer(zoneDirectory: FixtureZones.directory(bundle: .module))
        try await server.start()
        return server
    }

    // MARK: NSD

    @Test func nsdStartsAndAnswersAnAQuery() async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let reply = try #require(try await DNSProbe.query("mx1.good.test", .a, port: nsd.requirePort()))
        #expect(reply.rcode == ResponseCode.noError)
        #expect(reply.header.isAuthoritative)
        #expect(reply.addresses.map(\.description) == ["127.0.2.1"])
    }

    struct Expectation: Sendable, CustomTestStringConvertible {
        var name: String
        var type: RRType
        var rcode: UInt16
        /// The answer records' rdata in a readable form: addresses, or names for MX/CNAME/PTR.
        var answers: [String]
        var testDescription: String { "\(name) \(type)" }
    }

    /// What NSD must answer for each fixture zone (see Zones/README.md).
    static let fixtureTable: [Expectation] = [
        .init(name: "good.test", type: .mx, rcode: 0, answers: ["10 mx1.good.test", "20 mx2.good.test"]),
        .init(name: "mx1.good.test", type: .aaaa, rcode: 0, answers: ["::1"]),
        .init(name: "mx2.good.test", type: .a, rcode: 0, answers: ["127.0.2.2"]),
        .init(name: "mx2.good.test", type: .aaaa, rcode: 0, answers: ["::ffff:127.0.2.2"]),
        .init(name: "1.2.0.127.in-addr.arpa", type: .ptr, rcode: 0, answers: ["mx1.good.test"]),
        .init(name: "2.2.0.127.in-addr.arpa", type: .ptr, rcode: 0, answers: ["mx2.good.test"]),
        .init(name: IPAddress("::1").map { $0.reverseName.description } ?? "", type: .ptr, rcode: 0, answers: ["mx1.good.test"]),
        .init(name: IPAddress("::ffff:127.0.2.2").map { $0.reverseName.description } ?? "", type: .ptr, rcode: 0,
              answers: ["mx2.good.test"]),
        .init(name: "good.test", type: .txt, rcode: 0, answers: ["v=spf1 mx -all"]),
        .init(name: "nullmx.test", type: .mx, rcode: 0, answers: ["0 ."]),
        .init(name: "nullmx-mixed.test", type: .mx, rcode: 0, answers: ["0 .", "10 mx.nullmx-mixed.test"]),
        .init(name: "implicit.test", type: .mx, rcode: 0, answers: []),
        .init(name: "implicit.test", type: .a, rcode: 0, answers: ["127.0.3.1"]),
        .init(name: "nomail.test", type: .mx, rcode: 0, answers: []),
        .init(name: "nomail.test", type: .a, rcode: 0, answers: []),
        .init(name: "nomail.test", type: .aaaa, rcode: 0, answers: []),
        .init(name: "mx.cname-mx.test", type: .a, rcode: 0, answers: ["CNAME real.cname-mx.test", "127.0.12.1"]),
        .init(name: "ipliteral.test", type: .mx, rcode: 0, answers: ["10 127.0.4.1", "20 [127.0.4.1]"]),
        .init(name: "gone.dangling.test", type: .a, rcode: 3, answers: []),
        .init(name: "noaddr.dangling.test", type: .a, rcode: 0, answers: []),
        .init(name: "mx.private.test", type: .a, rcode: 0, answers: ["10.0.0.5", "192.168.1.1"]),
        .init(name: "mx.ptr-missing.test", type: .a, rcode: 0, answers: ["127.0.5.1"]),
        .init(name: "1.5.0.127.in-addr.arpa", type: .ptr, rcode: 3, answers: []),
        .init(name: "1.6.0.127.in-addr.arpa", type: .ptr, rcode: 0, answers: ["other.fcrdns-mismatch.test"]),
        .init(name: "other.fcrdns-mismatch.test", type: .a, rcode: 0, answers: ["127.0.6.99"]),
        .init(name: "1.7.0.127.in-addr.arpa", type: .ptr, rcode: 0, answers: ["mail.ptr-differs.test"]),
        .init(name: "mail.ptr-differs.test", type: .a, rcode: 0, answers: ["127.0.7.1"]),
        .init(name: "loop1.cname-loop.test", type: .a, rcode: 0,
              answers: ["CNAME loop2.cname-loop.test", "CNAME loop1.cname-loop.test"]),
        .init(name: "servfail.test", type: .mx, rcode: 2, answers: []),
        .init(name: "mx.servfail.test", type: .a, rcode: 2, answers: []),
        .init(name: "mx.slow.test", type: .a, rcode: 0, answers: ["127.0.9.1"]),
        .init(name: "drop.slow.test", type: .a, rcode: 0, answers: ["127.0.9.2"]),
        .init(name: "bench.test", type: .mx, rcode: 0,
              answers: ["10 mx1.bench.test", "20 mx2.bench.test", "30 mx3.bench.test", "40 backup.bench.test"]),
        .init(name: "backup.bench.test", type: .a, rcode: 0, answers: ["127.0.10.3"]),
        .init(name: "3.10.0.127.in-addr.arpa", type: .ptr, rcode: 0, answers: ["out-3.bench.test"]),
        .init(name: "nonexistent.test", type: .a, rcode: 3, answers: []),
        .init(name: "_dmarc.good.test", type: .txt, rcode: 0, answers: ["v=DMARC1; p=reject; rua=mailto:dmarc-reports@good.test"]),
        .init(name: "0.127.in-addr.arpa", type: .ptr, rcode: 0, answers: []),  // empty non-terminal
        .init(name: "example.com", type: .a, rcode: 5, answers: []),  // not served: REFUSED
    ]

    /// Renders an answer record the way `fixtureTable` writes it.
    static func render(_ record: DNSWire.Record) -> String {
        switch record.data {
        case .a(let address), .aaaa(let address): address.description
        case .mx(let preference, let exchange): "\(preference) \(exchange)"
        case .cname(let target): "CNAME \(target)"
        case .ptr(let target), .ns(let target): target.description
        case .txt: record.data?.joinedText ?? ""
        case .other(let text): text
        case .ds, .dnskey, .rrsig, .nsec, .nsec3, .tlsa: "\(record.type) \(record.rdata)"
        case nil: "\(record.type) \(record.rdata)"
        }
    }

    @Test func everyFixtureZoneAnswersAsDocumented() async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let port = try nsd.requirePort()
        for row in Self.fixtureTable {
            let reply = try #require(try await DNSProbe.query(row.name, row.type, port: port), "\(row.testDescription)")
            #expect(reply.rcode == row.rcode, "\(row.testDescription): rcode \(ResponseCode.name(reply.rcode))")
            let answers = reply.answers.map(Self.render)
            #expect(answers == row.answers, "\(row.testDescription)")
        }
    }

    @Test func everyFixtureZoneFilePassesNSDCheckzoneExceptTheBrokenOne() async throws {
        let zones = try FixtureZones.all(bundle: .module)
        #expect(zones.count >= 20)
        for zone in zones {
            guard case .file(let url) = zone.source else { continue }
            let result = try await runProcess(
                URL(fileURLWithPath: "/usr/sbin/nsd-checkzone"), [zone.name, url.path], timeout: .seconds(20))
            if zone.name == "servfail.test" {
                #expect(result.exitCode != 0, "servfail.test must stay broken")
            } else {
                #expect(result.exitCode == 0, "\(zone.name): \(result.stderr)")
            }
        }
    }

    @Test func brokenAndMissingZonesYieldServfail() async throws {
        let nsd = NSDServer(zones: [
            .text("inline.test", """
                $ORIGIN inline.test.
                @ 300 IN SOA ns.inline.test. hostmaster.inline.test. 1 3600 600 86400 300
                @ 300 IN NS ns.inline.test.
                ns 300 IN A 127.0.0.1
                www 300 IN A 127.0.0.80
                """),
            .broken("gone.test"),
            .text("garbled.test", "this is not a zone file\n"),
        ])
        try await nsd.start()
        defer { nsd.stop() }
        let port = try nsd.requirePort()
        let www = try #require(try await DNSProbe.query("www.inline.test", .a, port: port))
        #expect(www.addresses.map(\.description) == ["127.0.0.80"])
        for name in ["gone.test", "x.gone.test", "garbled.test"] {
            let reply = try #require(try await DNSProbe.query(name, .a, port: port))
            #expect(reply.rcode == ResponseCode.servFail, "\(name): \(ResponseCode.name(reply.rcode))")
        }
        #expect(nsd.log.contains("gone.test"))
    }

    @Test func largeAnswerIsTruncatedOverUDPAndWholeOverTCP() async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let port = try nsd.requirePort()
        let udp = try #require(try await DNSProbe.query("big.truncated.test", .a, port: port))
        #expect(udp.header.isTruncated)
        let tcp = try #require(try await DNSProbe.query("big.truncated.test", .a, port: port, transport: .tcp))
        #expect(!tcp.header.isTruncated)
        #expect(tcp.addresses.count == 100)
        #expect(tcp.bytes.count > 1232)
    }

    @Test func stoppedServerNoLongerAnswers() async throws {
        let nsd = try await Self.fixtureServer()
        let port = try nsd.requirePort()
        nsd.stop()
        #expect(nsd.port == nil)
        #expect(try await DNSProbe.query("good.test", .mx, port: port, timeout: .milliseconds(300)) == nil)
    }

    @Test func nsdThatCannotStartReportsItsLog() async throws {
        // The same zone twice is a configuration error: NSD exits at once.
        let nsd = NSDServer(zones: [.broken("twice.test"), .broken("twice.test")], startTimeout: .seconds(3))
        let error = await #expect(throws: HarnessError.self) { try await nsd.start() }
        guard case .nsdDidNotStart(let reason, let log) = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(reason.contains("exited"))
        #expect(log.contains("duplicate zone twice.test"))
        #expect(nsd.port == nil)
    }

    // MARK: DNS proxy

    @Test(arguments: DNSProbe.Transport.allCases)
    func proxyDelaysEveryAnswer(transport: DNSProbe.Transport) async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let delay = Duration.milliseconds(150)
        let proxy = try DNSProxy(upstreamPort: nsd.requirePort(), delay: delay)
        try await proxy.start()
        let port = try proxy.requirePort()
        let reply = try #require(try await DNSProbe.query("mx1.good.test", .a, port: port, transport: transport))
        print("proxy \(transport): one answer after \(reply.elapsed) (delay \(delay))")
        #expect(reply.addresses.map(\.description) == ["127.0.2.1"])
        #expect(reply.elapsed >= delay)

        // Ten queries at once take about one delay, not ten: the delay is not serialised.
        let clock = ContinuousClock()
        let start = clock.now
        let replies = try await withThrowingTaskGroup(of: DNSProbe.Reply?.self) { group in
            for _ in 0..<10 {
                group.addTask { try await DNSProbe.query("big.truncated.test", .mx, port: port, transport: transport) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = clock.now - start
        print("proxy \(transport): ten concurrent answers after \(elapsed)")
        #expect(replies.allSatisfy { $0 != nil })
        #expect(elapsed >= delay)
        #expect(elapsed < delay * 10)

        let statistics = proxy.statistics
        #expect(statistics.forwarded[DNSQuestion(dn("mx1.good.test"), .a)] == 1)
        #expect(statistics.forwarded[DNSQuestion(dn("big.truncated.test"), .mx)] == 10)
        #expect(statistics.repeatedQuestions.keys.map(\.description) == ["big.truncated.test. MX"])
        #expect(statistics.totalForwardedOverTCP == (transport == .tcp ? 11 : 0))
        #expect(statistics.repliesRelayed == 11)
        await proxy.stop()
    }

    @Test func proxyPassesTruncationThroughAndCountsTheTCPRetryApart() async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let proxy = try DNSProxy(upstreamPort: nsd.requirePort())
        try await proxy.start()
        let port = try proxy.requirePort()
        let udp = try #require(try await DNSProbe.query("big.truncated.test", .a, port: port))
        #expect(udp.header.isTruncated)
        let tcp = try #require(try await DNSProbe.query("big.truncated.test", .a, port: port, transport: .tcp))
        #expect(tcp.addresses.count == 100)
        let question = DNSQuestion(dn("big.truncated.test"), .a)
        #expect(proxy.statistics.forwarded[question] == 2)
        #expect(proxy.statistics.forwardedOverTCP[question] == 1)
        #expect(proxy.statistics.repeatedQuestions.isEmpty)
        await proxy.stop()
    }

    @Test func proxyDropsConfiguredNamesAndTheirSubdomains() async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let proxy = try DNSProxy(upstreamPort: nsd.requirePort(), dropping: [dn("drop.slow.test")])
        try await proxy.start()
        let port = try proxy.requirePort()
        for transport in DNSProbe.Transport.allCases {
            let kept = try await DNSProbe.query("mx.slow.test", .a, port: port, transport: transport)
            #expect(kept?.addresses.map(\.description) == ["127.0.9.1"])
            for name in ["drop.slow.test", "DROP.slow.test", "a.b.drop.slow.test"] {
                let dropped = try await DNSProbe.query(name, .a, port: port, transport: transport, timeout: .milliseconds(400))
                #expect(dropped == nil, "\(name) over \(transport) was answered")
            }
        }
        let statistics = proxy.statistics
        #expect(statistics.dropped[DNSQuestion(dn("drop.slow.test"), .a)] == 4)
        #expect(statistics.dropped[DNSQuestion(dn("a.b.drop.slow.test"), .a)] == 2)
        #expect(statistics.forwarded[DNSQuestion(dn("mx.slow.test"), .a)] == 2)
        #expect(statistics.forwarded.keys.allSatisfy { !$0.name.isSubdomain(of: dn("drop.slow.test")) })

        proxy.droppedNames = []
        let nowKept = try await DNSProbe.query("drop.slow.test", .a, port: port)
        #expect(nowKept?.addresses.map(\.description) == ["127.0.9.2"])
        await proxy.stop()
    }

    @Test func proxySurvivesGarbage() async throws {
        let nsd = try await Self.fixtureServer()
        defer { nsd.stop() }
        let proxy = try DNSProxy(upstreamPort: nsd.requirePort())
        try await proxy.start()
        let port = try proxy.requirePort()
        let garbage: [[UInt8]] = [
            [0xFF],
            [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 0x0C, 0, 1, 0, 1],  // name pointer to itself
            [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 0x61],  // label longer than the message
            [0x12, 0x34, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF],
            Array(repeating: 0xAB, count: 600),
        ]
        for message in garbage {
            for transport in DNSProbe.Transport.allCases {
                _ = try await DNSProbe.exchange(message, port: port, transport: transport, timeout: .milliseconds(200))
            }
        }
        let reply = try await DNSProbe.query("mx1.good.test", .a, port: port)
        #expect(reply?.addresses.map(\.description) == ["127.0.2.1"])
        #expect(proxy.statistics.unparsable == garbage.count * 2)
        await proxy.stop()
    }

    @Test func proxyAndProbeRefuseNonLoopbackAddresses() async throws {
        #expect(throws: HarnessError.notLoopback("192.0.2.1")) {
            try DNSProxy(upstreamPort: 53, upstreamHost: "192.0.2.1")
        }
        await #expect(throws: HarnessError.notLoopback("192.0.2.1")) {
            try await DNSProbe.query("good.test", .mx, host: "192.0.2.1", port: 53)
        }
        #expect(throws: HarnessError.notLoopback("localhost")) { try Loopback.checkedAddress("localhost") }
        #expect(try Loopback.checkedAddress("127.1.2.3") == IPAddress("127.1.2.3"))
        #expect(try Loopback.checkedAddress("::1") == IPAddress("::1"))
    }

    // MARK: Silent listener

    @Test func silentListenerNeverAnswers() async throws {
        let silent = SilentListener(udp: true, tcp: true)
        try await silent.start()
        let port = try silent.requirePort()
        for transport in DNSProbe.Transport.allCases {
            let reply = try await DNSProbe.query("good.test", .mx, port: port, transport: transport, timeout: .milliseconds(500))
            #expect(reply == nil, "\(transport)")
        }
        #expect(silent.datagramsReceived == 1)
        #expect(silent.connectionsAccepted == 1)
        #expect(silent.bytesReceivedOverTCP > 2)
        await silent.stop()
        #expect(silent.port == nil)
    }

    // MARK: Helpers

    @Test func freePortIsOnLoopbackAndBindable() throws {
        let port = try Loopback.freePort()
        #expect(port > 0)
    }

    @Test func runProcessCollectsOutputAndExitCode() async throws {
        let result = try await runProcess(
            URL(fileURLWithPath: "/bin/sh"), ["-c", "echo out; echo \"$HARNESS_VALUE\" >&2; exit 3"],
            environment: ["HARNESS_VALUE": "err"])
        #expect(result.exitCode == 3)
        #expect(!result.timedOut)
        #expect(result.stdout == "out\n")
        #expect(result.stderr == "err\n")
    }

    @Test func runProcessKillsAProcessThatOutlivesItsTimeout() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await runProcess(URL(fileURLWithPath: "/bin/sleep"), ["30"], timeout: .milliseconds(300))
        #expect(result.timedOut)
        #expect(result.terminatedBySignal)
        #expect(clock.now - start < .seconds(10))
    }

    @Test func builtProductPathFindsTheCLI() throws {
        let path = try builtProductPath("mailaudit")
        #expect(FileManager.default.isExecutableFile(atPath: path.path))
        #expect(throws: HarnessError.self) { try builtProductPath("no-such-product") }
    }
}

/// The in-memory resolver behaves like an authoritative server.
@Suite(.tags(.harness))
struct HarnessStaticResolverTests {
    static let zone = """
        $ORIGIN example.test.
        @            MX    10 mx
        @            TXT   "v=spf1 " "mx -all"   ; two strings, joined by readers
        mx           A     192.0.2.1
                     AAAA  2001:db8::1
        alias        CNAME mx
        alias2       CNAME alias
        outside      CNAME nowhere.other.test.
        loop1        CNAME loop2
        loop2        CNAME loop1
        self         CNAME self
        deep.a.b     A     192.0.2.9
        1.2.0.192.in-addr.arpa. 3600 IN PTR mx.example.test.
        """

    enum Kind: Sendable, Equatable { case records(Int), noData, nxDomain, cnameLoop, timeout, servFail }

    static func kind(_ outcome: DNSOutcome) -> Kind? {
        switch outcome {
        case .records(let records): .records(records.count)
        case .noData: .noData
        case .nxDomain: .nxDomain
        case .cnameLoop: .cnameLoop
        case .timeout: .timeout
        case .serverFailure(let rcode) where rcode == ResponseCode.servFail: .servFail
        default: nil
        }
    }

    @Test(arguments: [
        ("example.test", RRType.mx, Kind.records(1), [String]()),
        ("example.test", .a, .noData, []),  // the name has records, none of this type
        ("mx.example.test", .aaaa, .records(1), []),
        ("MX.Example.TEST", .a, .records(1), []),  // case-insensitive
        ("nothing.example.test", .a, .nxDomain, []),
        ("a.b.example.test", .a, .noData, []),  // empty non-terminal above deep.a.b
        ("b.example.test", .txt, .noData, []),
        ("x.deep.a.b.example.test", .a, .nxDomain, []),
        ("alias.example.test", .a, .records(1), ["mx.example.test"]),
        ("alias2.example.test", .aaaa, .records(1), ["alias.example.test", "mx.example.test"]),
        ("alias2.example.test", .cname, .records(1), []),  // asking for the CNAME itself
        ("alias.example.test", .txt, .noData, ["mx.example.test"]),
        ("outside.example.test", .a, .nxDomain, ["nowhere.other.test"]),
        ("loop1.example.test", .a, .cnameLoop, ["loop2.example.test"]),
        ("self.example.test", .a, .cnameLoop, []),
        ("1.2.0.192.in-addr.arpa", .ptr, .records(1), []),
        ("2.0.192.in-addr.arpa", .ptr, .noData, []),
    ])
    func answersLikeAnAuthoritativeServer(name: String, type: RRType, expected: Kind, chain: [String]) async throws {
        let resolver = try StaticResolver(zone: Self.zone)
        let answer = await resolver.resolve(dn(name), type)
        #expect(Self.kind(answer.outcome) == expected)
        #expect(answer.cnameChain == chain.map(dn))
        #expect(answer.question == DNSQuestion(dn(name), type))
    }

    @Test func recordsAreParsedFromZoneText() throws {
        let resolver = try StaticResolver(zone: Self.zone)
        let answer = resolver.answer(DNSQuestion(dn("example.test"), .txt))
        #expect(answer.records.first?.data == .txt([Array("v=spf1 ".utf8), Array("mx -all".utf8)]))
        #expect(answer.records.first?.data.joinedText == "v=spf1 mx -all")
        let mx = resolver.answer(DNSQuestion(dn("example.test"), .mx)).records
        #expect(mx.map(\.description) == ["example.test. 300 IN MX 10 mx.example.test."])
        let ptr = resolver.answer(DNSQuestion(dn("1.2.0.192.in-addr.arpa"), .ptr)).records
        #expect(ptr.map(\.description) == ["1.2.0.192.in-addr.arpa. 3600 IN PTR mx.example.test."])
    }

    @Test func overridesWinOverRecordsAlongTheChain() async throws {
        let resolver = try StaticResolver(
            zone: Self.zone,
            overrides: [DNSQuestion(dn("mx.example.test"), .a): .timeout],
            nameOverrides: [dn("broken.example.test"): .serverFailure(rcode: ResponseCode.servFail)])
        #expect(await resolver.resolve(dn("mx.example.test"), .a).outcome == .timeout)
        #expect(Self.kind(await resolver.resolve(dn("mx.example.test"), .aaaa).outcome) == .records(1))
        let viaAlias = await resolver.resolve(dn("alias.example.test"), .a)
        #expect(viaAlias.outcome == .timeout)
        #expect(viaAlias.cnameChain == [dn("mx.example.test")])
        #expect(await resolver.resolve(dn("broken.example.test"), .txt).outcome == .serverFailure(rcode: 2))
        resolver.override(name: dn("example.test"), with: .serverFailure(rcode: ResponseCode.refused))
        #expect(await resolver.resolve(dn("example.test"), .mx).outcome == .serverFailure(rcode: 5))
        resolver.override(name: dn("example.test"), with: nil)
        #expect(Self.kind(await resolver.resolve(dn("example.test"), .mx).outcome) == .records(1))
    }

    @Test func countsQuestionsSoTestsCanSeeRepeats() async throws {
        let resolver = try StaticResolver(zone: Self.zone)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { _ = await resolver.resolve(dn("mx.example.test"), .a) } }
            group.addTask { _ = await resolver.resolve(dn("example.test"), .mx) }
        }
        #expect(resolver.questionsAsked.count == 21)
        #expect(resolver.questionCounts[DNSQuestion(dn("mx.example.test"), .a)] == 20)
        #expect(resolver.repeatedQuestions == [DNSQuestion(dn("mx.example.test"), .a)])
        resolver.resetCounts()
        #expect(resolver.questionsAsked.isEmpty)
        _ = resolver.answer(DNSQuestion(dn("example.test"), .mx))  // answer(_:) does not count
        #expect(resolver.questionsAsked.isEmpty)
    }

    @Test(arguments: [
        ("www A", "no rdata"),
        ("www.example. A 999.1.1.1", "bad address"),
        ("www.example. AAAA 192.0.2.1", "IPv4 address in AAAA"),
        ("www.example. MX mx.example.", "MX without preference"),
        ("www.example. BOGUS 1", "unknown type"),
        ("www.example. TXT \"open", "unterminated quote"),
        ("@ A 192.0.2.1", "@ without $ORIGIN"),
        ("$INCLUDE other.zone", "unsupported directive"),
        ("www.example. SOA ( ns. host. 1 2 3 4 5", "unbalanced parenthesis"),
        ("a..example. A 192.0.2.1", "empty label"),
    ])
    func zoneTextRejectsBadLines(line: String, reason: String) {
        #expect(throws: ZoneTextError.self, "\(reason)") { try ZoneText.parse(line) }
    }

    @Test func zoneTextReadsDirectivesParenthesesAndEscapes() throws {
        let records = try ZoneText.parse("""
            $ORIGIN example.test.
            $TTL 60
            @ IN SOA ns hostmaster (
                     1 3600 600
                     86400 300 )
            txt 120 TXT "a \\"quoted\\" word" "\\065\\066" unquoted
            $ORIGIN sub
            www A 192.0.2.7
            """)
        #expect(records.count == 3)
        #expect(records[0].type == .soa && records[0].ttl == 60)
        #expect(records[0].data == .other("ns hostmaster 1 3600 600 86400 300"))
        #expect(records[1].ttl == 120)
        #expect(records[1].data == .txt([Array("a \"quoted\" word".utf8), Array("AB".utf8), Array("unquoted".utf8)]))
        #expect(records[2].name == dn("www.sub.example.test"))
    }
}
