import Foundation
import MailAudit
import MailAuditCore
import Testing

/// The HTML view of a run report: nothing active or remote, every text escaped, changes first,
/// passing checks counted but never listed, and the whole document against a golden file.
@Suite struct RunHTMLRendererTests {
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Golden/run-report.html")

    let html = RunHTMLRenderer.render(RunReportSample.report())

    /// Every tag in the document. Text never holds a raw `<` (it is escaped), so each `<` opens a tag.
    var tags: [String] { html.matches(of: /<[^>]*>/).map { String($0.output).lowercased() } }

    @Test(arguments: ["<script", "<link", "<style", "<img", "<iframe", "<object", "<form", "url(", "http://", "https://",
                      "@import", "javascript:"])
    func nothingActiveOrRemote(_ forbidden: String) {
        #expect(!html.lowercased().contains(forbidden))
    }

    @Test func noTagLoadsOrLinksAnything() {
        #expect(!tags.isEmpty)
        for tag in tags {
            for attribute in [" src=", " href=", " srcset=", " background=", " on"] {
                #expect(!tag.contains(attribute), "\(tag)")
            }
        }
        #expect(tags.allSatisfy { !$0.hasPrefix("<style") && !$0.hasPrefix("<script") })
    }

    @Test func declaresBothColourSchemesAndSetsNoPageColour() throws {
        #expect(html.contains(#"<meta name="color-scheme" content="light dark">"#))
        #expect(html.contains(#"<meta name="supported-color-schemes" content="light dark">"#))
        let body = try #require(tags.first { $0.hasPrefix("<body") })
        #expect(!body.contains("background") && !body.contains("color"))
    }

    /// Narrow screens: nothing wider than 320 px is fixed, except the 720 px maximum of the column.
    @Test func noFixedWidthWiderThanANarrowScreen() {
        for match in html.matches(of: /([a-z-]*)width:\s*(\d+)px/) where match.output.1 != "max-" {
            #expect(Int(match.output.2)! <= 320, "\(match.output.0)")
        }
        for match in html.matches(of: /width="(\d+)"/) { #expect(Int(match.output.1)! <= 320, "\(match.output.0)") }
        #expect(html.contains("max-width:720px"))
        #expect(html.contains("table-layout:fixed"))
        #expect(html.contains("overflow-wrap:anywhere"))
    }

    @Test(arguments: [
        (RunReportSample.script, "&lt;script&gt;alert(1)&lt;/script&gt;"),
        (RunReportSample.attribute, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"),
        ("\u{1B}[31m", #"\u{1B}[31m"#),
        ("\u{202E}", #"\u{202E}"#),
        ("'v=DMARC1; p=quarantine' & wait", "&#39;v=DMARC1; p=quarantine&#39; &amp; wait"),
    ])
    func hostileTextIsEscaped(raw: String, escaped: String) {
        #expect(html.contains(escaped))
        #expect(!html.contains(raw))
    }

    @Test func noControlCharacterOtherThanNewline() {
        let unsafe = html.unicodeScalars.filter {
            ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || (0x202A...0x202E).contains($0.value)
        }
        #expect(unsafe.isEmpty)
    }

    @Test func changesComeFirstThenAttentionThenPassing() throws {
        let changes = try #require(html.range(of: #"id="changes""#)).lowerBound
        let attention = try #require(html.range(of: #"id="attention""#)).lowerBound
        let passing = try #require(html.range(of: #"id="passing""#)).lowerBound
        #expect(changes < attention && attention < passing)
        // The changed finding's id shows in the changes before its current failure does.
        let replaced = try #require(html.range(of: "spf.lookups-near-limit → spf.too-many-lookups")).lowerBound
        #expect(replaced < attention)
    }

    @Test(arguments: ["NEW", "RESOLVED", "CHANGED SEVERITY", "CHANGED VALUES", "REPLACED"])
    func everyKindOfChangeHasABadge(_ label: String) {
        #expect(html.contains(">\(label)</span>"))
    }

    @Test func changesShowTheirValuesAndPreviousRun() {
        #expect(html.contains("lookups 9 → 11"))
        #expect(html.contains("fingerprint AA:BB:CC → DD:EE:FF"))
        #expect(html.contains("info → warning"))
        #expect(html.contains("was warning"))
        #expect(html.contains("20250313-0600-ab12"))
        #expect(!html.contains("No changes since the last run"))
    }

    @Test func currentProblemsCarryIdSubjectMessageRemedyAndReference() {
        #expect(html.contains(">FAILURE</span>"))
        #expect(html.contains(">WARNING</span>"))
        #expect(html.contains(">INCONCLUSIVE</span>"))
        #expect(html.contains("s1._domainkey.example.org"))
        #expect(html.contains("Flatten or remove includes"))
        #expect(html.contains("See RFC 7208 §4.6.4"))
    }

    @Test func passingChecksAreCountedNeverListed() {
        #expect(!html.contains(RunReportSample.passMarker))
        #expect(!html.contains(RunReportSample.infoMarker))
        #expect(html.contains("2 passed, 1 informational"))
        #expect(html.contains("1 passed<"))
    }

    @Test func aRunWithoutChangesSaysSoAndNamesFirstRuns() {
        let html = RunHTMLRenderer.render(RunReportSample.report(withChanges: false))
        #expect(html.contains("No changes since the last run."))
        #expect(html.contains("First run for: example.org"))
        #expect(!html.contains("CHANGED SEVERITY</span>"))
        #expect(html.contains(#"id="attention""#))
    }

    @Test func renderingIsPure() {
        #expect(RunHTMLRenderer.render(RunReportSample.report()) == html)
    }

    /// The whole document. To accept a deliberate change: `MAILAUDIT_UPDATE_GOLDEN=1 swift test --filter RunHTMLRenderer`.
    @Test func matchesGoldenFile() throws {
        if ProcessInfo.processInfo.environment["MAILAUDIT_UPDATE_GOLDEN"] == "1" {
            try Data(html.utf8).write(to: Self.golden)
        }
        let expected = try String(contentsOf: Self.golden, encoding: .utf8)
        #expect(html == expected, "regenerate with MAILAUDIT_UPDATE_GOLDEN=1 if the change is meant")
    }
}

/// A run over two domains with every kind of change, hostile server text, passing checks whose
/// messages must not show, and a fixed clock. The same builder is in IntegrationTests/ReportBrowserTests.swift.
enum RunReportSample {
    static let script = "<script>alert(1)</script>"
    static let attribute = #""><img src=x onerror=alert(2)>"#
    static let passMarker = "PASS-MARKER"
    static let infoMarker = "INFO-MARKER"
    /// 2025-03-14 06:00:00 UTC.
    static let startedAt = Date(timeIntervalSince1970: 1_741_932_000)

    static func report(withChanges: Bool = true) -> RunReport {
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
