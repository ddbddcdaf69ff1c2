import Foundation
import MailAudit
import MailAuditFixtures
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
