import MailAuditCore
import MailAuditTesting
import Testing
@testable import MailAuditDNS

/// An upstream that answers from a table after a short delay and counts what it is asked.
private actor CountingUpstream: Resolver, ResolverStatisticsSource {
    private let table: [DNSQuestion: DNSAnswer]
    private let delay: Duration
    private(set) var calls: [DNSQuestion: Int] = [:]

    init(_ answers: [DNSAnswer], delay: Duration = .milliseconds(20)) {
        table = Dictionary(answers.map { ($0.question, $0) }, uniquingKeysWith: { first, _ in first })
        self.delay = delay
    }

    func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        calls[question, default: 0] += 1
        do {
            try await Task.sleep(for: delay)
        } catch {
            return DNSAnswer(question: question, outcome: .timeout)
        }
        return table[question] ?? DNSAnswer(question: question, outcome: .nxDomain)
    }

    var totalCalls: Int { calls.values.reduce(0, +) }

    func statistics() async -> ResolverStatistics {
        var statistics = ResolverStatistics()
        statistics.queriesSent = totalCalls
        statistics.retries = 2
        statistics.tcpFallbacks = 1
        return statistics
    }
}

private func question(_ name: String, _ type: RRType = .a) -> DNSQuestion {
    DNSQuestion(wireName(name), type)
}

private func aRecord(_ name: String, _ address: String) -> DNSRecord {
    DNSRecord(name: wireName(name), type: .a, ttl: 60, data: .a(IPAddress(address) ?? .v4([0, 0, 0, 0])))
}

/// An answer that ends in a CNAME without records, as an authoritative server gives for an out-of-zone target.
private func bareCNAME(_ name: String, to target: String, ad: Bool = false) -> DNSAnswer {
    DNSAnswer(question: question(name), outcome: .noData, cnameChain: [wireName(target)], dnssec: ad ? .secure : .indeterminate)
}

