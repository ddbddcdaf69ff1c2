import Foundation
public import MailAuditCore

/// Renders a report as JUnit XML, the test-report format CI systems show (Jenkins, GitLab,
/// GitHub Actions reporters).
///
/// ```xml
/// <testsuites name="mailaudit" tests="5" failures="1" errors="0" skipped="1" time="0.42">
///   <testsuite name="example.com" tests="5" failures="1" errors="0" skipped="1">
///     <testcase name="spf" classname="example.com">
///       <failure message="1 finding at or above failure: spf.multiple-records" type="spf.multiple-records">…</failure>
/// ```
///
/// One `<testsuite>` per domain and one `<testcase>` per check area, in the text report's order.
/// A case fails when a finding in its area is at or above the `--fail-on` threshold (failure;
/// or warning; or inconclusive, as the exit code counts them), and the `<failure>` carries each
/// such finding: message, id, subject, evidence, fix and reference. An area whose findings are
/// all inconclusive, and that does not fail, is `<skipped>` with the reasons. Other findings go
/// to `<system-out>`. A domain no resolver answered for gets an `audit` case with an `<error>`.
/// Text is XML-escaped, and characters XML 1.0 cannot hold (controls other than tab and line
/// breaks) and bidirectional overrides are removed.
public enum JUnitRenderer {
    public static func render(_ report: AuditReport, failOn threshold: Severity) -> String {
        var totals = Counts()
        var suites = ""
        for domain in report.domains {
            let (body, counts) = suite(domain, threshold: threshold)
            totals.add(counts)
            suites += "  <testsuite name=\"\(escape(domain.domain.description))\"\(counts.attributes)>\n" + body + "  </testsuite>\n"
        }
        let time = String(format: "%.3f", report.duration.inSeconds)
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"mailaudit \(escape(report.toolVersion))\"\(totals.attributes) time=\"\(time)\">\n"
            + suites + "</testsuites>\n"
    }

    struct Counts {
        var tests = 0, failures = 0, errors = 0, skipped = 0
        mutating func add(_ other: Counts) {
            tests += other.tests
            failures += other.failures
            errors += other.errors
            skipped += other.skipped
        }
        var attributes: String { " tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"\(skipped)\"" }
    }

    /// A finding counts as failing at `threshold` as it does for the exit code.
    static func fails(_ severity: Severity, at threshold: Severity) -> Bool {
        switch severity {
        case .failure: true
        case .warning: threshold != .failure
        case .inconclusive: threshold == .inconclusive
        case .pass, .info: false
        }
    }

    private static func suite(_ domain: DomainReport, threshold: Severity) -> (String, Counts) {
        var counts = Counts()
        var out = ""
        let classname = escape(domain.domain.description)
        if !domain.resolverAnswered {
            counts.tests += 1
            counts.errors += 1
            out += "    <testcase name=\"audit\" classname=\"\(classname)\">\n"
                + "      <error message=\"no DNS resolver answered: the domain could not be audited\" type=\"audit.no-resolver\"/>\n"
                + "    </testcase>\n"
        }
        let areas = Dictionary(grouping: domain.findings, by: \.id.area)
        let ordered = TextRenderer.areaOrder.filter { areas[$0] != nil } + areas.keys.filter { !TextRenderer.areaOrder.contains($0) }.sorted()
        for area in ordered {
            let findings = areas[area] ?? []
            counts.tests += 1
            out += "    <testcase name=\"\(escape(area))\" classname=\"\(classname)\">\n"
            let failing = findings.filter { fails($0.severity, at: threshold) }
            let others = findings.filter { !fails($0.severity, at: threshold) }
            if !failing.isEmpty {
                counts.failures += 1
                let ids = failing.map(\.id.rawValue)
                let summary = "\(failing.count) finding\(failing.count == 1 ? "" : "s") at or above \(threshold.rawValue): "
                    + ids.joined(separator: ", ")
                out += "      <failure message=\"\(escape(summary))\" type=\"\(escape(ids[0]))\">"
                    + escape(failing.map(detail).joined(separator: "\n"), attribute: false) + "</failure>\n"
            }
            let skipped = failing.isEmpty && findings.allSatisfy { $0.severity == .inconclusive }
            if skipped {
                counts.skipped += 1
                let reasons = findings.map { "\($0.id): \($0.message)" }.joined(separator: "; ")
                out += "      <skipped message=\"\(escape("could not check: " + reasons))\"/>\n"
            }
            if !others.isEmpty, !skipped {
                out += "      <system-out>" + escape(others.map(detail).joined(separator: "\n"), attribute: false) + "</system-out>\n"
            }
            out += "    </testcase>\n"
        }
        return (out, counts)
    }

    /// One finding as lines of text: `[FAILURE] spf.multiple-records: message`, then its details.
    static func detail(_ finding: Finding) -> String {
        var lines = ["[\(finding.severity.rawValue.uppercased())] \(finding.id): \(finding.message)", "  subject: \(finding.subject)"]
        lines += finding.evidence.map { "  evidence: \($0)" }
        if let remedy = finding.remedy { lines.append("  fix: \(remedy)") }
        if let reference = finding.reference { lines.append("  see: \(reference)") }
        return lines.joined(separator: "\n")
    }

    /// XML character data and attribute text: the five special characters escaped (in attributes, line
    /// breaks and tabs too, so they survive attribute normalisation), and characters XML 1.0 forbids or that reorder text removed.
    static func escape(_ text: String, attribute: Bool = true) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x26: out += "&amp;"
            case 0x3C: out += "&lt;"
            case 0x3E: out += "&gt;"
            case 0x22: out += "&quot;"
            case 0x27: out += "&apos;"
            case 0x0A: out += attribute ? "&#10;" : "\n"
            case 0x09: out += attribute ? "&#9;" : "\t"
            case 0x00...0x1F, 0x7F...0x9F, 0xFFFE, 0xFFFF, 0x202A...0x202E, 0x2066...0x2069: continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
