import MailAuditCore
import Foundation

/// The HTML view of a scheduled run, for the report mail: what changed since the last run first,
/// then what needs attention now, then one line of counts for what passed.
///
/// The document is made for mail clients, which strip most of what a web page may use:
/// - only inline `style` attributes: no `<style>` block, no script, no image, no link, no `url(…)`,
///   no web font, so nothing is fetched when the mail is opened;
/// - dark mode: it declares `color-scheme: light dark` and sets no page or text colour, so the
///   client's own colours apply; the only colours are badges, which carry their own background,
///   border and text, in mid tones that keep their contrast when a client inverts them;
/// - narrow screens: one column of at most 720 px, fixed-layout tables of 100 % width, and long
///   tokens (DNS records, keys) break anywhere rather than widen the page.
///
/// Every piece of text from the report is escaped: findings carry text from DNS records and
/// servers, so `<`, `>`, `&` and quotes become entities and control characters are shown as
/// visible escapes (`String.terminalSafe` from MailAuditCore).
///
/// ```swift
/// let html = RunHTMLRenderer.render(report)   // "<!DOCTYPE html>\n<html lang=\"en\">…"
/// ```
public enum RunHTMLRenderer {
    /// The whole document. A pure function of the report: the same report gives the same bytes.
    public static func render(_ report: RunReport) -> String {
        var html = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="color-scheme" content="light dark">
            <meta name="supported-color-schemes" content="light dark">
            <title>\(escape(report.subjectLine))</title>
            </head>
            <body style="margin:0;padding:0;">
            <div style="\(Style.page)">

            """
        html += header(report)
        html += changes(report)
        html += attention(report)
        html += passing(report)
        html += footer(report.audit)
        html += "</div>\n</body>\n</html>\n"
        return html
    }

    // MARK: Sections

    static func header(_ report: RunReport) -> String {
        let audit = report.audit
        return "<h1 style=\"\(Style.title)\">\(escape(report.subjectLine))</h1>\n"
            + "<p style=\"\(Style.muted)margin:0 0 8px 0;\">Run <span style=\"\(Style.mono)\">\(escape(report.runID))</span>"
            + " · \(escape(time(audit.startedAt))) · on \(escape(report.host))</p>\n"
    }

    /// The changes, domain by domain, before anything else: they are why the mail was read.
    static func changes(_ report: RunReport) -> String {
        var html = section("Changes since the last run", id: "changes")
        if report.changes.isEmpty {
            let everyDomainIsNew = !report.audit.domains.isEmpty && report.firstRun.count == report.audit.domains.count
            html += "<p style=\"margin:0 0 8px 0;\">"
                + (everyDomainIsNew ? "First run: there is no earlier run to compare with." : "No changes since the last run.") + "</p>\n"
        }
        for domain in changedDomains(report) {
            let since = report.previousRuns[domain].map { " since run <span style=\"\(Style.mono)\">\(escape($0))</span>" } ?? ""
            html += "<h3 style=\"\(Style.domain)\">\(escape(domain))<span style=\"\(Style.muted)font-weight:normal;\">\(since)</span></h3>\n"
            html += rows(report.changes(for: domain).map { change in
                (badge(label(change.kind), tone(change.kind)), changeBody(change))
            })
        }
        if !report.firstRun.isEmpty {
            html += "<p style=\"margin:12px 0 8px 0;\">First run for: " + report.firstRun.map(escape).joined(separator: ", ")
                + "<span style=\"\(Style.muted)\"> (their findings are the baseline, not changes)</span></p>\n"
        }
        return html
    }

    /// Failures, warnings and inconclusive findings as they stand now, worst first.
    static func attention(_ report: RunReport) -> String {
        var html = section("Needs attention", id: "attention")
        for domain in report.audit.domains {
            let findings = RunReport.attention(domain)
            let counts = domain.counts
            let tally = [(counts.failure, "failure", "failures"), (counts.warning, "warning", "warnings"),
                         (counts.inconclusive, "inconclusive", "inconclusive")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.0 == 1 ? $0.1 : $0.2)" }.joined(separator: ", ")
            html += "<h3 style=\"\(Style.domain)\">\(escape(domain.domain.description))"
                + (tally.isEmpty ? "" : "<span style=\"\(Style.muted)font-weight:normal;\"> · \(tally)</span>") + "</h3>\n"
            if !domain.resolverAnswered {
                html += "<p style=\"margin:0 0 8px 0;\">No DNS server answered: this domain could not be audited.</p>\n"
            }
            if domain.deadlineExceeded {
                html += "<p style=\"margin:0 0 8px 0;\">The audit's deadline cut this domain short: some checks did not run.</p>\n"
            }
            if findings.isEmpty {
                html += "<p style=\"\(Style.muted)margin:0 0 8px 0;\">Nothing needs attention.</p>\n"
            } else {
                html += rows(findings.map { (badge($0.severity.rawValue.uppercased(), tone($0.severity)), findingBody($0)) })
            }
        }
        return html
    }

    /// Counts only: passing checks are never listed.
    static func passing(_ report: RunReport) -> String {
        var html = section("Passing checks", id: "passing")
        html += "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"\(Style.table)\">\n"
        for domain in report.audit.domains {
            let counts = domain.counts
            var text = "\(counts.pass) passed"
            if counts.info > 0 { text += ", \(counts.info) informational" }
            html += "<tr><td style=\"\(Style.cell)padding:4px 0;\"><span style=\"font-weight:bold;\">\(escape(domain.domain.description))</span>"
                + " <span style=\"\(Style.muted)\">\(text)</span></td></tr>\n"
        }
        return html + "</table>\n"
    }

    static func footer(_ audit: AuditReport) -> String {
        let parts = ["mailaudit \(escape(audit.toolVersion))", "took \(escape(seconds(audit.duration)))"]
            + (audit.resolvers.isEmpty ? [] : ["resolvers " + audit.resolvers.map(escape).joined(separator: ", ")])
        return "<p style=\"\(Style.muted)\(Style.small)margin:24px 0 0 0;padding-top:8px;border-top:1px solid \(Style.rule);\">"
            + parts.joined(separator: " · ") + "</p>\n"
    }

    // MARK: Rows

    static func changeBody(_ change: FindingChange) -> String {
        let severity: String = switch change.kind {
        case .resolved, .gone: "was \(change.severity)"
        case .severity, .replaced: (change.previousSeverity.map { "\($0) → " } ?? "") + change.severity.rawValue
        case .new, .facts: change.severity.rawValue
        }
        let id = (change.kind == .replaced ? change.previousID.map { "\($0) → " } ?? "" : "") + change.id.rawValue
        var html = "<div><span style=\"font-weight:bold;\">\(escape(severity))</span> · "
            + "<span style=\"\(Style.mono)\">\(escape(id))</span> · \(escape(change.subject))</div>\n"
        html += "<div>\(escape(change.message))</div>\n"
        for fact in change.facts {
            html += "<div style=\"\(Style.monoFamily)\(Style.small)margin-top:2px;\">\(escape(fact.summary))</div>\n"
        }
        return html
    }

    static func findingBody(_ finding: Finding) -> String {
        var html = "<div><span style=\"\(Style.mono)font-weight:bold;\">\(escape(finding.id.rawValue))</span>"
            + " · \(escape(finding.subject.description))</div>\n"
        html += "<div>\(escape(finding.message))</div>\n"
        if !finding.evidence.isEmpty {
            let shown = finding.evidence.prefix(Self.evidenceLines).map(escape).joined(separator: "<br>")
            let more = finding.evidence.count - Self.evidenceLines
            html += "<div style=\"\(Style.monoFamily)\(Style.small)\(Style.muted)margin-top:4px;\">\(shown)"
                + (more > 0 ? "<br>… \(more) more line\(more == 1 ? "" : "s")" : "") + "</div>\n"
        }
        if let remedy = finding.remedy {
            html += "<div style=\"margin-top:4px;\"><span style=\"font-weight:bold;\">Fix:</span> \(escape(remedy))</div>\n"
        }
        if let reference = finding.reference {
            html += "<div style=\"\(Style.muted)\(Style.small)\">See \(escape(reference))</div>\n"
        }
        return html
    }

    /// Evidence lines shown per finding; the JSON attachment has them all.
    static let evidenceLines = 4

    /// A fixed-layout table of (badge, body) rows: the badge column keeps its width, the body wraps.
    static func rows(_ rows: [(badge: String, body: String)]) -> String {
        var html = "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"\(Style.table)\">\n"
        for row in rows {
            html += "<tr>\n<td style=\"\(Style.cell)width:\(Style.badgeColumn)px;padding:8px 8px 8px 0;"
                + "border-top:1px solid \(Style.rule);\">\(row.badge)</td>\n"
                + "<td style=\"\(Style.cell)padding:8px 0;border-top:1px solid \(Style.rule);\">\n\(row.body)</td>\n</tr>\n"
        }
        return html + "</table>\n"
    }

    static func section(_ title: String, id: String) -> String {
        "<h2 id=\"\(id)\" style=\"\(Style.heading)\">\(escape(title))</h2>\n"
    }

    static func badge(_ text: String, _ tone: Tone) -> String {
        "<span style=\"display:block;padding:2px 4px;border:1px solid \(tone.border);border-radius:4px;"
            + "background-color:\(tone.fill);color:#ffffff;font-size:11px;line-height:1.3;font-weight:bold;"
            + "letter-spacing:0.04em;text-align:center;\">\(escape(text))</span>"
    }

    // MARK: Words and colours

    static func label(_ kind: FindingChange.Kind) -> String {
        switch kind {
        case .new: "NEW"
        case .resolved: "RESOLVED"
        case .gone: "GONE"
        case .severity: "CHANGED SEVERITY"
        case .facts: "CHANGED VALUES"
        case .replaced: "REPLACED"
        }
    }

    /// A badge's fill and border: mid tones that hold at least 4.5:1 against white text and stay
    /// distinct on a light or a dark page, inverted or not.
    struct Tone {
        var fill: String
        var border: String
        static let red = Tone(fill: "#c0392b", border: "#7b241c")
        static let amber = Tone(fill: "#a35200", border: "#6e3700")
        static let violet = Tone(fill: "#6c4bb4", border: "#45307a")
        static let blue = Tone(fill: "#2160b8", border: "#163f7a")
        static let green = Tone(fill: "#2e7d32", border: "#1b4d1e")
        static let slate = Tone(fill: "#56606b", border: "#353b42")
        static let teal = Tone(fill: "#00766c", border: "#004d46")
    }

    static func tone(_ severity: Severity) -> Tone {
        switch severity {
        case .failure: .red
        case .warning: .amber
        case .inconclusive: .violet
        case .pass: .green
        case .info: .slate
        }
    }

    static func tone(_ kind: FindingChange.Kind) -> Tone {
        switch kind {
        case .new: .blue
        case .resolved: .green
        case .severity, .facts, .gone: .slate
        case .replaced: .teal
        }
    }

    /// Inline styles. No colour is set on the page or its text, so the client's scheme applies;
    /// secondary text is dimmed with opacity, which works on any background.
    enum Style {
        static let font = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"
        static let page = "max-width:720px;margin:0 auto;padding:16px 12px;font-family:\(font);font-size:15px;"
            + "line-height:1.45;overflow-wrap:anywhere;word-break:break-word;"
        static let title = "font-size:20px;line-height:1.3;margin:0 0 4px 0;"
        static let heading = "font-size:17px;margin:24px 0 8px 0;padding-bottom:4px;border-bottom:2px solid \(rule);"
        static let domain = "font-size:15px;margin:16px 0 4px 0;"
        static let monoFamily = "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'Liberation Mono',monospace;"
        static let mono = monoFamily + "font-size:13px;"
        static let muted = "opacity:0.72;"
        static let small = "font-size:12px;"
        static let rule = "#8c8c8c"
        static let table = "width:100%;border-collapse:collapse;table-layout:fixed;"
        static let cell = "vertical-align:top;text-align:left;overflow-wrap:anywhere;word-break:break-word;"
        static let badgeColumn = 104
    }

    // MARK: Text

    /// `2025-03-14 06:00:00 UTC`: one zone for every reader, like the run id.
    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt)).replacingOccurrences(of: "T", with: " ")
            .replacingOccurrences(of: "Z", with: " UTC")
    }

    static func seconds(_ duration: Duration) -> String {
        let (whole, fraction) = duration.components
        return String(format: "%.1f s", Double(whole) + Double(fraction) / 1e18)
    }

    /// The text with `&`, `<`, `>` and both quotes as entities, then every control character
    /// and bidirectional override as a visible `\u{…}` escape.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out.terminalSafe
    }

    /// The domains with changes, in the audit's order, then any others by name.
    static func changedDomains(_ report: RunReport) -> [String] {
        let changed = Set(report.changes.map(\.domain))
        let audited = report.audit.domains.map(\.domain.description).filter(changed.contains)
        return audited + changed.subtracting(audited).sorted()
    }
}
