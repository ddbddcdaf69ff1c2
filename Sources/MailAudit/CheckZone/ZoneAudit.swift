public import MailAuditCore
public import MailAuditDNS

/// The audit of a zone file before it is published (`mailaudit check-zone`): the zone's origin
/// audited as usual, with every question about the zone answered from the file.
///
/// ```swift
/// let zone = try ZoneFile.read(path: "zones/example.com.zone")
/// let report = await ZoneAudit.run(zone, options: options, live: nil, resolverNames: [])   // --offline
/// ```
public enum ZoneAudit {
    /// Audits `zone.origin`. Names outside the file go to `live`, or with nil (`--offline`)
    /// are not looked up: their checks are inconclusive, and a `zone.not-looked-up` finding
    /// lists every such question.
    public static func run(_ zone: ZoneFile, options: AuditOptions, live: CachingResolver?, resolverNames: [String]) async -> AuditReport {
        let zoneResolver = ZoneFileResolver(zone: zone, outside: live.map { .resolver($0) } ?? .offline)
        var report = await Audit.run(
            [zone.origin], options: options, resolver: CachingResolver(upstream: zoneResolver),
            resolverNames: ["zone file \(zone.path)"] + (live == nil ? [] : resolverNames))
        let skipped = zoneResolver.questionsNotLookedUp
        if !skipped.isEmpty, let index = report.domains.firstIndex(where: { $0.domain == zone.origin }) {
            report.domains[index].findings.append(Finding(
                "zone.not-looked-up", .info, subject: .domain(zone.origin),
                message: "\(skipped.count) question\(skipped.count == 1 ? "" : "s") about names outside the zone file "
                    + "\(skipped.count == 1 ? "was" : "were") not looked up (--offline); the checks that needed them are inconclusive",
                evidence: skipped.map(\.description),
                remedy: "Run check-zone without --offline to look these names up through a resolver.",
                facts: ["questions": .int(skipped.count)]))
        }
        return report
    }

    /// The record of `zone` a finding is about (see ``FindingLocator``), or the SOA record when
    /// the zone holds none of its candidates.
    public static func locate(_ finding: Finding, domain: DomainName, in zone: ZoneFile) -> ZoneFileRecord? {
        for candidate in FindingLocator.candidates(for: finding, domain: domain) {
            if let found = zone.records.first(where: { candidate.matches($0.record) }) { return found }
        }
        return zone.soa ?? zone.records.first
    }

    /// The SARIF locator for `zone`: each finding's record as a file and line.
    public static func sourceLocator(_ zone: ZoneFile) -> SARIFRenderer.Locate {
        { finding, domain in
            locate(finding, domain: domain, in: zone).map { SourceLocation(path: $0.file, line: $0.line) }
        }
    }
}
