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
/// UDP queries share a few long-lived sockets per server, each on a random source port
/// (``DatagramPool``); each attempt gets a random 16-bit ID and accepts only a reply from the
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
    /// Whether DNSSEC records are asked for, and what the AD bit is taken to mean.
    public let dnssec: DNSSECMode

    /// Queries in flight at once, at most.
    public static let maximumInFlight = 64

    private let datagrams: DatagramPool
    private let tcp: TCPTransport
    private let counters = NetworkCounters()
    private let inFlight = InFlightLimit(NetworkResolver.maximumInFlight)

    /// - Parameters:
    ///   - nameservers: the servers to ask; with none, every answer is a network error.
    ///   - timeout: the wait per attempt (UDP and, after truncation, TCP each get this much).
    ///   - attempts: attempts per question, rotating through `nameservers`.
    public init(nameservers: [Nameserver], timeout: Duration = .seconds(2), attempts: Int = 3, dnssec: DNSSECMode = .off) {
        self.nameservers = nameservers
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.dnssec = dnssec
        self.datagrams = DatagramPool(group: MultiThreadedEventLoopGroup.singleton)
        self.tcp = TCPTransport(group: MultiThreadedEventLoopGroup.singleton)
    }

    deinit { datagrams.shutdown() }

    /// Resolves one question.
    ///
    /// Returns ``DNSOutcome/timeout`` when every attempt timed out, ``DNSOutcome/notFinished``
    /// when the calling task was cancelled before any reply, and ``DNSOutcome/networkError(_:)`` when attempts failed otherwise
    /// (refused, unreachable, only malformed replies).
    public func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        var answer = DNSAnswer(question: question, outcome: .timeout)
        guard !nameservers.isEmpty else {
            answer.outcome = .networkError("no nameserver is configured")
            return answer
        }
        counters.firstAttempt(question)
        guard await inFlight.acquire() else { return answer.unfinished }
        var result = await exchange(question, answer)
        if dnssec == .trustResolverAD, result.outcome == .serverFailure(rcode: ResponseCode.servFail) {
            // A validating resolver answers SERVFAIL for data that fails validation. Asked
            // again with checking disabled, it gives the data: then the failure was DNSSEC's.
            counters.retry()
            var unchecked = await exchange(question, answer, checkingDisabled: true)
            if !unchecked.outcome.isInconclusive {
                unchecked.dnssec = .bogus("the validating resolver refuses it (SERVFAIL) but gives it with checking disabled (CD)")
                result = unchecked
            }
        }
        inFlight.release()
        return result
    }

    /// The attempts for one question, rotating through the servers.
    private func exchange(_ question: DNSQuestion, _ initial: DNSAnswer, checkingDisabled: Bool = false) async -> DNSAnswer {
        var answer = initial
        var networkFailure: String?
        for attempt in 0..<attempts {
            if Task.isCancelled { return answer.unfinished }
            if attempt > 0 { counters.retry() }
            let server = nameservers[attempt % nameservers.count]
            let query: [UInt8], address: SocketAddress
            do {
                // The pool sets the ID of the UDP query; TCP gets one of its own.
                query = try LDNSCodec.encodeQuery(question, id: 0, dnssecOK: dnssec != .off,
                                                  checkingDisabled: checkingDisabled || dnssec == .validate)
                address = try SocketAddress(ipAddress: server.address.description, port: server.port)
            } catch {
                answer.outcome = .networkError("\(error)")
                return answer
            }
            var result = await datagrams.exchange(query: query, question: question, server: address, peer: "\(server)", timeout: timeout)
            if case .success(let reply) = result, reply.truncated {
                counters.tcpFallback()
                let matcher = ReplyMatcher(id: UInt16.random(in: .min ... .max), question: question)
                var tcpQuery = query
                tcpQuery[0] = UInt8(matcher.id >> 8)
                tcpQuery[1] = UInt8(matcher.id & 0xFF)
                result = await tcp.exchange(query: tcpQuery, matcher: matcher, server: address, peer: "\(server) over TCP", timeout: timeout)
            }
            if case .success(let reply) = result, reply.truncated {
                // Still truncated over TCP: what arrived is incomplete, never an empty answer.
                networkFailure = "\(DNSOutcome.truncatedOverTCP.summary) (\(server))"
                continue
            }
            switch result {
            case .success(let reply):
                let decoded = reply.answer(for: question, trustingAD: dnssec == .trustResolverAD)
                // A server that fails (SERVFAIL, REFUSED) may be the only broken one: ask the
                // next configured server while attempts remain, and keep this answer otherwise.
                if case .serverFailure = decoded.outcome, nameservers.count > 1, attempt + 1 < attempts {
                    answer = decoded
                    networkFailure = nil
                    continue
                }
                return decoded
            case .failure(.cancelled):
                return answer.unfinished
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
        counters.statistics()
    }
}

/// How a ``NetworkResolver`` treats DNSSEC.
public enum DNSSECMode: Hashable, Sendable {
    /// No DNSSEC records are asked for; every answer's status is indeterminate.
    case off
    /// The DO bit asks for RRSIG, NSEC and NSEC3 records, and the resolver, which the user
    /// names as validating, is trusted: AD set means secure, AD clear insecure (RFC 6840 §5.8),
    /// and SERVFAIL that turns into data with checking disabled means bogus.
    case trustResolverAD
    /// The DO bit asks for DNSSEC records and the CD bit for data a validating resolver would
    /// refuse, so that mailaudit's own ``DNSSECValidator`` can judge them; the AD bit is ignored.
    case validate
}

/// The counters of one ``NetworkResolver``.
private final class NetworkCounters: Sendable {
    private struct State {
        var counts = ResolverStatistics()
        // Hashes, not questions: 8 octets each, so a run of a million questions stays small.
        var sent: Set<Int> = []
        var names: Set<Int> = []
    }

    private let state = Locked(State())

    /// Questions remembered to count repeats; a bulk run beyond it counts only what it remembers.
    static let rememberedQuestions = 2_000_000

    func firstAttempt(_ question: DNSQuestion) {
        let hash = question.hashValue
        state.withLock { state in
            state.counts.queriesSent += 1
            if state.sent.contains(hash) {
                state.counts.repeatedQueries += 1
            } else if state.sent.count < Self.rememberedQuestions {
                state.sent.insert(hash)
                state.names.insert(question.name.hashValue)
            }
        }
    }

    func retry() { state.withLock { $0.counts.retries += 1 } }

    func tcpFallback() { state.withLock { $0.counts.tcpFallbacks += 1 } }

    func statistics() -> ResolverStatistics {
        state.withLock { state in
            var result = state.counts
            result.uniqueQuestions = state.sent.count
            result.uniqueNames = state.names.count
            return result
        }
    }
}

extension DNSOutcome {
    var isServerFailure: Bool { if case .serverFailure = self { true } else { false } }
}

extension DNSAnswer {
    /// This answer as left by a cancelled lookup: a failure already seen stays, otherwise the
    /// lookup is marked as not finished by the deadline (not as a timeout of the servers).
    var unfinished: DNSAnswer {
        guard outcome == .timeout else { return self }
        var answer = self
        answer.outcome = .notFinished
        return answer
    }
}
