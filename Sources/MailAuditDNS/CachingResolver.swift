public import MailAuditCore
import NIOCore

/// A resolver that asks its upstream each question once per run, joins identical questions
/// already in flight, and follows CNAME chains that a reply left unfinished.
///
/// Authoritative servers answer a name whose CNAME points out of their zone with the CNAME
/// alone (RFC 1034 §4.3.2 step 3a, RFC 2181 §10.1.1), so an answer that ends in a CNAME with
/// no records (`.noData`) is continued by asking the chain's last name the same type,
/// through this cache. Chains are spliced in order. A name seen twice gives
/// ``DNSOutcome/cnameLoop``; a chain longer than ``CNAMEPolicy/maximumHops`` (8) hops gives
/// ``DNSOutcome/cnameChainTooLong(_:)``, the same verdict as when one reply holds the whole chain.
/// The DNSSEC status of a spliced answer is that of its weakest reply.
///
/// Answers are kept for their TTL (the smallest of the records'), NODATA and NXDOMAIN for
/// ``CachePolicy/negativeLifetime``, and failures (timeout, SERVFAIL) only for
/// ``CachePolicy/failureLifetime``, so one transient failure on a shared include does not
/// poison the rest of a long run. At most ``CachePolicy/maximumEntries`` answers are kept;
/// beyond that the least recently served go first. In a run of ordinary length nothing expires, so the same
/// question is never sent twice. When every caller waiting for a question is cancelled, its
/// lookup is cancelled and forgotten, so a later caller asks again.
///
/// ```swift
/// let dns = CachingResolver(upstream: NetworkResolver(nameservers: servers))
/// let mx = await dns.resolve(DNSQuestion(domain, .mx))
/// ```
public final class CachingResolver: Resolver, ResolverStatisticsSource, Sendable {
    /// The resolver asked on a miss.
    public let upstream: any Resolver
    public let policy: CachePolicy

    /// A question put to the upstream: waiting for its answer, or answered.
    private struct Entry {
        let serial: Int
        var waiters: [Int: CheckedContinuation<DNSAnswer?, Never>] = [:]
        var lookup: Task<DNSAnswer, Never>?
        var answer: DNSAnswer?
        var expires: ContinuousClock.Instant?
        /// Served since it was last passed by the eviction hand: it gets a second chance.
        var recentlyUsed = false
    }

    private struct State {
        var entries: [DNSQuestion: Entry] = [:]
        /// Answered entries in the order the eviction hand visits them; stale pairs are skipped.
        var ring = CircularBuffer<(question: DNSQuestion, serial: Int)>()
        var serial = 0
        // Hashes of the distinct questions, for the statistics (8 octets each).
        var questions: Set<Int> = []
        var names: Set<Int> = []
        var hits = 0
    }

    private let state = Locked(State())
    /// The time that lifetimes are measured against: the continuous clock, or a test's own.
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(
        upstream: any Resolver, policy: CachePolicy = CachePolicy(),
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.upstream = upstream
        self.policy = policy
        self.now = now
    }

    /// Entries kept now, answered or in flight (for tests of the bound).
    public var entryCount: Int { state.withLock { $0.entries.count } }

