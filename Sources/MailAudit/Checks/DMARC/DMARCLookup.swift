public import MailAuditCore
public import MailAuditRecords

/// Fetches what the DMARC verdicts need: the tree walk for the domain (RFC 9989 §4.10), then, for
/// each report destination of the governing record, the destination's Organizational Domain and,
/// when it differs, the authorisation record `<policy domain>._report._dmarc.<destination>`
/// (RFC 9990 §3, RFC 7489 §7.1).
///
/// It asks nothing about SPF or DKIM, so an auditor can run it beside those checks and apply
/// the one rule that needs all three afterwards, with ``DMARCResult/findings(context:)``:
///
/// ```swift
/// async let dmarc = DMARCLookup(resolver: resolver).run(for: domain)
/// async let dkim = DKIMLookup(resolver: resolver, selectors: []).run(for: domain)
/// let context = DMARCContext(spf: await spfTree, dkim: await dkim)
/// findings += await dmarc.findings(context: context)
/// ```
public struct DMARCLookup: Sendable {
    /// At most this many report destination hosts are checked (each costs a tree walk).
    public static let maximumDestinations = 10
    public let resolver: any Resolver

    public init(resolver: any Resolver) { self.resolver = resolver }

    /// Walks the tree for `domain` and checks the governing record's report destinations.
    /// Never throws: failed lookups are kept in the result and reported inconclusive.
    public func run(for domain: DomainName) async -> DMARCResult {
        let walk = DMARCTreeWalk(resolver: resolver)
        let discovery = await walk.discover(domain)
        guard let record = discovery.governing?.record, let policyDomain = discovery.policyDomain else {
            return DMARCResult(discovery: discovery, destinations: [])
        }
        // One check per destination host; the URIs that name it are listed together.
        var hosts: [DomainName] = []
        var uris: [DomainName: [(tag: String, uri: DMARCURI)]] = [:]
        for (tag, list) in [("rua", record.aggregateReportURIs ?? []), ("ruf", record.failureReportURIs ?? [])] {
            for uri in list {
                guard let host = uri.host else { continue }
                if uris[host] == nil { hosts.append(host) }
                uris[host, default: []].append((tag, uri))
            }
        }
        let policyOrganization = discovery.policyOrganizationalDomain
        // A hostile record could name hundreds of hosts, each a tree walk: check the first few.
        let unchecked = Array(hosts.dropFirst(Self.maximumDestinations))
        hosts = Array(hosts.prefix(Self.maximumDestinations))
        let destinations = await withTaskGroup(of: (Int, DMARCReportDestination).self) { group in
            for (index, host) in hosts.enumerated() {
                let named = uris[host] ?? []
                group.addTask {
                    var destination = DMARCReportDestination(
                        host: host, uris: named.map { "\($0.tag)=\($0.uri)" }, policyDomain: policyDomain, status: .sameOrganization(host))
                    if host == policyDomain || host == policyOrganization {
                        return (index, destination)
                    }
                    let hostOrganization = await walk.discover(host).organizationalDomain
                    if let hostOrganization, let policyOrganization, hostOrganization == policyOrganization {
                        destination.status = .sameOrganization(hostOrganization)
                        return (index, destination)
                    }
                    guard let name = destination.authorizationName else {
                        destination.status = .undetermined(nil, reason: "the authorisation record's name would be longer than DNS allows")
                        return (index, destination)
                    }
                    let answer = await resolver.resolve(name, .txt)
                    let authorized = !DMARCRecordSelection(records: answer.records).candidates.isEmpty
                    if authorized {
                        destination.status = .authorized(answer)
                    } else if answer.outcome.isInconclusive {
                        destination.status = .undetermined(answer, reason: "the lookup of \(name.fqdn) failed: \(answer.outcome.summary)")
                    } else if let hostOrganization, policyOrganization != nil {
                        destination.status = .unauthorized(answer, destinationOrganization: hostOrganization)
                    } else {
                        destination.status = .undetermined(answer, reason: "the Organizational Domain of \(policyOrganization == nil ? policyDomain : host) could not be determined")
                    }
                    return (index, destination)
                }
            }
            var results: [(Int, DMARCReportDestination)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        var result = DMARCResult(discovery: discovery, destinations: destinations)
        result.uncheckedDestinations = unchecked
        return result
    }
}

/// A report destination of the governing record, checked for authorisation (RFC 9990 §3).
public struct DMARCReportDestination: Hashable, Sendable {
    public enum Status: Hashable, Sendable {
        /// The destination shares the policy domain's Organizational Domain: no authorisation needed.
        case sameOrganization(DomainName)
        /// It is external and publishes the authorisation record.
        case authorized(DNSAnswer)
        /// It is external and publishes no authorisation record: receivers send it no reports.
        case unauthorized(DNSAnswer, destinationOrganization: DomainName)
        /// A lookup failed, so it is not known whether reports may go there.
        case undetermined(DNSAnswer?, reason: String)
    }

    /// The destination host: the domain of a `mailto:` address.
    public var host: DomainName
    /// The tags and URIs that name this host, such as `rua=mailto:d@example.net`.
    public var uris: [String]
    /// The domain whose record asks for the reports.
    public var policyDomain: DomainName
    public var status: Status

    /// `<policy domain>._report._dmarc.<host>`, or nil when that is too long for DNS.
    public var authorizationName: DomainName? {
        let name = DomainName(labels: policyDomain.labels + ["_report", "_dmarc"] + host.labels)
        return name.labels.reduce(1) { $0 + $1.utf8.count + 1 } <= 255 ? name : nil
    }
}

/// What the DMARC lookups found, with the verdicts as findings.
public struct DMARCResult: Hashable, Sendable {
    public var discovery: DMARCDiscovery
    public var destinations: [DMARCReportDestination]
    /// Report destination hosts past ``DMARCLookup/maximumDestinations``, not checked.
    public var uncheckedDestinations: [DomainName] = []

    public init(discovery: DMARCDiscovery, destinations: [DMARCReportDestination]) {
        self.discovery = discovery
        self.destinations = destinations
    }

    /// Every DMARC finding but the one that needs SPF and DKIM.
    public var findings: [Finding] {
        var findings = DMARCRules.findings(for: self)
        if !uncheckedDestinations.isEmpty, let domain = discovery.policyDomain {
            findings.append(Finding(
                "dmarc.report-destinations-not-checked", .info, subject: .domain(domain),
                message: "the DMARC record names \(uncheckedDestinations.count) more report destination hosts than the \(DMARCLookup.maximumDestinations) checked",
                evidence: uncheckedDestinations.map(\.description),
                remedy: "Few receivers send reports to more than two addresses; list only the ones you read.",
                reference: "RFC 9989 §4.7"))
        }
        return findings
    }

    /// Every DMARC finding, the rule against SPF and DKIM included.
    public func findings(context: DMARCContext) -> [Finding] {
        findings + [DMARCRules.authenticationFinding(for: self, context: context)].compactMap { $0 }
    }

    /// The policy that applies to the audited domain: the own record's `p`, or the inherited
    /// record's `sp` (RFC 9989 §4.10.1; `np` would apply to a name that does not exist).
    public var applicablePolicy: DMARCPolicy? {
        guard let record = discovery.governing?.record else { return nil }
        return discovery.source == .ownRecord ? record.effectivePolicy : record.effectiveSubdomainPolicy
    }
}

/// What the DMARC rule against SPF and DKIM needs to know, gathered by the other checks.
///
/// `DMARCContext(spfPublished: true, spfBroken: false, dkimKeysFound: 1)`: nothing to warn about.
public struct DMARCContext: Hashable, Sendable {
    /// An SPF record was found, or its lookup failed (then nothing is claimed about SPF).
    public var spfPublished: Bool
    /// The SPF record gives permerror: several records, a syntax error, or more than 10 lookups.
    public var spfBroken: Bool
    /// Selectors with a usable DKIM key; nil when DKIM could not be checked (a lookup failed).
    public var dkimKeysFound: Int?
    /// The selectors DKIM discovery tried, for the message.
    public var dkimSelectorsTried: Int

    public init(spfPublished: Bool, spfBroken: Bool, dkimKeysFound: Int?, dkimSelectorsTried: Int = 0) {
        self.spfPublished = spfPublished
        self.spfBroken = spfBroken
        self.dkimKeysFound = dkimKeysFound
        self.dkimSelectorsTried = dkimSelectorsTried
    }

    /// The context from the SPF tree and the DKIM result of the same audit.
    public init(spf: SPFNode, dkim: DKIMResult) {
        switch spf.content {
        case .none, .notFollowed, .loop:
            self.init(spfPublished: false, spfBroken: false, dkimKeysFound: nil)
        case .multiple, .invalid:
            self.init(spfPublished: true, spfBroken: true, dkimKeysFound: nil)
        case .lookupFailed:
            self.init(spfPublished: true, spfBroken: false, dkimKeysFound: nil)
        case .record:
            self.init(spfPublished: true, spfBroken: SPFRules.givesPermerror(spf), dkimKeysFound: nil)
        }
        let usable = dkim.usableKeys.count
        dkimKeysFound = usable > 0 || dkim.isComplete ? usable : nil
        dkimSelectorsTried = dkim.selectors.count
    }
}
