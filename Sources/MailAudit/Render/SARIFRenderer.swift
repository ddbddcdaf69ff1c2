import Foundation
public import MailAuditCore

/// A place in a file: for SARIF's physical locations.
public struct SourceLocation: Hashable, Sendable {
    /// The file's path as the user gave it; relative paths stay relative to the working directory
    /// (a repository's root in CI), which is what code-scanning services expect.
    public var path: String
    /// 1-based.
    public var line: Int

    public init(path: String, line: Int) {
        self.path = path
        self.line = line
    }

    /// The path as a URI reference: percent-encoded, relative when the path is, `file://` when absolute.
    public var uri: String {
        var path = path
        while path.hasPrefix("./") { path.removeFirst(2) }
        let encoded = path.addingPercentEncoding(withAllowedCharacters: Self.allowed) ?? path
        return path.hasPrefix("/") ? "file://" + encoded : encoded
    }

    private static let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/")
}

/// Renders a report as a SARIF 2.1.0 log (OASIS SARIF v2.1.0 §3.13) for code-scanning services.
///
/// - One run; `tool.driver` is mailaudit with its version and one rule per finding id reported,
///   whose `helpUri` is the id's section of docs/checks.md and whose help text is its reference.
/// - One result per finding, except passing findings, which are left out (SARIF results are
///   things to look at). Levels: failure → `error`, warning → `warning`, info → `note`,
///   inconclusive → `note` with `properties.inconclusive` true.
/// - Each result has a logical location, the DNS name and type the finding is about
///   (``FindingLocator``), and, when `locate` gives one (check-zone), a physical location:
///   the zone file and the line of that record.
public enum SARIFRenderer {
    /// The file and line of the record a finding of a domain is about.
    public typealias Locate = @Sendable (Finding, DomainName) -> SourceLocation?

    public static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    /// - Parameter documentation: the catalogue's address; relative (to the repository) by default,
    ///   as mailaudit has no published documentation site.
    public static func render(_ report: AuditReport, locate: Locate? = nil, documentation: String = "docs/checks.md") -> String {
        var rules: [Rule] = []
        var ruleIndex: [String: Int] = [:]
        var results: [Result] = []
        for domain in report.domains {
            for finding in domain.findings where finding.severity != .pass {
                let id = finding.id.rawValue
                if ruleIndex[id] == nil {
                    ruleIndex[id] = rules.count
                    rules.append(rule(for: finding, documentation: documentation))
                }
                results.append(result(for: finding, domain: domain.domain, ruleIndex: ruleIndex[id] ?? 0, locate: locate))
            }
        }
        let driver = Driver(name: "mailaudit", version: report.toolVersion, rules: rules)
        let log = Log(schema: schema, version: "2.1.0", runs: [Run(tool: Tool(driver: driver), results: results)])
        return JSONRenderer.encode(log)
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .failure: "error"
        case .warning: "warning"
        case .info, .inconclusive, .pass: "note"
        }
    }

    /// The docs/checks.md heading anchor of each area (GitHub's slug of the heading).
    static let areaAnchors: [String: String] = [
        "mx": "mx-mx", "rdns": "reverse-dns-rdns", "spf": "spf-spf", "dmarc": "dmarc-dmarc", "dkim": "dkim-dkim",
        "smtp": "mx-probe-smtp", "dnssec": "dnssec-dnssec", "dane": "dane-dane", "mta-sts": "mta-sts-mta-sts",
        "tls-rpt": "tls-rpt-tls-rpt", "dnsbl": "dnsbl-dnsbl", "audit": "audit-audit", "expect": "expectations-expect",
        "zone": "zone-files-zone", "bimi": "bimi-bimi",
    ]

    static func helpURI(for id: FindingID, documentation: String) -> String {
        "\(documentation)#\(areaAnchors[id.area] ?? "checks-and-finding-ids")"
    }

    private static func rule(for finding: Finding, documentation: String) -> Rule {
        let reference = finding.reference.map { "Reference: \($0)." } ?? "See the finding catalogue."
        return Rule(
            id: finding.id.rawValue, name: finding.id.rawValue,
            shortDescription: Message(text: finding.id.rawValue),
            helpUri: helpURI(for: finding.id, documentation: documentation),
            help: Message(text: "\(finding.id): \(reference) \(helpURI(for: finding.id, documentation: documentation))"),
            properties: RuleProperties(area: finding.id.area, reference: finding.reference))
    }

    private static func result(for finding: Finding, domain: DomainName, ruleIndex: Int, locate: Locate?) -> Result {
        let candidate = FindingLocator.candidates(for: finding, domain: domain).first
        let logical = LogicalLocation(
            name: (candidate?.name ?? domain).fqdn, fullyQualifiedName: candidate?.description ?? domain.fqdn, kind: "resource")
        let physical = locate?(finding, domain).map {
            PhysicalLocation(artifactLocation: ArtifactLocation(uri: $0.uri), region: Region(startLine: max(1, $0.line)))
        }
        var message = finding.message
        if let remedy = finding.remedy {
            message += (message.last.map { ".!?".contains($0) } ?? true ? " " : ". ") + "Fix: \(remedy)"
        }
        return Result(
            ruleId: finding.id.rawValue, ruleIndex: ruleIndex, level: level(finding.severity),
            message: Message(text: message),
            locations: [Location(physicalLocation: physical, logicalLocations: [logical])],
            properties: ResultProperties(
                severity: finding.severity.rawValue, inconclusive: finding.severity == .inconclusive ? true : nil,
                domain: domain.description, subject: finding.subject.description, evidence: finding.evidence,
                remedy: finding.remedy, reference: finding.reference))
    }

    // MARK: - The SARIF objects mailaudit writes (§3.13 sarifLog and the objects below it)

    struct Log: Encodable {
        var schema: String
        var version: String
        var runs: [Run]
        enum CodingKeys: String, CodingKey { case schema = "$schema", version, runs }
    }
    struct Run: Encodable { var tool: Tool, results: [Result] }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable { var name: String, version: String, rules: [Rule] }
    struct Message: Encodable { var text: String }
    struct Rule: Encodable {
        var id: String, name: String, shortDescription: Message, helpUri: String, help: Message, properties: RuleProperties
    }
    struct RuleProperties: Encodable {
        var area: String
        var reference: String?
    }
    struct Result: Encodable {
        var ruleId: String, ruleIndex: Int, level: String, message: Message, locations: [Location], properties: ResultProperties
    }
    struct Location: Encodable {
        var physicalLocation: PhysicalLocation?
        var logicalLocations: [LogicalLocation]
    }
    struct PhysicalLocation: Encodable { var artifactLocation: ArtifactLocation, region: Region }
    struct ArtifactLocation: Encodable { var uri: String }
    struct Region: Encodable { var startLine: Int }
    struct LogicalLocation: Encodable { var name: String, fullyQualifiedName: String, kind: String }
    struct ResultProperties: Encodable {
        var severity: String
        var inconclusive: Bool?
        var domain: String, subject: String, evidence: [String]
        var remedy: String?
        var reference: String?
    }
}
