public import MailAuditCore
public import Foundation
public import MailAuditDNS

/// What the user asked the audit to do beyond the defaults.
public struct AuditOptions: Sendable {
    /// Addresses the user says send the domain's mail (`--ip`), checked for reverse DNS.
    public var sendingAddresses: [IPAddress] = []
    /// Treat private and loopback MX addresses as information, for lab and intranet use.
    public var allowPrivateAddresses = false
    /// How to probe MX hosts for STARTTLS; nil skips probing (`--no-probe`).
    public var probe: ProbeOptions?
    /// DKIM selectors to look up (`--selector`); empty means "try the common ones".
    public var dkimSelectors: [String] = []
    /// The whole audit stops after this long; what was not done is reported inconclusive.
    public var deadline: Duration = .seconds(60)
    /// The checks to run; all by default. The probe also needs ``probe``.
    public var checks: Set<AuditCheck> = Set(AuditCheck.allCases)
    /// The resolver is trusted to validate DNSSEC (`--trust-resolver-ad`): its AD bit counts.
    public var trustResolverAD = false
    /// Validate DNSSEC here from these anchors (`--trust-anchor`, by default the root key);
    /// the resolver must then ask with ``DNSSECMode/validate``. Unused with ``trustResolverAD``.
    public var trustAnchors: TrustAnchors?
    /// DNS blocklist zones to check the MX and sending addresses on (`--dnsbl`); none by default.
    public var dnsblZones: [DomainName] = []
    /// How MTA-STS policies are fetched (`--https-port` for labs).
    public var mtaSTS = MTASTSOptions()
    /// Nothing is fetched over HTTPS (`check-zone --offline`): an MTA-STS policy or BIMI evidence
    /// fetch is reported as not done, which is inconclusive.
    public var offline = false
    /// The run's one reading of the wall clock: certificates are judged at it. ``Audit/run``
    /// sets it once per run; nil means "read it when the audit starts".
    public var now: Date?
    /// Per-domain settings that replace the ones above for that domain (the config's [[domain]]).
    public var perDomain: [DomainName: DomainOptions] = [:]

    public init() {}

    /// The options for one domain: these, with its own settings in their place.
    func effective(for domain: DomainName) -> AuditOptions {
        guard let local = perDomain[domain] else { return self }
        var options = self
        if let selectors = local.dkimSelectors { options.dkimSelectors = selectors }
        if let addresses = local.sendingAddresses { options.sendingAddresses = addresses }
        if let checks = local.checks { options.checks = checks }
        return options
    }
}

/// One domain's own settings; nil keeps the run's.
public struct DomainOptions: Hashable, Sendable {
    public var dkimSelectors: [String]?
    public var sendingAddresses: [IPAddress]?
    public var checks: Set<AuditCheck>?

    public init(dkimSelectors: [String]? = nil, sendingAddresses: [IPAddress]? = nil, checks: Set<AuditCheck>? = nil) {
        self.dkimSelectors = dkimSelectors
        self.sendingAddresses = sendingAddresses
        self.checks = checks
    }
}

/// Runs every check for each domain and collects the findings into one report.
public struct Auditor: Sendable {
    public let resolver: any Resolver
    public let options: AuditOptions
    /// Shared by every domain of the run, so an address is probed once.
    private let probes: ProbeRunner?
    /// Shared by every domain of the run, so a zone's keys are validated once.
    private let validator: DNSSECValidator?

    public init(resolver: any Resolver, options: AuditOptions = AuditOptions()) {
        self.resolver = resolver
        self.options = options
        // Created whatever the run's checks, so a domain that probes shares it with the others.
        probes = options.probe.map { ProbeRunner(options: $0, deadline: options.deadline) }
        validator = options.trustResolverAD ? nil
            : options.trustAnchors.map { DNSSECValidator(resolver: resolver, anchors: $0, time: options.now ?? Date()) }
    }

    /// The same auditor with one domain's options, sharing the probes (each address is probed once per run).
    private init(_ auditor: Auditor, options: AuditOptions) {
        resolver = auditor.resolver
        self.options = options
        probes = auditor.probes
        validator = auditor.validator
    }

