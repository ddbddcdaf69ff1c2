import Foundation
import MailAuditCore
import MailAuditFixtures
import MailAuditRecords
import Testing
@testable import MailAudit

/// Text from DNS records and servers reaches every view of a report. None of it may drive the
/// terminal: every text view shows control characters and bidirectional overrides as visible
/// escapes, whichever check made the finding (issue 12, item 3).
@Suite struct TerminalSafetyTests {
    /// What hostile servers sent: ESC sequences (SGR, clear screen, an OSC title), BEL, a
    /// one-byte C1 CSI, DEL, NUL and a right-to-left override.
    static let payloads = [
        "\u{1B}[31mred", "\u{1B}[2J\u{1B}[H", "\u{1B}]0;owned\u{07}", "ding\u{07}", "c1\u{9B}2J", "del\u{7F}", "nul\u{00}",
        "\u{202E}txt.exe", "isolate\u{2066}x\u{2069}",
    ]
    static let hostile = payloads.joined(separator: " ")

    /// Any control character or override, except the line breaks the renderer itself writes.
    static func rawControls(in text: String, allowingEscapeFromPaint: Bool = false) -> [UInt32] {
        text.unicodeScalars.filter { $0 != "\n" && String.isTerminalUnsafe($0) }
            .filter { !(allowingEscapeFromPaint && $0 == "\u{1B}") }.map(\.value)
    }

    static func report() -> AuditReport {
        let domain = DomainName(labels: ["example", "com"])
        let findings = Severity.allCases.map { severity in
            Finding(
                FindingID(rawValue: "spf.\(severity.rawValue)"), severity, subject: .domain(domain),
                message: "record \(hostile)", evidence: ["v=spf1 \(hostile) -all", "250 \(hostile)"],
                remedy: #"Publish example.com. IN TXT "v=spf1 \#(hostile) -all""#, reference: "RFC \(hostile)")
        }
        return AuditReport(toolVersion: "test", startedAt: Date(timeIntervalSince1970: 0), duration: .seconds(1), resolvers: [],
                           domains: [DomainReport(domain: domain, findings: findings)], dns: ResolverStatistics())
    }

    @Test(arguments: [false, true])
    func theTextReportEscapesEveryLineOfEveryFinding(verbose: Bool) {
        let text = TextRenderer(color: false, verbose: verbose).render(Self.report())
        #expect(Self.rawControls(in: text).isEmpty)
        #expect(text.contains(#"record \u{1B}[31mred \u{1B}[2J\u{1B}[H"#), "shown as visible escapes, not dropped")
        #expect(text.contains(#"\u{202E}txt.exe"#) && text.contains(#"c1\u{9B}2J"#))
    }

    @Test func withColourOnlyTheRenderersOwnColourCodesAreRaw() {
        let text = TextRenderer(color: true, verbose: true).render(Self.report())
        #expect(Self.rawControls(in: text, allowingEscapeFromPaint: true).isEmpty)
        let escapes = text.components(separatedBy: "\u{1B}").dropFirst()
        #expect(escapes.allSatisfy { $0.hasPrefix("[") && $0.prefix(6).contains("m") }, "every raw ESC starts an SGR colour code")
        #expect(!text.contains("\u{1B}[2J") && !text.contains("\u{1B}]0;"))
    }

    @Test func jsonEscapesEveryControlAndOverrideAndKeepsTheText() throws {
        let json = JSONRenderer.render(Self.report(), failOn: .failure)
        #expect(Self.rawControls(in: json).isEmpty)
        #expect(json.contains(#"\u001b[31mred"#) && json.contains(#"\u009b"#) && json.contains(#"\u202e"#) && json.contains(#"\u007f"#))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let domains = try #require(document["domains"] as? [[String: Any]])
        let findings = try #require(domains.first?["findings"] as? [[String: Any]])
        #expect(findings.first?["message"] as? String == "record \(Self.hostile)", "the escapes decode to the original text")
        let line = JSONLRenderer.line(Self.report().domains[0])
        #expect(Self.rawControls(in: line).isEmpty)
    }

    @Test func theRunReportTheMailedTextAndHTMLAreSafe() {
        let run = RunReport(runID: "r1", host: "h\u{1B}[1m", audit: Self.report(), changes: [], firstRun: [], previousRuns: [:])
        for text in [RunTextRenderer.render(run), RunHTMLRenderer.render(run), RunTextRenderer.render(RunReportSample.report())] {
            #expect(Self.rawControls(in: text).isEmpty)
        }
        let html = RunHTMLRenderer.render(run)
        #expect(html.contains(#"\u{9B}"#) && !html.contains("<script"))
    }

    @Test func explainEscapesTheReplyText() throws {
        let query = try SMTPExplainQuery(parsing: "550 5.7.1 \(Self.hostile)")
        #expect(Self.rawControls(in: ExplainRenderer.text(query)).isEmpty)
        #expect(Self.rawControls(in: ExplainRenderer.json(query)).isEmpty)
    }

    @Test func multiLineMessagesKeepTheirLineBreaks() {
        #expect("usage:\n  \u{1B}[2Jx\u{07}".terminalSafeLines == "usage:\n  \\u{1B}[2Jx\\u{7}")
    }
}
