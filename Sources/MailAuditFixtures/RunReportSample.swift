public import Foundation
public import MailAudit
import MailAuditCore

/// A run over two domains with every kind of change, hostile server text, passing checks whose
/// messages must not show, and a fixed clock: the fixture of the HTML report's unit, golden and
/// browser tests.
public enum RunReportSample {
    public static let script = "<script>alert(1)</script>"
    public static let attribute = #""><img src=x onerror=alert(2)>"#
    public static let passMarker = "PASS-MARKER"
    public static let infoMarker = "INFO-MARKER"
    /// 2025-03-14 06:00:00 UTC.
    public static let startedAt = Date(timeIntervalSince1970: 1_741_932_000)

    public static func report(withChanges: Bool = true) -> RunReport {
        let com = "example.com", org = "example.org"
        let mx1 = FindingSubject(domain: com, host: "mx1.example.com", address: "192.0.2.25")
        let orgMX = FindingSubject(domain: org, host: "mx.example.org")
        let comNow = [
            Finding("spf.too-many-lookups", .failure, subject: .init(domain: com),
                    message: "The SPF record needs 11 DNS lookups; at most 10 are allowed",
                    evidence: ["v=spf1 include:_spf-eu-west-1.outbound-relay.mail-provider-with-a-long-name.example.net include:_spf.crm.example include:spf.helpdesk.example mx a ~all"],
                    remedy: "Flatten or remove includes until at most 10 lookups remain", reference: "RFC 7208 §4.6.4",
                    facts: ["lookups": .int(11)]),
            Finding("dmarc.policy-none", .warning, subject: .init(domain: com), message: "The DMARC policy is p=none: failing mail is delivered",
                    remedy: "Publish 'v=DMARC1; p=quarantine' & wait a week", reference: "RFC 7489 §6.3", facts: ["p": .text("none")]),
            Finding("smtp.greeting-name-differs", .warning, subject: mx1,
                    message: "The greeting names \(script)\u{1B}[31m\u{202E} instead of mx1.example.com",
                    evidence: ["220 \(script) ESMTP"], remedy: "Set the server's host name to mx1.example.com", reference: "RFC 5321 §4.3.1"),
            Finding("mx.present", .pass, subject: .init(domain: com), message: "\(passMarker): 1 MX host"),
            Finding("rdns.fcrdns", .pass, subject: mx1, message: "\(passMarker): 192.0.2.25 points back to mx1.example.com"),
            Finding("spf.record", .info, subject: .init(domain: com), message: "\(infoMarker): v=spf1 include:… ~all"),
        ]
        let comBefore = [
            Finding("spf.lookups-near-limit", .warning, subject: .init(domain: com), message: "The SPF record needs 9 DNS lookups",
                    facts: ["lookups": .int(9)]),
            Finding("dmarc.policy-none", .info, subject: .init(domain: com), message: "The DMARC policy is p=none", facts: ["p": .text("none")]),
            comNow[3], comNow[4], comNow[5],
        ]
        let fingerprint = "DD:EE:FF:" + (0..<29).map { String(format: "%02X", $0 * 7 % 256) }.joined(separator: ":")
        let orgNow = [
            Finding("mx.target-unresolvable", .failure, subject: FindingSubject(domain: org, host: attribute),
                    message: "The MX host \(attribute) has no address", evidence: ["example.org. MX 10 \(attribute)"],
                    remedy: "Point the MX record at a host name with an A or AAAA record", reference: "RFC 5321 §5.1"),
            Finding("smtp.certificate-expiring", .warning, subject: orgMX, message: "The certificate of mx.example.org expires in 12 days",
                    evidence: ["SHA-256 \(fingerprint)"], remedy: "Renew the certificate", reference: "RFC 5280 §4.1.2.5",
                    facts: ["fingerprint": .text("DD:EE:FF"), "notAfter": .date(startedAt + 12 * 86_400)]),
            Finding("dkim.lookup-failed", .inconclusive, subject: FindingSubject(domain: org, selector: "s1"),
                    message: "The DKIM key of selector s1 could not be looked up: the query timed out", reference: "RFC 6376 §3.6.2.2"),
            Finding("mx.present", .pass, subject: .init(domain: org), message: "\(passMarker): 1 MX host"),
        ]
        let orgBefore = [
            Finding("dmarc.no-rua", .warning, subject: .init(domain: org), message: "The DMARC record asks for no aggregate reports"),
            Finding("smtp.certificate-expiring", .warning, subject: orgMX, message: "The certificate of mx.example.org expires in 6 days",
                    facts: ["fingerprint": .text("AA:BB:CC"), "notAfter": .date(startedAt + 5 * 86_400)]),
            orgNow[2], orgNow[3],
        ]
        var changes = RunDiff.changes(from: withChanges ? comBefore : comNow, to: comNow, domain: com)
        if withChanges { changes += RunDiff.changes(from: orgBefore + [orgNow[0]], to: orgNow, domain: org) }
        let audit = AuditReport(
            toolVersion: "1.4.0", startedAt: startedAt, duration: .milliseconds(4_230), resolvers: ["192.0.2.53"],
            domains: [DomainReport(domain: DomainName(labels: ["example", "com"]), findings: comNow),
                      DomainReport(domain: DomainName(labels: ["example", "org"]), findings: orgNow)],
            dns: ResolverStatistics())
        return RunReport(
            runID: "20250314-0600-7f3a", host: "audit1.example.net", audit: audit, changes: changes,
            firstRun: withChanges ? [] : [org],
            previousRuns: withChanges ? [com: "20250313-0600-ab12", org: "20250313-0600-ab12"] : [com: "20250313-0600-ab12"])
    }
}
