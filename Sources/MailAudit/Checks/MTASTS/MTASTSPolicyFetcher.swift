import Foundation
import MailAuditCore
import MailAuditSMTP
import MailAuditTLS

/// Fetches a domain's MTA-STS policy as a sender would (RFC 8461 §3.3): the addresses of
/// `mta-sts.<domain>` through the audit's resolver, then an HTTPS GET with a verified
/// certificate for that name, never following redirects, within a size and a time bound.
///
/// ```swift
/// let fetcher = MTASTSPolicyFetcher(resolver: resolver, options: MTASTSOptions(), trust: .system, verificationTime: nil,
///                                   deadline: nil, mayConnect: { _ in true })
/// let fetch = await fetcher.fetch(for: DomainName(labels: ["example", "com"]))
/// ```
///
/// The blocking socket work runs on threads of its own, never on Swift's cooperative pool.
struct MTASTSPolicyFetcher: Sendable {
    /// Fetches at once, across every domain of the run.
    static let threads = DedicatedThreads(limit: 16)
    /// Policies are small; a sender reads at most this much (RFC 8461 §3.3 suggests 64 KiB).
    static let limits = HTTPResponseLimits(headerBytes: 16 * 1024, bodyBytes: 64 * 1024)
    static let path = "/.well-known/mta-sts.txt"

    let resolver: any Resolver
    let options: MTASTSOptions
    let trust: TLSTrust
    /// The time certificates are judged at: the audit's clock.
    let verificationTime: Date?
    /// The end of the whole audit; no fetch runs past it.
    let deadline: ContinuousClock.Instant?
    /// Whether an address may be connected to (public, or private ones allowed).
    let mayConnect: @Sendable (IPAddress) -> Bool

    func fetch(for domain: DomainName) async -> MTASTSPolicyFetch {
        let host = domain.prepending("mta-sts")
        let url = "https://\(host)\(options.httpsPort == 443 ? "" : ":\(options.httpsPort)")\(Self.path)"
        async let v4 = resolver.resolve(host, .a)
        async let v6 = resolver.resolve(host, .aaaa)
        let answers = await [v4, v6]
        var fetch = MTASTSPolicyFetch(host: host, url: url, addressAnswers: answers, outcome: .noHost)
        let addresses = answers.flatMap(\.records).compactMap(\.address)
        guard !addresses.isEmpty else {
            let unknown = answers.contains { $0.outcome.isInconclusive } && !answers.contains { $0.outcome == .nxDomain }
            fetch.outcome = unknown ? .hostLookupFailed : .noHost
            return fetch
        }
        let allowed = addresses.filter(mayConnect)
        guard !allowed.isEmpty else {
            fetch.outcome = .notPublic(addresses)
            return fetch
        }
        var end = ContinuousClock.now + options.fetchTimeout
        if let deadline { end = min(end, deadline) }
        var attempts: [MTASTSFetchAttempt] = []
        for address in allowed {
            let request = HTTPSRequest(
                address: address, port: options.httpsPort, host: host.description, path: Self.path, trust: trust,
                verificationTime: verificationTime, limits: Self.limits, connectTimeout: .seconds(5))
            let stop = end
            switch await Self.threads.run({ request.get(deadline: stop) }) {
            case .success(let response):
                fetch.outcome = .response(response, address: address)
                return fetch
            case .failure(let error):
                attempts.append(MTASTSFetchAttempt(address: address, error: error))
            }
            // Only a failed connection moves on to the next address, as HTTP clients do.
            guard case .connect? = attempts.last?.error, ContinuousClock.now < end else { break }
        }
        fetch.outcome = .failed(attempts)
        return fetch
    }
}
