import Foundation
public import MailAuditCore

/// Renders a report as the versioned JSON document described in docs/json-output.md.
public enum JSONRenderer {
    struct Document: Encodable {
        var schemaVersion: Int
        var tool: Tool
        var startedAt: Date
        var durationMs: Int
        var exitCode: Int32
        var summary: SeverityCounts
        var dns: DNSFigures
        var domains: [Domain]
    }

    struct Tool: Encodable { var name: String, version: String }

    struct DNSFigures: Encodable {
        var resolvers: [String]
        var statistics: ResolverStatistics
    }

    struct Domain: Encodable {
        var domain: String
        var summary: SeverityCounts
        var deadlineExceeded: Bool
        var findings: [FindingJSON]
        var probes: [ProbeSummary]
    }

    struct FindingJSON: Encodable {
        var id: String
        var area: String
        var severity: Severity
        var subject: FindingSubject
        var message: String
        var evidence: [String]
        var remedy: String?
        var reference: String?
        var facts: [String: Fact]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(area, forKey: .area)
            try container.encode(severity, forKey: .severity)
            try container.encode(subject.description, forKey: .subject)
            try container.encode(subject, forKey: .subjectFields)
            try container.encode(subject.key, forKey: .key)
            try container.encode(facts, forKey: .facts)
            try container.encode(message, forKey: .message)
            try container.encode(evidence, forKey: .evidence)
            // Absent values are null, not missing, so consumers see every key.
            try container.encode(remedy, forKey: .remedy)
            try container.encode(reference, forKey: .reference)
        }

        enum CodingKeys: String, CodingKey {
            case id, area, severity, subject, subjectFields, key, message, evidence, remedy, reference, facts
        }
    }

    public static func render(_ report: AuditReport, failOn: Severity) -> String {
        render(report, exitCode: report.exitCode(failOn: failOn))
    }

    /// The document with the exit code the process will return.
    public static func render(_ report: AuditReport, exitCode: Int32) -> String {
        let document = Document(
            schemaVersion: AuditReport.schemaVersion,
            tool: Tool(name: "mailaudit", version: report.toolVersion),
            startedAt: report.startedAt,
            durationMs: report.duration.wholeMilliseconds,
            exitCode: exitCode,
            summary: report.counts,
            dns: DNSFigures(resolvers: report.resolvers, statistics: report.dns),
            domains: report.domains.map(domainDocument))
        return encode(document)
    }

    /// One domain as it appears in `domains[]` of the document (and in each line of JSONL).
    static func domainDocument(_ domain: DomainReport) -> Domain {
        Domain(
            domain: domain.domain.description, summary: domain.counts,
            deadlineExceeded: domain.deadlineExceeded,
            findings: domain.findings.map {
                FindingJSON(id: $0.id.rawValue, area: $0.id.area, severity: $0.severity, subject: $0.subject,
                            message: $0.message, evidence: $0.evidence, remedy: $0.remedy, reference: $0.reference, facts: $0.facts)
            },
            probes: domain.probes)
    }

    /// Pretty (or, for JSONL, one-line), key-sorted JSON with ISO 8601 dates: the form of every
    /// JSON document mailaudit prints.
    public static func encode(_ value: some Encodable, oneLine: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = oneLine ? [.sortedKeys, .withoutEscapingSlashes] : [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(value) else { return "{}" }
        return escapingInvisibles(String(decoding: data, as: UTF8.self))
    }

    /// JSONEncoder writes C0 controls as `\u00XX` but DEL, the C1 controls (U+009B is a one-byte
    /// CSI to some terminals) and bidirectional overrides as they are; those become `\uXXXX`
    /// too, so `cat report.json` cannot drive a terminal. Such scalars occur only inside strings,
    /// where the escape means the same scalar (RFC 8259 §7).
    static func escapingInvisibles(_ json: String) -> String {
        // C0 controls left in the output are the encoder's own line breaks: skip them.
        let unsafe = { (scalar: Unicode.Scalar) in scalar.value >= 0x7F && String.isTerminalUnsafe(scalar) }
        guard json.unicodeScalars.contains(where: unsafe) else { return json }
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for scalar in json.unicodeScalars {
            if unsafe(scalar) {
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
