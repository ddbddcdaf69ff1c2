import Foundation
public import MailAuditCore
import MailAuditSMTP
public import MailAuditTLS

/// Fetches a document the way a strict client does, for the checks that read one over HTTPS
/// (an MTA-STS policy, RFC 8461 §3.3; a BIMI logo and its evidence): the host's A and AAAA
/// records through the audit's resolver, then a GET with a verified certificate for the host,
/// never following redirects, within a size bound and the shorter of a timeout and the audit's
/// deadline.
///
/// ```swift
/// let fetcher = HTTPSFetcher(resolver: resolver, trust: .system, verificationTime: nil, deadline: nil, mayConnect: { _ in true })
/// let fetch = await fetcher.fetch(host: host, port: 443, path: "/logo.svg", limits: HTTPResponseLimits(), timeout: .seconds(10))
/// ```
///
/// The blocking socket work runs on threads of its own, never on Swift's cooperative pool.
struct HTTPSFetcher: Sendable {
    /// Fetches at once, across every check and domain of the run.
    static let threads = DedicatedThreads(limit: 16)

    let resolver: any Resolver
    let trust: TLSTrust
    /// The time certificates are judged at: the audit's clock.
    let verificationTime: Date?
    /// The end of the whole audit; no fetch runs past it.
    let deadline: ContinuousClock.Instant?
    /// Whether an address may be connected to (public, or private ones allowed).
    let mayConnect: @Sendable (IPAddress) -> Bool
    /// `check-zone --offline`: no lookup and no connection; every fetch is "not done".
    var offline = false

    /// The fetcher of an audit: its trust store (`--ca-file`), clock, deadline and address rule.
    init(context: AuditContext) {
        let options = context.options
        self.init(resolver: context.resolver, trust: context.trustStore.map { .caFile($0) } ?? .system,
                  verificationTime: context.now, deadline: context.deadline, mayConnect: { options.mayProbe($0) })
        offline = options.offline
    }

    init(resolver: any Resolver, trust: TLSTrust, verificationTime: Date?, deadline: ContinuousClock.Instant?,
         mayConnect: @escaping @Sendable (IPAddress) -> Bool) {
        self.resolver = resolver
        self.trust = trust
        self.verificationTime = verificationTime
        self.deadline = deadline
        self.mayConnect = mayConnect
    }

    /// GETs `https://host:port/path`, trying the host's addresses in turn; only a failed
    /// connection moves on to the next one, as HTTP clients do.
    func fetch(
        host: DomainName, port: UInt16, path: String, limits: HTTPResponseLimits, timeout: Duration, accept: String = "text/plain"
    ) async -> HTTPSDocumentFetch {
        let url = "https://\(host)\(port == 443 ? "" : ":\(port)")\(path)"
        guard !offline else {
            let skipped = [RRType.a, .aaaa].map { DNSAnswer(question: DNSQuestion(host, $0), outcome: .networkError("not fetched: --offline")) }
            return HTTPSDocumentFetch(host: host, url: url, addressAnswers: skipped, outcome: .hostLookupFailed)
        }
        async let v4 = resolver.resolve(host, .a)
        async let v6 = resolver.resolve(host, .aaaa)
        let answers = await [v4, v6]
        var fetch = HTTPSDocumentFetch(host: host, url: url, addressAnswers: answers, outcome: .noHost)
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
        var end = ContinuousClock.now + timeout
        if let deadline { end = min(end, deadline) }
        var attempts: [HTTPSFetchAttempt] = []
        for address in allowed {
            let request = HTTPSRequest(
                address: address, port: port, host: host.description, path: path, trust: trust,
                verificationTime: verificationTime, limits: limits, connectTimeout: .seconds(5), accept: accept)
            let stop = end
            switch await Self.threads.run({ request.get(deadline: stop) }) {
            case .success(let response):
                fetch.outcome = .response(response, address: address)
                return fetch
            case .failure(let error):
                attempts.append(HTTPSFetchAttempt(address: address, error: error))
            }
            guard case .connect? = attempts.last?.error, ContinuousClock.now < end else { break }
        }
        fetch.outcome = .failed(attempts)
        return fetch
    }
}

/// One fetch of a document over HTTPS and what came of it.
public struct HTTPSDocumentFetch: Hashable, Sendable {
    public var host: DomainName
    /// The URL fetched, with the port when it is not 443.
    public var url: String
    /// The A and AAAA answers for the host.
    public var addressAnswers: [DNSAnswer]
    public var outcome: Outcome

    public init(host: DomainName, url: String, addressAnswers: [DNSAnswer], outcome: Outcome) {
        self.host = host
        self.url = url
        self.addressAnswers = addressAnswers
        self.outcome = outcome
    }

    public enum Outcome: Hashable, Sendable {
        /// The host does not exist or has no address: nothing to connect to.
        case noHost
        /// The address lookups failed.
        case hostLookupFailed
        /// Every address is private or loopback, and `--allow-private-addresses` was not given.
        case notPublic([IPAddress])
        /// Every address tried failed; the last error decides. Only connection failures move
        /// on to the next address, as HTTP clients do.
        case failed([HTTPSFetchAttempt])
        /// A response came back from `address`, whatever its status.
        case response(HTTPResponse, address: IPAddress)
    }

    /// The body of a 200 response.
    public var okBody: [UInt8]? {
        if case .response(let response, _) = outcome, response.status == 200 { response.body } else { nil }
    }

    /// The request and what came back, for evidence: the status and the header fields a client
    /// judges (Date, ETag and the like change every run).
    public var evidence: [String] {
        var lines = ["GET \(url)"]
        switch outcome {
        case .noHost, .hostLookupFailed, .notPublic:
            lines += addressAnswers.flatMap(\.evidence)
        case .failed(let attempts):
            lines += attempts.map { "\($0)".terminalSafe }
        case .response(let response, let address):
            lines.append("answered by \(address):")
            let judged: Set<String> = ["content-type", "content-length", "transfer-encoding", "location"]
            lines.append("  " + (response.headLines.first ?? "").terminalSafe)
            lines += response.headers.filter { judged.contains($0.name.lowercased()) }.map { "  \($0.name): \($0.value)".terminalSafe }
        }
        return lines
    }
}

/// One address a fetch tried, and why it failed.
public struct HTTPSFetchAttempt: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var error: HTTPSFetchError

    public init(address: IPAddress, error: HTTPSFetchError) {
        self.address = address
        self.error = error
    }

    public var description: String { "\(address): \(error)" }
}
