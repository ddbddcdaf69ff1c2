public import MailAuditCore

/// A resolver that asks its upstream each question once per run, joins identical questions
/// already in flight, and follows CNAME chains that a reply left unfinished.
///
/// Authoritative servers answer a name whose CNAME points out of their zone with the CNAME
/// alone (RFC 1034 §4.3.2 step 3a, RFC 2181 §10.1.1), so an answer that ends in a CNAME with
/// no records (`.noData`) is continued by asking the chain's last name the same type,
/// through this cache. Chains are spliced in order. A name seen twice gives
/// ``DNSOutcome/cnameLoop``, and so does a chain longer than ``CNAMEPolicy/maximumHops`` (8) hops.
/// The AD bit of a spliced answer is set only when every reply along the chain had it.
///
/// Answers are kept for their TTL (the smallest of the records'), NODATA and NXDOMAIN for
/// ``CachePolicy/negativeLifetime``, and failures (timeout, SERVFAIL) only for
/// ``CachePolicy/failureLifetime``, so one transient failure on a shared include does not
/// poison the rest of a long run. At most ``CachePolicy/maximumEntries`` answers are kept;
/// beyond that the oldest go first. In a run of ordinary length nothing expires, so the same
/// question is never sent twice. When every caller waiting for a question is cancelled, its
/// lookup is cancelled and forgotten, so a later caller asks again.
///
/// ```swift
/// let dns = CachingResolver(upstream: NetworkResolver(nameservers: servers))
/// let mx = await dns.resolve(DNSQuestion(domain, .mx))
/// ```
public actor CachingResolver: Resolver, ResolverStatisticsSource {
    /// The resolver asked on a miss.
    public nonisolated let upstream: any Resolver

    /// A lookup in flight or done. `.answer` is a caller's question with CNAMEs chased;
    /// `.fetch` is one question put to the upstream. Answers wait only on fetches and fetches
    /// only on the upstream, so no lookup can wait on itself.
    private enum Key: Hashable {
        case answer(DNSQuestion)
        case fetch(DNSQuestion)
    }

    private struct Flight {
        let serial: Int
        let task: Task<DNSAnswer, Never>
        /// Callers waiting or served, less those cancelled while waiting.
        var waiters: Int
        /// When the answer stops being served, once it is known.
        var expires: ContinuousClock.Instant?
    }

    public let policy: CachePolicy
    private var flights: [Key: Flight] = [:]
    /// Completed entries, oldest first, for eviction; stale pairs are skipped.
    private var completed: [(key: Key, serial: Int)] = []
    private var completedStart = 0
    private var serial = 0
    /// Distinct questions for the statistics, up to the cache's size; beyond it only counted.
    private var questions: Set<DNSQuestion> = []
    private var questionsBeyondLimit = 0
    private var hits = 0

    public init(upstream: any Resolver, policy: CachePolicy = CachePolicy()) {
        self.upstream = upstream
        self.policy = policy
    }

    /// Entries kept now, answers and fetches (for tests of the bound).
    public var entryCount: Int { flights.count }

    /// The answer to `question`, from the cache, joined to an identical lookup in flight, or asked upstream.
    public func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        await join(.answer(question)) { await self.chase(question) }
    }

    /// Counters of this cache merged with those of the upstream when it keeps any:
    /// network counters come from the upstream, `uniqueQuestions` and `uniqueNames`
    /// (callers' questions and CNAME hops) from this cache, and cache hits add up.
    public func statistics() async -> ResolverStatistics {
        let ownQuestions = questions, ownHits = hits
        var result = ResolverStatistics()
        if let source = upstream as? any ResolverStatisticsSource {
            result = await source.statistics()
        }
        result.uniqueQuestions = ownQuestions.count + questionsBeyondLimit
        result.uniqueNames = Set(ownQuestions.map(\.name)).count + questionsBeyondLimit
        result.cacheHits += ownHits
        return result
    }

    // MARK: - Coalescing

    private func join(_ key: Key, _ work: @escaping @Sendable () async -> DNSAnswer) async -> DNSAnswer {
        let flight: Flight
        if let existing = flights[key], let expires = existing.expires, expires <= .now {
            flights[key] = nil
        }
        if var existing = flights[key] {
            hits += 1
            existing.waiters += 1
            flights[key] = existing
            flight = existing
        } else {
            serial += 1
            flight = Flight(serial: serial, task: Task { await work() }, waiters: 1)
            flights[key] = flight
        }
        let answer = await withTaskCancellationHandler {
            await flight.task.value
        } onCancel: {
            Task { await self.leave(key, serial: flight.serial) }
        }
        finished(key, serial: flight.serial, answer: answer)
        return answer
    }

    /// Sets the answer's expiry when it first completes, and evicts the oldest entries beyond
    /// the bound.
    private func finished(_ key: Key, serial: Int, answer: DNSAnswer) {
        guard var flight = flights[key], flight.serial == serial, flight.expires == nil else { return }
        flight.expires = .now + policy.lifetime(of: answer)
        flights[key] = flight
        completed.append((key, serial))
        while flights.count > policy.maximumEntries, completedStart < completed.count {
            let (oldKey, oldSerial) = completed[completedStart]
            completedStart += 1
            if flights[oldKey]?.serial == oldSerial { flights[oldKey] = nil }
        }
        if completedStart > 4096 && completedStart * 2 > completed.count {
            completed.removeFirst(completedStart)
            completedStart = 0
        }
    }

    /// A waiter was cancelled: when none is left, cancel the lookup and forget it.
    private func leave(_ key: Key, serial: Int) {
        guard var flight = flights[key], flight.serial == serial else { return }
        flight.waiters -= 1
        if flight.waiters > 0 {
            flights[key] = flight
        } else {
            flight.task.cancel()
            flights[key] = nil
        }
    }

    private func fetch(_ question: DNSQuestion) async -> DNSAnswer {
        if questions.count < policy.maximumEntries { questions.insert(question) } else if !questions.contains(question) {
            questionsBeyondLimit += 1
        }
        let upstream = upstream
        return await join(.fetch(question)) { await upstream.resolve(question) }
    }

    // MARK: - CNAME chasing

    private func chase(_ question: DNSQuestion) async -> DNSAnswer {
        var answer = await fetch(question)
        var chain = answer.cnameChain
        var visited = Set(chain).union([question.name])
        var authentic = answer.authenticData
        while Self.endsInBareCNAME(answer, type: question.type), let target = chain.last {
            guard chain.count < CNAMEPolicy.maximumHops else {
                return DNSAnswer(question: question, outcome: .cnameLoop, cnameChain: chain, authenticData: authentic)
            }
            answer = await fetch(DNSQuestion(target, question.type))
            authentic = authentic && answer.authenticData
            for name in answer.cnameChain {
                chain.append(name)
                guard visited.insert(name).inserted, chain.count <= CNAMEPolicy.maximumHops else {
                    return DNSAnswer(question: question, outcome: .cnameLoop, cnameChain: chain, authenticData: authentic)
                }
            }
        }
        return DNSAnswer(question: question, outcome: answer.outcome, cnameChain: chain, authenticData: authentic)
    }

    /// True when the reply followed a CNAME but held no records for its target.
    private static func endsInBareCNAME(_ answer: DNSAnswer, type: RRType) -> Bool {
        guard type != .cname, !answer.cnameChain.isEmpty else { return false }
        return answer.outcome == .noData || answer.outcome == .records([])
    }
}

