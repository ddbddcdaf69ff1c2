import Foundation
public import MailAuditCore

/// `--format jsonl`: one compact JSON object a line, `"type": "domain"` for each domain as it
/// finishes (the shape of `domains[]` in the JSON document), then one `"type": "summary"`.
public enum JSONLRenderer {
    public static func line(_ report: DomainReport) -> String {
        JSONRenderer.encode(Tagged(type: "domain", body: JSONRenderer.domainDocument(report)), oneLine: true)
    }

    public static func summary(_ summary: BulkSummary, exitCode: Int32, duration: Duration, dns: ResolverStatistics? = nil) -> String {
        var body = SummaryJSON(summary, exitCode: exitCode, duration: duration)
        body.dns = dns
        return JSONRenderer.encode(Tagged(type: "summary", body: body), oneLine: true)
    }

    struct Tagged<Body: Encodable>: Encodable {
        var type: String
        var body: Body
        func encode(to encoder: any Encoder) throws {
            try body.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(type, forKey: Key(stringValue: "type"))
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    struct SummaryJSON: Encodable {
        var domains: Int
        var summary: SeverityCounts
        var unanswered: Int
        var deadlineExceeded: Int
        var badLines: [BadDomainLine]
        var badLineCount: Int
        var durationMs: Int
        var domainsPerSecond: Double
        var exitCode: Int32
        var dns: ResolverStatistics?

        init(_ bulk: BulkSummary, exitCode: Int32, duration: Duration) {
            domains = bulk.domains
            summary = bulk.counts
            unanswered = bulk.unanswered
            deadlineExceeded = bulk.deadlineExceeded
            badLines = bulk.badLines
            badLineCount = bulk.badLineCount
            let seconds = duration.inSeconds
            durationMs = Int(seconds * 1000)
            domainsPerSecond = seconds > 0 ? (Double(bulk.domains) / seconds * 10).rounded() / 10 : 0
            self.exitCode = exitCode
        }
    }
}

/// `--format csv`: a header, then one row a domain with its counts and worst finding (RFC 4180).
public enum CSVRenderer {
    public static let header = "domain,pass,info,warning,failure,inconclusive,worst_severity,worst_id,worst_subject,worst_message"

    public static func row(_ report: DomainReport) -> String {
        let counts = report.counts
        let worst = report.findings.max { rank($0.severity) < rank($1.severity) }
        let fields = [
            report.domain.description, String(counts.pass), String(counts.info), String(counts.warning), String(counts.failure),
            String(counts.inconclusive), worst?.severity.rawValue ?? "", worst?.id.rawValue ?? "", worst?.subject.description ?? "",
            worst?.message ?? "",
        ]
        return fields.map(quote).joined(separator: ",")
    }

    /// Failures first, then warnings, then inconclusive, info, pass.
    private static func rank(_ severity: Severity) -> Int {
        switch severity {
        case .failure: 4
        case .warning: 3
        case .inconclusive: 2
        case .info: 1
        case .pass: 0
        }
    }

    /// A field quoted when it holds a comma, a quote or a line break (RFC 4180 §2); control
    /// characters are escaped so a spreadsheet or a terminal shows them harmlessly. A leading
    /// = + - @ is prefixed with ' so spreadsheets do not run it as a formula.
    static func quote(_ field: String) -> String {
        var text = field.terminalSafe
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
