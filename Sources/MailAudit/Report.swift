public import MailAuditCore
public import Foundation

/// The findings for one domain.
public struct DomainReport: Sendable, Codable {
    public var domain: DomainName
    public var findings: [Finding]
    /// False when no DNS server answered the domain's first lookup: the audit could not be done.
    public var resolverAnswered: Bool
    /// True when the audit's deadline cut this domain short.
    public var deadlineExceeded: Bool
    /// What each MX probe saw (empty under --no-probe).
    public var probes: [ProbeSummary] = []

    public init(domain: DomainName, findings: [Finding], resolverAnswered: Bool = true, deadlineExceeded: Bool = false) {
        self.domain = domain
        self.findings = findings
        self.resolverAnswered = resolverAnswered
        self.deadlineExceeded = deadlineExceeded
    }

    public var counts: SeverityCounts { SeverityCounts(findings) }

    /// True when the audit ran to the end with a resolver answering.
    public var isComplete: Bool { resolverAnswered && !deadlineExceeded }
}

/// One run of mailaudit: every domain's findings and the run's figures. Renderers are views of it.
public struct AuditReport: Sendable, Codable {
    /// The JSON schema version; bumped on any incompatible change (docs/json-output.md).
    public static let schemaVersion = 1

    public var toolVersion: String
    public var startedAt: Date
    public var duration: Duration
    public var resolvers: [String]
    public var domains: [DomainReport]
    public var dns: ResolverStatistics

    public init(toolVersion: String, startedAt: Date, duration: Duration, resolvers: [String],
                domains: [DomainReport], dns: ResolverStatistics) {
        self.toolVersion = toolVersion
        self.startedAt = startedAt
        self.duration = duration
        self.resolvers = resolvers
        self.domains = domains
        self.dns = dns
    }

    public var counts: SeverityCounts { domains.reduce(SeverityCounts()) { $0 + $1.counts } }

    /// True when no resolver answered for any domain.
    public var couldNotAudit: Bool { !domains.isEmpty && domains.allSatisfy { !$0.resolverAnswered } }

    /// The process exit code (README, "Exit codes").
    public func exitCode(failOn threshold: Severity) -> Int32 {
        if couldNotAudit { return 3 }
        let counts = self.counts
        if counts.failure > 0 { return 1 }
        if threshold == .warning && counts.warning > 0 { return 1 }
        if threshold == .inconclusive && (counts.warning > 0 || counts.inconclusive > 0) { return 1 }
        return 0
    }
}