/// Builds the resolver stack mailaudit uses.
/// How long a ``CachingResolver`` keeps answers, and how many.
public struct CachePolicy: Hashable, Sendable {
    /// The most answers kept; the oldest go first beyond it.
    public var maximumEntries: Int
    /// NODATA and NXDOMAIN (no SOA minimum is at hand; RFC 2308 §5 caps it at hours).
    public var negativeLifetime: Duration
    /// Timeouts, SERVFAIL, REFUSED, network errors: briefly, then asked again.
    public var failureLifetime: Duration
    /// No answer is kept longer, whatever its TTL.
    public var maximumLifetime: Duration
    /// No answer is kept for less, even at TTL 0: one run asks each question once.
    public var minimumLifetime: Duration

    public init(maximumEntries: Int = 200_000, negativeLifetime: Duration = .seconds(300), failureLifetime: Duration = .seconds(5),
                maximumLifetime: Duration = .seconds(86_400), minimumLifetime: Duration = .seconds(60)) {
        self.maximumEntries = max(16, maximumEntries)
        self.negativeLifetime = negativeLifetime
        self.failureLifetime = failureLifetime
        self.maximumLifetime = maximumLifetime
        self.minimumLifetime = minimumLifetime
    }

    /// The smallest TTL of the records; the negative or failure lifetime otherwise.
    public func lifetime(of answer: DNSAnswer) -> Duration {
        switch answer.outcome {
        case .records(let records):
            let ttl = records.map(\.ttl).min() ?? 0
            return max(minimumLifetime, min(.seconds(Int64(ttl)), maximumLifetime))
        case .noData, .nxDomain, .cnameLoop: return min(negativeLifetime, maximumLifetime)
        case .serverFailure, .timeout, .networkError: return failureLifetime
        }
    }
}

public enum DNSClient {
    /// A ``CachingResolver`` over a ``NetworkResolver`` asking `nameservers`.
    public static func make(nameservers: [Nameserver], timeout: Duration = .seconds(2), attempts: Int = 3) -> CachingResolver {
        CachingResolver(upstream: NetworkResolver(nameservers: nameservers, timeout: timeout, attempts: attempts))
    }
}
