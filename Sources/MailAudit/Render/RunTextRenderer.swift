public import MailAuditCore

/// The plain-text view of a run: what changed first, then what needs attention per domain,
/// then the passing checks as counts. The mail's text part and `mailaudit run`'s terminal output.
public enum RunTextRenderer {
    public static func render(_ report: RunReport) -> String {
        var lines = [report.subjectLine, "run \(report.runID) on \(report.host) at \(report.audit.startedAt.formatted(.iso8601))", ""]
        let everyDomainIsNew = !report.audit.domains.isEmpty && report.firstRun.count == report.audit.domains.count
        if report.changes.isEmpty {
            lines.append(everyDomainIsNew ? "First run: there is no earlier run to compare with." : "No changes since the last run.")
        } else {
            lines.append("Changes since the last run (\(report.changes.count)):")
            for domain in report.audit.domains.map(\.domain.description) {
                let changes = report.changes(for: domain)
                guard !changes.isEmpty else { continue }
                lines.append("  \(domain)")
                for change in changes {
                    lines.append("    - [\(label(change.kind))] \(change.id) \(change.subject): \(change.summary)")
                }
            }
        }
        if !report.incomplete.isEmpty {
            lines.append("Not compared (the audit could not finish): \(report.incomplete.joined(separator: ", ")); their last complete run stays the baseline.")
        }
        if !report.firstRun.isEmpty {
            lines.append("First run for \(report.firstRun.joined(separator: ", ")): their findings are the baseline for the next run.")
        }
        lines.append("")
        let needing = report.audit.domains.filter { !RunReport.attention($0).isEmpty }
        if needing.isEmpty {
            lines.append("Nothing needs attention: no failures, warnings or inconclusive checks.")
        } else {
            lines.append("Needs attention:")
            for domain in needing {
                lines.append("  \(domain.domain)")
                for finding in RunReport.attention(domain) {
                    lines.append("    \(finding.severity.rawValue.uppercased()) \(finding.id) \(finding.subject): \(finding.message)")
                    if let remedy = finding.remedy { lines.append("      fix: \(remedy)") }
                    if let reference = finding.reference { lines.append("      see: \(reference)") }
                }
            }
        }
        lines.append("")
        lines.append("Passing checks:")
        for domain in report.audit.domains {
            let counts = domain.counts
            lines.append("  \(domain.domain): \(counts.pass) passed, \(counts.info) informational")
        }
        return lines.map(\.terminalSafe).joined(separator: "\n") + "\n"
    }

    static func label(_ kind: FindingChange.Kind) -> String {
        switch kind {
        case .new: "new"
        case .resolved: "resolved"
        case .gone: "gone"
        case .severity: "severity"
        case .facts: "changed"
        case .replaced: "replaced"
        }
    }
}

/// A view of an audit report: text for terminals, JSON for scripts.
public protocol AuditReportRenderer {
    func render(_ report: AuditReport) -> String
}

extension TextRenderer: AuditReportRenderer {}

/// The JSON view, with the exit code the process returns.
public struct JSONReportRenderer: AuditReportRenderer {
    public var failOn: Severity
    public init(failOn: Severity) { self.failOn = failOn }
    public func render(_ report: AuditReport) -> String { JSONRenderer.render(report, failOn: failOn) }
}
