public import MailAuditCore
import MailAuditRecords
import MailAuditSMTP
public import Foundation

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

    public init(resolver: any Resolver, options: AuditOptions = AuditOptions()) {
        self.resolver = resolver
        self.options = options
        // Created whatever the run's checks, so a domain that probes shares it with the others.
        probes = options.probe.map { ProbeRunner(options: $0, deadline: options.deadline) }
    }

    /// The same auditor with one domain's options, sharing the probes (each address is probed once per run).
    private init(_ auditor: Auditor, options: AuditOptions) {
        resolver = auditor.resolver
        self.options = options
        probes = auditor.probes
    }

    /// Audits the domains concurrently. Domains not finished by the deadline are reported as such.
    public func audit(_ domains: [DomainName]) async -> [DomainReport] {
        let deadline = options.deadline
        let reports = await AuditDeadline.$end.withValue(.now + deadline) { await withTaskGroup(of: DomainReport?.self) { group in
            for domain in domains { group.addTask { await audit(domain) } }
            // The deadline: when it fires, cancel the audits; the resolver answers cancelled
            // lookups at once, so each audit finishes promptly with what it could check.
            group.addTask {
                try? await Task.sleep(for: deadline)
                return nil
            }
            var done: [DomainName: DomainReport] = [:]
            for await report in group {
                guard let report else {
                    group.cancelAll()
                    continue
                }
                done[report.domain] = report
                if done.count == Set(domains).count { group.cancelAll() }
            }
            return done
        } }
        return domains.map { domain in
            var report = reports[domain] ?? DomainReport(domain: domain, findings: [])
            if report.deadlineExceeded {
                report.findings.append(Finding(
                    "audit.deadline-exceeded", .inconclusive, subject: .domain(domain),
                    message: "the audit of \(domain) hit its deadline of \(deadline); checks not finished are inconclusive",
                    remedy: "Run again with a longer --deadline, or check why DNS answers are slow."))
            }
            return report
        }
    }

    /// Audits one domain. The chains that do not depend on each other start at once: MX, then
    /// the hosts' addresses, then reverse DNS; the SPF tree; the DMARC tree walk; the DKIM
    /// selectors; reverse DNS and SPF for each sending address.
    public func audit(_ domain: DomainName) async -> DomainReport {
        if options.perDomain[domain] != nil {
            var local = options.effective(for: domain)
            local.perDomain = [:]
            return await Auditor(self, options: local).audit(domain)
        }
        let checks = options.checks
        let senders = checks.contains(.rdns) ? options.sendingAddresses.map { ($0, AddressRole.sender) } : []
        async let senderResults = ReverseDNSLookup(resolver: resolver).run(senders)
        // DMARC's cross-rule reads the SPF tree and the DKIM result, so those run for it too.
        async let spfTree = checks.contains(.spf) || checks.contains(.dmarc) ? SPFTreeLookup(resolver: resolver).run(for: domain) : nil
        async let senderSPF = checks.contains(.spf) ? evaluateSenders(for: domain) : []
        async let dmarc = checks.contains(.dmarc) ? ifExists(domain) { await DMARCCheck(resolver: resolver).run(for: domain) } : nil
        async let dkim = checks.contains(.dkim) || checks.contains(.dmarc)
            ? ifExists(domain) { await DKIMCheck(resolver: resolver, selectors: options.dkimSelectors).run(for: domain) } : nil
        // MX routing is also what the probe and reverse DNS of the mail hosts start from.
        let routing = await MailRoutingLookup(resolver: resolver).run(for: domain)
        // The probes need only the addresses: they run beside reverse DNS.
        async let probeResults = probe(routing.probeTargets)
        let hostAddresses = checks.contains(.rdns) ? routing.addresses.map { ($0.address, AddressRole.mailHost($0.host.name)) } : []
        let hostResults = await ReverseDNSLookup(resolver: resolver).run(hostAddresses)
        let results = await senderResults + hostResults

        var findings = checks.contains(.mx) ? MXRules.findings(for: routing, allowPrivateAddresses: options.allowPrivateAddresses) : []
        findings += results.flatMap { ReverseDNSRules.findings(for: $0, domain: domain) }
        let hasMailHosts = !routing.hosts.filter { $0.name != .root }.isEmpty
        let spf = await spfTree
        if let spf, checks.contains(.spf) { findings += SPFRules.findings(for: spf, hasMailHosts: hasMailHosts) }
        findings += await senderSPF
        let dkimResult = await dkim
        if let dkimResult, checks.contains(.dkim) { findings += dkimResult.findings }
        let dmarcResult = await dmarc
        if let dmarcResult, let spf, let dkimResult {
            findings += dmarcResult.findings(context: DMARCContext(spf: spf, dkim: dkimResult))
        }
        if routing.mxAnswer.outcome == .nxDomain {
            let skipped = [AuditCheck.dkim, .dmarc].filter(checks.contains).map(\.rawValue)
            if !skipped.isEmpty {
                findings.append(Finding(
                    "audit.checks-skipped", .info, subject: .domain(domain),
                    message: "\(skipped.joined(separator: " and ")) not checked: \(domain) does not exist (NXDOMAIN), so it has no keys or policy of its own",
                    evidence: routing.mxAnswer.evidence, reference: "RFC 8020 §2"))
            }
        }
        let probed = await probeResults
        findings += smtpFindings(probed, targets: routing.probeTargets, domain: domain, reverse: hostResults)
        var report = DomainReport(
            domain: domain, findings: findings.map { $0.scoped(to: domain) },
            resolverAnswered: !routing.mxAnswer.outcome.isUnanswered,
            deadlineExceeded: Task.isCancelled)
        report.probes = probed.map { ProbeSummary(target: $0.0, result: $0.1) }
        return report
    }
}

