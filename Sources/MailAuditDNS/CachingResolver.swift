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
/// Answers, failures included, are kept for the run. When every caller waiting for a question
/// is cancelled, its lookup is cancelled and forgotten, so a later caller asks again.
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
    }

    private var flights: [Key: Flight] = [:]
    private var serial = 0
    private var questions: Set<DNSQuestion> = []
    private var hits = 0

    public init(upstream: any Resolver) {
        self.upstream = upstream
    }

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
        result.uniqueQuestions = ownQuestions.count
        result.uniqueNames = Set(ownQuestions.map(\.name)).count
        result.cacheHits += ownHits
        return result
    }

    // MARK: - Coalescing

    private func join(_ key: Key, _ work: @escaping @Sendable () async -> DNSAnswer) async -> DNSAnswer {
        let flight: Flight
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
        return await withTaskCancellationHandler {
            await flight.task.value
        } onCancel: {
            Task { await self.leave(key, serial: flight.serial) }
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
        questions.insert(question)
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
public enum DNSClient {
    /// A ``CachingResolver`` over a ``NetworkResolver`` asking `nameservers`.
    public static func make(nameservers: [Nameserver], timeout: Duration = .seconds(2), attempts: Int = 3) -> CachingResolver {
        CachingResolver(upstream: NetworkResolver(nameservers: nameservers, timeout: timeout, attempts: attempts))
    }
}
