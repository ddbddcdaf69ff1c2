public import MailAuditCore
import NIOCore
import NIOPosix

/// A source of per-run resolver counters for the report.
public protocol ResolverStatisticsSource: Sendable {
    /// The counters so far.
    func statistics() async -> ResolverStatistics
}

/// A stub resolver that sends recursive queries to configured nameservers over UDP,
/// repeating a truncated answer over TCP (RFC 1035 §4.2, RFC 7766 §5).
///
/// Each attempt uses a fresh socket and a random 16-bit ID, and accepts only a reply from the
/// server's address with the same ID, QR set and the same question (RFC 5452 §3, §9.1).
/// Attempts rotate through the nameservers. It never throws: failures are outcomes.
///
/// Counters: `queriesSent` counts first attempts; `retries` every further attempt (after a
/// timeout, a refusal or only malformed replies); `tcpFallbacks` each truncated reply asked
/// again over TCP; `repeatedQueries` first attempts for a question already sent in this run.
///
/// ```swift
/// let resolver = NetworkResolver(nameservers: [try Nameserver(parsing: "127.0.0.1:5353")])
/// let answer = await resolver.resolve(DNSQuestion(try DomainName(parsing: "example.com"), .mx))
/// ```
public final class NetworkResolver: MailAuditCore.Resolver, ResolverStatisticsSource {
    /// The servers asked, in rotation.
    public let nameservers: [Nameserver]
    /// How long one attempt waits for a reply.
    public let timeout: Duration
    /// How many attempts one question gets (at least 1).
    public let attempts: Int

    /// Queries in flight at once, at most.
    public static let maximumInFlight = 64

    private let transport: DNSTransport
    private let counters = NetworkCounters()
    private let inFlight = InFlightLimit(NetworkResolver.maximumInFlight)

    /// - Parameters:
    ///   - nameservers: the servers to ask; with none, every answer is a network error.
    ///   - timeout: the wait per attempt (UDP and, after truncation, TCP each get this much).
    ///   - attempts: attempts per question, rotating through `nameservers`.
    public init(nameservers: [Nameserver], timeout: Duration = .seconds(2), attempts: Int = 3) {
        self.nameservers = nameservers
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.transport = DNSTransport(group: MultiThreadedEventLoopGroup.singleton)
    }

    /// Resolves one question.
    ///
    /// Returns ``DNSOutcome/timeout`` when every attempt timed out or the calling task was
    /// cancelled, and ``DNSOutcome/networkError(_:)`` when attempts failed otherwise
    /// (refused, unreachable, only malformed replies).
    public func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        var answer = DNSAnswer(question: question, outcome: .timeout)
        guard !nameservers.isEmpty else {
            answer.outcome = .networkError("no nameserver is configured")
            return answer
        }
        await counters.firstAttempt(question)
        await inFlight.acquire()
        let result = await exchange(question, answer)
        await inFlight.release()
        return result
    }

    /// The attempts for one question, rotating through the servers.
    private func exchange(_ question: DNSQuestion, _ initial: DNSAnswer) async -> DNSAnswer {
        var answer = initial
        var networkFailure: String?
        for attempt in 0..<attempts {
            if Task.isCancelled { return answer }
            if attempt > 0 { await counters.retry() }
            let server = nameservers[attempt % nameservers.count]
            let matcher = ReplyMatcher(id: UInt16.random(in: .min ... .max), question: question)
            let query: [UInt8]
            do {
                query = try LDNSCodec.encodeQuery(question, id: matcher.id)
            } catch {
                answer.outcome = .networkError(error.description)
                return answer
            }
            var result = await transport.exchange(.udp, query: query, matcher: matcher, server: server, timeout: timeout)
            if case .success(let reply) = result, reply.truncated {
                await counters.tcpFallback()
                result = await transport.exchange(.tcp, query: query, matcher: matcher, server: server, timeout: timeout)
            }
            switch result {
            case .success(let reply):
                let decoded = reply.answer(for: question)
                // A server that fails (SERVFAIL, REFUSED) may be the only broken one: ask the
                // next configured server while attempts remain, and keep this answer otherwise.
                if case .serverFailure = decoded.outcome, nameservers.count > 1, attempt + 1 < attempts {
                    answer = decoded
                    networkFailure = nil
                    continue
                }
                return decoded
            case .failure(.cancelled):
                return answer
            case .failure(.timeout):
                continue
            case .failure(.malformed(let reason)):
                networkFailure = "malformed reply from \(server): \(reason)"
            case .failure(.network(let reason)):
                networkFailure = reason
            }
        }
        if let networkFailure, !answer.outcome.isServerFailure { answer.outcome = .networkError(networkFailure) }
        return answer
    }

    /// The counters so far; `uniqueQuestions` and `uniqueNames` count what was put on the network.
    public func statistics() async -> ResolverStatistics {
        await counters.statistics()
    }
}

/// The counters of one ``NetworkResolver``.
private actor NetworkCounters {
    private var counts = ResolverStatistics()
    private var sent: Set<DNSQuestion> = []

    /// Questions remembered to count repeats; a bulk run beyond it counts only what it remembers.
    static let rememberedQuestions = 200_000

    func firstAttempt(_ question: DNSQuestion) {
        counts.queriesSent += 1
        if sent.contains(question) {
            counts.repeatedQueries += 1
        } else if sent.count < Self.rememberedQuestions {
            sent.insert(question)
        }
    }

    func retry() { counts.retries += 1 }

    func tcpFallback() { counts.tcpFallbacks += 1 }

    func statistics() -> ResolverStatistics {
        var result = counts
        result.uniqueQuestions = sent.count
        result.uniqueNames = Set(sent.map(\.name)).count
        return result
    }
}

extension DNSOutcome {
    var isServerFailure: Bool { if case .serverFailure = self { true } else { false } }
}