    /// The answer to `question`, with CNAME chains a reply left unfinished followed through the cache.
    public func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        var answer = await fetch(question)
        var chain = answer.cnameChain
        var visited = Set(chain).union([question.name])
        var dnssec = answer.dnssec
        while Self.endsInBareCNAME(answer, type: question.type), let target = chain.last {
            // The chain holds at most maximumHops names here: the last one's records are asked for.
            answer = await fetch(DNSQuestion(target, question.type))
            dnssec = dnssec.combined(with: answer.dnssec)
            if answer.outcome.isCNAMEChainTooLong || answer.outcome == .cnameLoop {
                let outcome = answer.outcome == .cnameLoop ? DNSOutcome.cnameLoop : .cnameChainTooLong(CNAMEPolicy.maximumHops)
                return DNSAnswer(question: question, outcome: outcome, cnameChain: chain + answer.cnameChain, dnssec: dnssec)
            }
            for name in answer.cnameChain {
                chain.append(name)
                guard visited.insert(name).inserted else {
                    return DNSAnswer(question: question, outcome: .cnameLoop, cnameChain: chain, dnssec: dnssec)
                }
                guard chain.count <= CNAMEPolicy.maximumHops else {
                    return DNSAnswer(question: question, outcome: .cnameChainTooLong(CNAMEPolicy.maximumHops), cnameChain: chain, dnssec: dnssec)
                }
            }
        }
        if chain == answer.cnameChain && answer.question == question { return answer }
        return DNSAnswer(question: question, outcome: answer.outcome, cnameChain: chain, dnssec: dnssec,
                         signatures: answer.signatures, authority: answer.authority)
    }

    /// Counters of this cache merged with those of the upstream when it keeps any:
    /// network counters come from the upstream, `uniqueQuestions` and `uniqueNames`
    /// (callers' questions and CNAME hops) from this cache, and cache hits add up.
    public func statistics() async -> ResolverStatistics {
        let (questions, names, hits) = state.withLock { ($0.questions.count, $0.names.count, $0.hits) }
        var result = ResolverStatistics()
        if let source = upstream as? any ResolverStatisticsSource {
            result = await source.statistics()
        }
        result.uniqueQuestions = questions
        result.uniqueNames = names
        result.cacheHits += hits
        return result
    }

    // MARK: - One question to the upstream

    private enum Step {
        case answered(DNSAnswer)
        case wait(serial: Int, lookup: Task<DNSAnswer, Never>?)
    }

    /// The upstream's answer to `question`: cached, joined to the lookup in flight, or asked.
    private func fetch(_ question: DNSQuestion) async -> DNSAnswer {
        let step = state.withLock { state -> Step in
            if var entry = state.entries[question] {
                if let answer = entry.answer, let expires = entry.expires {
                    if expires > now() {
                        state.hits += 1
                        entry.recentlyUsed = true
                        state.entries[question] = entry
                        return .answered(answer)
                    }
                } else {
                    state.hits += 1
                    return .wait(serial: entry.serial, lookup: entry.lookup)
                }
            }
            state.serial += 1
            let serial = state.serial
            let upstream = upstream
            // The lookup runs in a task of its own, so one caller's cancellation does not end
            // it for the others; it is cancelled when every caller has gone.
            let lookup = Task { [self] in
                let answer = await upstream.resolve(question)
                answered(question, serial: serial, answer: answer)
                return answer
            }
            state.entries[question] = Entry(serial: serial, lookup: lookup)
            if state.questions.count < policy.maximumCounted {
                state.questions.insert(question.hashValue)
                state.names.insert(question.name.hashValue)
            }
            return .wait(serial: serial, lookup: lookup)
        }
        switch step {
        case .answered(let answer):
            return answer
        case .wait(let serial, let lookup):
            return await wait(for: question, serial: serial, lookup: lookup)
        }
    }

    /// Waits for the lookup `serial` of `question`. When its entry went (evicted as soon as it
    /// was answered), the answer comes from the lookup itself.
    private func wait(for question: DNSQuestion, serial: Int, lookup: Task<DNSAnswer, Never>?) async -> DNSAnswer {
        let waiter = state.withLock { state in
            state.serial += 1
            return state.serial
        }
        let answer: DNSAnswer? = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready: DNSAnswer?? = state.withLock { state in
                    if Task.isCancelled { return DNSAnswer(question: question, outcome: .notFinished) }
                    guard let entry = state.entries[question], entry.serial == serial else { return .some(nil) }
                    if let answer = entry.answer { return answer }
                    state.entries[question]?.waiters[waiter] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let (continuation, lookup) = state.withLock { state -> (CheckedContinuation<DNSAnswer?, Never>?, Task<DNSAnswer, Never>?) in
                guard var entry = state.entries[question], entry.serial == serial,
                      let continuation = entry.waiters.removeValue(forKey: waiter) else { return (nil, nil) }
                guard entry.waiters.isEmpty else {
                    state.entries[question] = entry
                    return (continuation, nil)
                }
                // Nobody waits any more: forget the lookup, so a later caller asks again.
                state.entries[question] = nil
                return (continuation, entry.lookup)
            }
            lookup?.cancel()
            continuation?.resume(returning: DNSAnswer(question: question, outcome: .notFinished))
        }
        if let answer { return answer }
        return await lookup?.value ?? DNSAnswer(question: question, outcome: Task.isCancelled ? .notFinished : .timeout)
    }

    /// Stores the answer, wakes its callers and evicts beyond the bound.
    private func answered(_ question: DNSQuestion, serial: Int, answer: DNSAnswer) {
        let waiters = state.withLock { state -> [CheckedContinuation<DNSAnswer?, Never>] in
            guard var entry = state.entries[question], entry.serial == serial, entry.answer == nil else { return [] }
            let waiters = Array(entry.waiters.values)
            entry.waiters = [:]
            entry.lookup = nil
            entry.answer = answer
            entry.expires = now() + policy.lifetime(of: answer)
            state.entries[question] = entry
            state.ring.append((question, serial))
            evict(&state)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: answer) }
    }

    /// Second-chance (clock) eviction: an entry served since the hand last passed goes round
    /// once more, so answers shared by many domains (a provider's SPF include, its MX hosts)
    /// stay while each domain's own answers go.
    private func evict(_ state: inout State) {
        var turns = state.ring.count
        while state.entries.count > policy.maximumEntries, turns > 0, let (question, serial) = state.ring.popFirst() {
            turns -= 1
            guard let entry = state.entries[question], entry.serial == serial else { continue }
            if entry.recentlyUsed, let expires = entry.expires, expires > now() {
                state.entries[question]?.recentlyUsed = false
                state.ring.append((question, serial))
            } else {
                state.entries[question] = nil
            }
        }
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
    /// The most answers kept; beyond it the least recently served go first.
    public var maximumEntries: Int
    /// Distinct questions counted for the statistics, at most.
    public var maximumCounted = 4_000_000
    /// NODATA and NXDOMAIN (no SOA minimum is at hand; RFC 2308 §5 caps it at hours).
    public var negativeLifetime: Duration
    /// Timeouts, SERVFAIL, REFUSED, network errors: briefly, then asked again.
    public var failureLifetime: Duration
    /// No answer is kept longer, whatever its TTL.
    public var maximumLifetime: Duration
    /// No answer is kept for less, even at TTL 0: one run asks each question once.
    public var minimumLifetime: Duration

    public init(maximumEntries: Int = 50_000, negativeLifetime: Duration = .seconds(300), failureLifetime: Duration = .seconds(5),
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
    public static func make(nameservers: [Nameserver], timeout: Duration = .seconds(2), attempts: Int = 3,
                            dnssec: DNSSECMode = .off) -> CachingResolver {
        CachingResolver(upstream: NetworkResolver(nameservers: nameservers, timeout: timeout, attempts: attempts, dnssec: dnssec))
    }
}