extension Auditor {
    /// Runs `check` unless the domain's MX question (asked anyway, and shared through the cache)
    /// says the domain does not exist: NXDOMAIN means no name exists at or below it (RFC 8020),
    /// so there is no DKIM key or DMARC record of its own to find.
    func ifExists<Result: Sendable>(_ domain: DomainName, _ check: @Sendable () async -> Result) async -> Result? {
        guard await resolver.resolve(domain, .mx).outcome != .nxDomain else { return nil }
        return await check()
    }

    /// Probes every MX address of the domain at once (each address once per run).
    func probe(_ targets: [ProbeTarget]) async -> [(ProbeTarget, ProbeResult)] {
        guard let probes, options.checks.contains(.probe) else { return [] }
        let targets = targets.filter { probeAllowed($0.address) }
        return await withTaskGroup(of: (Int, ProbeTarget, ProbeResult).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask {
                    (index, target, await probes.probe(target.address, hostName: target.hostNames[0]))
                }
            }
            var results: [(Int, ProbeTarget, ProbeResult)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2) }
        }
    }

    /// Non-public addresses are probed only under --allow-private-addresses: from an auditor's
    /// network they would reach some other, local host.
    func probeAllowed(_ address: IPAddress) -> Bool {
        address.nonPublicRange == nil || options.allowPrivateAddresses
    }

    func smtpFindings(
        _ probed: [(ProbeTarget, ProbeResult)], targets: [ProbeTarget], domain: DomainName, reverse: [ReverseDNSResult]
    ) -> [Finding] {
        guard let probe = options.probe, options.checks.contains(.probe) else { return [] }
        let now = probe.verificationTime ?? options.now ?? Date()
        var findings: [Finding] = []
        for target in targets where !probeAllowed(target.address) {
            let names = target.hostNames.map(\.description).joined(separator: ", ")
            findings.append(Finding(
                "smtp.not-probed", .info, subject: FindingSubject(host: names, address: target.address.description),
                message: "\(names) [\(target.address)] was not probed: the address is \(target.address.nonPublicRange ?? "not public")",
                evidence: ["\(target.address): \(target.address.nonPublicRange ?? "not public")"],
                remedy: "For lab and intranet domains, pass --allow-private-addresses to probe such addresses.",
                reference: "RFC 6890"))
        }
        for (target, result) in probed {
            let ptrNames = reverse.first { $0.address == target.address }?.ptrAnswer.records.compactMap { record -> DomainName? in
                if case .ptr(let name) = record.data { name } else { nil }
            } ?? []
            findings += SMTPRules.findings(
                for: result, target: target, ptrNames: ptrNames, expiryWarningDays: probe.expiryWarningDays, now: now)
        }
        if let blocked = SMTPRules.blockedPortFinding(domain: domain, results: probed.map(\.1)) { findings.append(blocked) }
        return findings
    }

    /// check_host() for each sending address, with the domain's postmaster as the sender.
    func evaluateSenders(for domain: DomainName) async -> [Finding] {
        let evaluator = SPFEvaluator(resolver: resolver)
        return await withTaskGroup(of: (Int, Finding).self) { group in
            for (index, ip) in options.sendingAddresses.enumerated() {
                group.addTask {
                    let evaluation = await evaluator.checkHost(ip: ip, domain: domain, sender: "postmaster@\(domain)", helo: nil)
                    return (index, SPFRules.senderFinding(evaluation, ip: ip))
                }
            }
            var findings: [(Int, Finding)] = []
            for await finding in group { findings.append(finding) }
            return findings.sorted { $0.0 < $1.0 }.map(\.1)
        }
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