@Suite(.timeLimit(.minutes(1))) struct CachingResolverTests {
    @Test func twentyConcurrentCallersReachTheUpstreamOnce() async {
        let answer = DNSAnswer(question: question("example.com"), outcome: .records([aRecord("example.com", "192.0.2.1")]))
        let upstream = CountingUpstream([answer])
        let cache = CachingResolver(upstream: upstream)
        let answers = await withTaskGroup(of: DNSAnswer.self) { group in
            for _ in 0..<20 { group.addTask { await cache.resolve(question("example.com")) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 20)
        #expect(answers.allSatisfy { $0 == answer })
        #expect(await upstream.calls == [question("example.com"): 1])
        _ = await cache.resolve(question("example.com"))
        #expect(await upstream.totalCalls == 1)
        let statistics = await cache.statistics()
        #expect(statistics.cacheHits == 20)
        #expect(statistics.uniqueQuestions == 1)
    }

    @Test func distinctQuestionsAreAskedOnceEach() async {
        let upstream = CountingUpstream([])
        let cache = CachingResolver(upstream: upstream)
        let questions = [question("a.example"), question("a.example", .aaaa), question("b.example"), question("a.example", .mx)]
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<5 {
                for asked in questions { group.addTask { _ = await cache.resolve(asked) } }
            }
        }
        #expect(await upstream.calls == Dictionary(uniqueKeysWithValues: questions.map { ($0, 1) }))
        let statistics = await cache.statistics()
        #expect(statistics.uniqueQuestions == 4)
        #expect(statistics.uniqueNames == 2)
        #expect(statistics.cacheHits == 16)
    }

    @Test func failuresAreCachedToo() async {
        let upstream = CountingUpstream([DNSAnswer(question: question("slow.example"), outcome: .timeout)])
        let cache = CachingResolver(upstream: upstream)
        #expect(await cache.resolve(question("slow.example")).outcome == .timeout)
        #expect(await cache.resolve(question("slow.example")).outcome == .timeout)
        #expect(await upstream.totalCalls == 1)
    }

    @Test func chasesABareCNAMEThroughTheCache() async {
        let upstream = CountingUpstream([
            bareCNAME("www.example.com", to: "shop.example.net", ad: true),
            DNSAnswer(question: question("shop.example.net"), outcome: .noData, cnameChain: [wireName("cdn.example.org")], dnssec: .secure),
            DNSAnswer(question: question("cdn.example.org"), outcome: .records([aRecord("cdn.example.org", "192.0.2.9")]), dnssec: .insecure),
        ])
        let cache = CachingResolver(upstream: upstream)
        let answer = await cache.resolve(question("www.example.com"))
        #expect(answer.question == question("www.example.com"))
        #expect(answer.cnameChain == [wireName("shop.example.net"), wireName("cdn.example.org")])
        #expect(answer.records == [aRecord("cdn.example.org", "192.0.2.9")])
        #expect(answer.dnssec == .insecure, "a chain is as secure as its weakest reply")
        // The hops are cached: asking for them directly reaches no upstream.
        _ = await cache.resolve(question("cdn.example.org"))
        _ = await cache.resolve(question("shop.example.net"))
        #expect(await upstream.calls.values.allSatisfy { $0 == 1 })
        #expect(await upstream.totalCalls == 3)
    }

    @Test func keepsNXDOMAINAtTheEndOfAChain() async {
        let upstream = CountingUpstream([bareCNAME("www.example.com", to: "gone.example.net")])
        let answer = await CachingResolver(upstream: upstream).resolve(question("www.example.com"))
        #expect(answer.outcome == .nxDomain)
        #expect(answer.cnameChain == [wireName("gone.example.net")])
    }

    @Test func doesNotChaseWhenAskedForTheCNAME() async {
        let cname = DNSAnswer(question: question("www.example.com", .cname), outcome: .noData, cnameChain: [wireName("x.example")])
        let upstream = CountingUpstream([cname])
        #expect(await CachingResolver(upstream: upstream).resolve(question("www.example.com", .cname)) == cname)
        #expect(await upstream.totalCalls == 1)
    }

    @Test func detectsALoopAcrossHopsWithoutDeadlock() async {
        let upstream = CountingUpstream([bareCNAME("a.example", to: "b.example"), bareCNAME("b.example", to: "a.example")])
        let cache = CachingResolver(upstream: upstream)
        // Both ends of the loop at once: each chase needs the other's question while it is in flight.
        async let first = cache.resolve(question("a.example"))
        async let second = cache.resolve(question("b.example"))
        let (a, b) = await (first, second)
        #expect(a.outcome == .cnameLoop)
        #expect(b.outcome == .cnameLoop)
        #expect(a.cnameChain == [wireName("b.example"), wireName("a.example")])
        #expect(await upstream.totalCalls == 2)
    }

    @Test func stopsAfterEightHops() async {
        let names = (0...10).map { "n\($0).example" }
        let upstream = CountingUpstream(zip(names, names.dropFirst()).map { bareCNAME($0, to: $1) })
        let answer = await CachingResolver(upstream: upstream).resolve(question(names[0]))
        #expect(answer.outcome == .cnameChainTooLong(CNAMEPolicy.maximumHops))
        #expect(answer.cnameChain.count == CNAMEPolicy.maximumHops + 1)
    }

    /// Eight hops given one per reply end like eight hops in one reply: with the records.
    @Test func eightHopsHopByHopReachTheRecords() async {
        let names = (0...8).map { "n\($0).example" }
        let records = DNSAnswer(question: question(names[8]), outcome: .records([aRecord(names[8], "192.0.2.8")]))
        let upstream = CountingUpstream(zip(names, names.dropFirst()).map { bareCNAME($0, to: $1) } + [records])
        let answer = await CachingResolver(upstream: upstream).resolve(question(names[0]))
        #expect(answer.records.count == 1)
        #expect(answer.cnameChain.count == CNAMEPolicy.maximumHops)
    }

    @Test func mergesTheUpstreamCounters() async {
        let upstream = CountingUpstream([])
        let cache = CachingResolver(upstream: upstream)
        _ = await cache.resolve(question("a.example"))
        _ = await cache.resolve(question("a.example"))
        let statistics = await cache.statistics()
        #expect(statistics.queriesSent == 1)
        #expect(statistics.retries == 2)
        #expect(statistics.tcpFallbacks == 1)
        #expect(statistics.cacheHits == 1)
        #expect(statistics.uniqueQuestions == 1)
    }

    @Test func aCancelledCallerReturnsPromptlyAndTheLookupIsForgotten() async {
        // An upstream that would answer after ten minutes: a caller that waited for it fails the bound below.
        let upstream = CountingUpstream([], delay: .seconds(600))
        let cache = CachingResolver(upstream: upstream)
        let clock = ContinuousClock()
        let start = clock.now
        let caller = Task { await cache.resolve(question("slow.example")) }
        // Waits for the upstream to be asked rather than for a fixed time, which a busy machine can outlast.
        while await upstream.totalCalls < 1 { try? await Task.sleep(for: .milliseconds(10)) }
        caller.cancel()
        #expect(await caller.value.outcome == .notFinished)
        #expect(clock.now - start < .seconds(30))
        // Nobody waits for it any more, so a later caller asks again.
        let again = Task { await cache.resolve(question("slow.example")) }
        let patience = clock.now + .seconds(20)
        while await upstream.totalCalls < 2, clock.now < patience { try? await Task.sleep(for: .milliseconds(10)) }
        again.cancel()
        _ = await again.value
        #expect(await upstream.totalCalls == 2, "asked again, not joined to the lookup nobody waited for")
    }
}

/// The cache's lifetimes and bound: answers for their TTL, failures briefly, at most N entries.
struct CacheLifetimeTests {
    func question(_ name: String) throws -> DNSQuestion { DNSQuestion(try DomainName(parsing: name), .a) }

    @Test func lifetimesFollowTheOutcome() throws {
        let policy = CachePolicy(negativeLifetime: .seconds(300), failureLifetime: .seconds(5), minimumLifetime: .seconds(60))
        let name = try DomainName(parsing: "a.example")
        let record = { (ttl: UInt32) in DNSRecord(name: name, type: .a, ttl: ttl, data: .a(IPAddress("192.0.2.1")!)) }
        #expect(policy.lifetime(of: DNSAnswer(question: try question("a.example"), outcome: .records([record(3600), record(120)]))) == .seconds(120))
        #expect(policy.lifetime(of: DNSAnswer(question: try question("a.example"), outcome: .records([record(0)]))) == .seconds(60))
        #expect(policy.lifetime(of: DNSAnswer(question: try question("a.example"), outcome: .records([record(999_999)]))) == .seconds(86_400))
        #expect(policy.lifetime(of: DNSAnswer(question: try question("a.example"), outcome: .nxDomain)) == .seconds(300))
        #expect(policy.lifetime(of: DNSAnswer(question: try question("a.example"), outcome: .timeout)) == .seconds(5))
        #expect(policy.lifetime(of: DNSAnswer(question: try question("a.example"), outcome: .serverFailure(rcode: 2))) == .seconds(5))
    }

    /// A failure is asked again once its short lifetime is over; a good answer is not.
    @Test func aFailureIsAskedAgainAfterItsLifetime() async throws {
        let upstream = try StaticResolver(zone: "good.example. A 192.0.2.1", overrides: [try question("bad.example"): DNSOutcome.timeout])
        // The cache's own clock, moved by hand: a busy machine's pauses cannot age an entry.
        let start = ContinuousClock.now
        let elapsed = Locked(Duration.zero)
        let cache = CachingResolver(
            upstream: upstream, policy: CachePolicy(failureLifetime: .seconds(3)), now: { start + elapsed.withLock { $0 } })
        _ = await cache.resolve(try question("bad.example"))
        _ = await cache.resolve(try question("good.example"))
        elapsed.withLock { $0 = .milliseconds(2_900) }
        _ = await cache.resolve(try question("bad.example"))
        #expect(upstream.questionsAsked.count == 2, "within its lifetime the failure is served from the cache")
        elapsed.withLock { $0 = .milliseconds(3_100) }
        _ = await cache.resolve(try question("bad.example"))
        _ = await cache.resolve(try question("good.example"))
        #expect(upstream.questionsAsked.count == 3, "the failure is asked again, the answer is not")
    }

    /// A question asked again and again (a provider's SPF include) outlives a stream of
    /// one-off questions (each domain's own) under the bound: it is never asked twice.
    @Test func anAnswerInUseOutlivesOneOffAnswers() async throws {
        let upstream = try StaticResolver(zone: "example. TXT \"x\"")
        let cache = CachingResolver(upstream: upstream, policy: CachePolicy(maximumEntries: 16))
        for index in 0..<500 {
            _ = await cache.resolve(try question("shared.example"))
            _ = await cache.resolve(try question("n\(index).example"))
        }
        #expect(upstream.questionsAsked.filter { $0 == (try? question("shared.example")) }.count == 1)
        #expect(cache.entryCount <= 16)
    }

    @Test func theCacheIsBounded() async throws {
        let upstream = try StaticResolver(zone: "example. TXT \"x\"")
        let cache = CachingResolver(upstream: upstream, policy: CachePolicy(maximumEntries: 100))
        for index in 0..<1_000 { _ = await cache.resolve(try question("n\(index).example")) }
        #expect(cache.entryCount <= 100)
        let statistics = await cache.statistics()
        #expect(statistics.uniqueQuestions == 1_000, "counted even beyond the bound")
    }
}