    /// Domains audited at once by ``audit(_:)-([DomainName])``; the rest wait their turn, so
    /// memory follows this number, not the length of the list.
    public static let concurrentDomains = 64

    /// Audits the domains, ``concurrentDomains`` at a time. Domains not finished, or not
    /// started, by the deadline are reported as such.
    public func audit(_ domains: [DomainName]) async -> [DomainReport] {
        let deadline = options.deadline
        let unique = Set(domains).count
        let reports = await AuditDeadline.$end.withValue(.now + deadline) { await withTaskGroup(of: DomainReport?.self) { group in
            var waiting = domains.makeIterator()
            for _ in 0..<Self.concurrentDomains {
                guard let domain = waiting.next() else { break }
                group.addTask { await audit(domain) }
            }
            // The deadline: when it fires, cancel the audits; the resolver answers cancelled
            // lookups at once, so each audit finishes promptly with what it could check.
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            var done: [DomainName: DomainReport] = [:]
            var expired = false
            for await report in group {
                guard let report else {
                    expired = true
                    group.cancelAll()
                    continue
                }
                done[report.domain] = report
                if done.count == unique { group.cancelAll() }
                while !expired, let next = waiting.next() {
                    guard done[next] == nil else { continue }
                    group.addTask { await audit(next) }
                    break
                }
            }
            return done
        } }
        return domains.map { domain in
            // Not started before the deadline: nothing was checked, and nothing says no resolver answered.
            var report = reports[domain] ?? DomainReport(domain: domain, findings: [], resolverAnswered: true, deadlineExceeded: true)
            if report.deadlineExceeded {
                report.findings.append(Finding(
                    "audit.deadline-exceeded", .inconclusive, subject: .domain(domain),
                    message: "the audit of \(domain) hit its deadline of \(deadline); checks not finished are inconclusive",
                    remedy: "Run again with a longer --deadline, or check why DNS answers are slow."))
            }
            return report
        }
    }

    /// The checks, in the order their findings are reported. Each reads what it needs from the
    /// domain's ``AuditContext``; a new standard is one more entry here.
    public static let checks: [any Check] = [
        MXCheck(), ReverseDNSCheck(), SPFCheck(), DKIMCheck(), DMARCCheck(), DomainExistenceCheck(), ProbeCheck(),
        DNSSECCheck(), DANECheck(),
        MTASTSCheck(),
        TLSRPTCheck(),
        BIMICheck(),
        // Last: blocklists are about the addresses, not the domain's records.
        DNSBLCheck(),
    ]

    /// Audits one domain: every enabled check at once. Lookups that no check waits on start
    /// at once too, so the audit takes about its longest chain of dependent round trips.
    public func audit(_ domain: DomainName) async -> DomainReport {
        if options.perDomain[domain] != nil {
            var local = options.effective(for: domain)
            local.perDomain = [:]
            return await Auditor(self, options: local).audit(domain)
        }
        let witness = AnswerWitness(resolver)
        let context = AuditContext(domain: domain, resolver: witness, options: options, prober: probes, validator: validator)
        let enabled = Self.checks.filter { check in check.selection.map(options.checks.contains) ?? true }
        let findings = await enabled.mapConcurrently { await $0.findings(in: context) }.flatMap { $0 }
        let routing = await context.routing()
        var report = DomainReport(
            domain: domain, findings: findings.map { $0.scoped(to: domain) },
            // A lookup cut by the deadline says nothing about the resolvers: any answer counts.
            resolverAnswered: !routing.mxAnswer.outcome.isUnanswered || witness.sawAnswer,
            deadlineExceeded: Task.isCancelled)
        report.probes = await context.probeResults().map { ProbeSummary(target: $0.0, result: $0.1) }
        return report
    }
}

extension DNSOutcome {
    /// True when no server said anything about the name.
    var isUnanswered: Bool {
        switch self {
        case .timeout, .networkError: true
        default: false
        }
    }
}
