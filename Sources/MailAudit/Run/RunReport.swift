import Foundation
public import MailAuditCore

/// One scheduled run: the audit, and what changed since each domain's previous run. The mail's
/// text, its HTML and its JSON attachment are views of this value.
public struct RunReport: Sendable, Codable {
    public var runID: String
    public var host: String
    public var audit: AuditReport
    /// Every change, domain by domain; empty when nothing changed.
    public var changes: [FindingChange]
    /// Domains seen for the first time: their findings are the baseline, not changes.
    public var firstRun: [String]
    /// Each domain's previous run, when there was one.
    public var previousRuns: [String: String]
    /// The config's subject prefix ("mailaudit").
    public var subjectPrefix: String
    /// Domains that could not be audited to the end (no resolver answered, the deadline): not
    /// compared and not stored, so their previous run stays the baseline.
    public var incomplete: [String] = []

    public init(runID: String, host: String, audit: AuditReport, changes: [FindingChange], firstRun: [String],
                previousRuns: [String: String], subjectPrefix: String = "mailaudit") {
        self.runID = runID
        self.host = host
        self.audit = audit
        self.changes = changes
        self.firstRun = firstRun
        self.previousRuns = previousRuns
        self.subjectPrefix = subjectPrefix
    }

    public var counts: SeverityCounts { audit.counts }

    /// "mailaudit: 2 changes, 1 failure across 12 domains".
    public var subjectLine: String {
        let counts = self.counts
        var parts = ["\(changes.count) change\(changes.count == 1 ? "" : "s")"]
        parts.append("\(counts.failure) failure\(counts.failure == 1 ? "" : "s")")
        if counts.warning > 0 { parts.append("\(counts.warning) warning\(counts.warning == 1 ? "" : "s")") }
        if counts.inconclusive > 0 { parts.append("\(counts.inconclusive) inconclusive") }
        let domains = audit.domains.count
        return "\(subjectPrefix): " + parts.joined(separator: ", ") + " across \(domains) domain\(domains == 1 ? "" : "s")"
    }

    /// The changes of one domain.
    public func changes(for domain: String) -> [FindingChange] { changes.filter { $0.domain == domain } }

    /// The findings that need attention (failures, warnings, inconclusive), worst first.
    public static func attention(_ report: DomainReport) -> [Finding] {
        report.findings.filter { $0.severity >= .inconclusive }.sorted { $0.severity > $1.severity }
    }
}
