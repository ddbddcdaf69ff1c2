import Foundation
public import MailAuditCore
public import MailAuditDNS

/// The one entry point that runs an audit and returns its report: `mailaudit audit`,
/// `mailaudit dkim` and `mailaudit run` all call it.
public enum Audit {
    /// Audits `domains` concurrently. The wall clock is read once here, and every check of the
    /// run judges time by that reading (certificate expiry, the report's date).
    ///
    /// - Parameter resolverNames: the resolvers, as the report names them.
    public static func run(
        _ domains: [DomainName], options: AuditOptions, resolver: CachingResolver, resolverNames: [String]
    ) async -> AuditReport {
        var options = options
        let now = options.now ?? Date()
        options.now = now
        let start = ContinuousClock.now
        let reports = await Auditor(resolver: resolver, options: options).audit(domains)
        let duration = ContinuousClock.now - start
        // Awaited on its own line: an `await` among arguments evaluated before it crashed here
        // (Swift 6.3, a suspension in the middle of an argument list).
        let statistics = await resolver.statistics()
        return AuditReport(
            toolVersion: MailAuditVersion.current, startedAt: now, duration: duration, resolvers: resolverNames,
            domains: reports, dns: statistics)
    }
}
