import MailAuditCore
import Synchronization

/// Passes questions to a resolver and notes whether any answer came from a server (records,
/// NODATA, NXDOMAIN, SERVFAIL…): a run whose MX lookup was cut by the deadline while other
/// lookups were answered must not say that no DNS resolver answered.
final class AnswerWitness: Resolver, Sendable {
    let upstream: any Resolver
    private let answered = Atomic<Bool>(false)

    init(_ upstream: any Resolver) { self.upstream = upstream }

    /// True once any lookup got an answer from a server.
    var sawAnswer: Bool { answered.load(ordering: .relaxed) }

    func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        let answer = await upstream.resolve(question)
        if !answer.outcome.isUnanswered { answered.store(true, ordering: .relaxed) }
        return answer
    }
}
