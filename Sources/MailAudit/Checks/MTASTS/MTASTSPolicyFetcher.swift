import MailAuditCore
import MailAuditTLS

/// Fetches a domain's MTA-STS policy as a sender would (RFC 8461 §3.3): from
/// `https://mta-sts.<domain>/.well-known/mta-sts.txt`, through ``HTTPSFetcher``'s strict client.
///
/// ```swift
/// let fetcher = MTASTSPolicyFetcher(https: HTTPSFetcher(context: context), options: MTASTSOptions())
/// let fetch = await fetcher.fetch(for: DomainName(labels: ["example", "com"]))
/// ```
struct MTASTSPolicyFetcher: Sendable {
    /// Policies are small; a sender reads at most this much (RFC 8461 §3.3 suggests 64 KiB).
    static let limits = HTTPResponseLimits(headerBytes: 16 * 1024, bodyBytes: 64 * 1024)
    static let path = "/.well-known/mta-sts.txt"

    let https: HTTPSFetcher
    let options: MTASTSOptions

    func fetch(for domain: DomainName) async -> MTASTSPolicyFetch {
        await https.fetch(host: domain.prepending("mta-sts"), port: options.httpsPort, path: Self.path, limits: Self.limits,
                          timeout: options.fetchTimeout)
    }
}
