import MailAuditCore
import Foundation

/// Renders a report for people: findings grouped by area, then a summary line.
///
/// Findings carry text from DNS records and servers, so every message, evidence line, remedy
/// and record is shown through ``Swift/String/terminalSafe``: control characters and
/// bidirectional overrides become visible escapes here, whatever the check that made them did.
public struct TextRenderer: Sendable {
    public var color: Bool
    /// Show evidence for passing and informational findings too.
    public var verbose: Bool

    public init(color: Bool, verbose: Bool = false) {
        self.color = color
        self.verbose = verbose
    }

    static let areaTitles: [String: String] = [
        "mx": "MX", "rdns": "Reverse DNS", "audit": "Audit", "spf": "SPF", "dmarc": "DMARC", "dkim": "DKIM",
        "smtp": "SMTP and TLS", "dnssec": "DNSSEC", "dane": "DANE", "mta-sts": "MTA-STS", "tls-rpt": "TLS-RPT",
        "bimi": "BIMI", "dnsbl": "DNS blocklists", "zone": "Zone file",
    ]
    static let areaOrder = ["mx", "rdns", "spf", "dkim", "dmarc", "smtp", "dnssec", "dane", "mta-sts", "tls-rpt", "bimi", "dnsbl", "zone", "audit"]

    public func render(_ report: AuditReport) -> String {
        var out = ""
        for domain in report.domains {
            out += paint(bold: true, domain.domain.description.terminalSafe) + "\n"
            let areas = Dictionary(grouping: domain.findings, by: \.id.area)
            let ordered = Self.areaOrder.filter { areas[$0] != nil } + areas.keys.filter { !Self.areaOrder.contains($0) }.sorted()
            for area in ordered {
                out += "\n  " + paint(bold: true, Self.areaTitles[area] ?? area) + "\n"
                for finding in areas[area] ?? [] { out += render(finding) }
            }
            out += "\n"
        }
        out += recordsToPublish(report)
        out += summary(report) + "\n"
        return out
    }

    /// Every record the failing and warning findings ask for, in one place, ready to paste.
    private func recordsToPublish(_ report: AuditReport) -> String {
        let byDomain = RecordsToPublish.byDomain(report)
        guard !byDomain.isEmpty else { return "" }
        var out = paint(bold: true, "Records to publish") + "\n"
        for (domain, records) in byDomain {
            out += "  \(domain.description.terminalSafe)\n"
            for record in records { out += "    \(record.terminalSafe)\n" }
        }
        return out + "\n"
    }

    private let indent = String(repeating: " ", count: 18)

    private func render(_ finding: Finding) -> String {
        let label = finding.severity.rawValue.uppercased().padding(toLength: 14, withPad: " ", startingAt: 0)
        var out = "    " + paint(finding.severity, label) + finding.message.terminalSafe + "  " + paint(dim: true, "[\(finding.id.rawValue.terminalSafe)]") + "\n"
        let detailed = verbose || finding.severity > .info
        if detailed {
            let shown = verbose ? 500 : 40
            for line in finding.evidence.prefix(shown) { out += indent + paint(dim: true, line.terminalSafe) + "\n" }
            if finding.evidence.count > shown {
                out += indent + paint(dim: true, "… \(finding.evidence.count - shown) more lines") + "\n"
            }
            if let remedy = finding.remedy { out += indent + "fix: " + remedy.terminalSafe + "\n" }
            if let reference = finding.reference { out += indent + "see: " + reference.terminalSafe + "\n" }
        }
        return out
    }

    private func summary(_ report: AuditReport) -> String {
        let c = report.counts
        let seconds = report.duration.inSeconds
        let dns = report.dns
        var parts = [
            paint(.pass, "\(c.pass) pass"), "\(c.info) info", paint(.warning, "\(c.warning) warning"),
            paint(.failure, "\(c.failure) failure"), paint(.inconclusive, "\(c.inconclusive) inconclusive"),
        ].joined(separator: ", ")
        parts += " · " + String(format: "%.2f s", seconds)
        parts += " · \(dns.queriesSent) DNS queries for \(dns.uniqueNames) names"
            + " (\(dns.retries) retries, \(dns.tcpFallbacks) over TCP, \(dns.repeatedQueries) repeated)"
        return paint(bold: true, "Summary: ") + parts
    }

    private func paint(_ severity: Severity, _ text: String) -> String {
        let code = switch severity {
        case .pass: "32"
        case .info: "36"
        case .warning: "33"
        case .failure: "1;31"
        case .inconclusive: "35"
        }
        return color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func paint(bold: Bool = false, dim: Bool = false, _ text: String) -> String {
        guard color, bold || dim else { return text }
        return "\u{1B}[\(bold ? "1" : "2")m\(text)\u{1B}[0m"
    }
}
