import MailAuditCore

/// The relay checklist for a terminal: one line a step, the root cause marked, its category
/// and fix; evidence for failures and warnings (every step under `verbose`); the transcript
/// on request. Server text is shown through ``Swift/String/terminalSafe``.
public struct RelayTextRenderer: Sendable {
    public var color: Bool
    public var verbose: Bool
    public var transcript: Bool

    public init(color: Bool, verbose: Bool = false, transcript: Bool = false) {
        self.color = color
        self.verbose = verbose
        self.transcript = transcript
    }

    public func render(_ report: RelayReport) -> String {
        var lines: [String] = []
        let port = report.port.map { " port \($0)" } ?? ""
        let seconds = report.duration.inSeconds
        lines.append(paint(bold: true, "Relay \(report.host.terminalSafe)\(port)") + " (security \(report.security.rawValue))"
            + paint(dim: true, " · \(String(format: "%.2f", seconds)) s"))
        lines.append("")
        let root = report.firstFailure
        for step in report.steps {
            let isRoot = root?.step == step.step && step.status == .fail
            let marker = isRoot ? paint(bold: true, "   ← root cause") : ""
            lines.append("  \(badge(step.status))  \(step.step.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) \(step.summary.terminalSafe)\(marker)")
            let detailed = verbose || step.status == .fail || step.status == .warning || step.status == .inconclusive
            guard detailed else { continue }
            for line in step.evidence { lines.append(paint(dim: true, "            \(line.terminalSafe)")) }
            if let category = step.category, step.status != .pass { lines.append("            category: \(category)") }
            if let remedy = step.remedy, step.status != .pass { lines.append("            fix: \(remedy.terminalSafe)") }
            if let reference = step.reference, !reference.isEmpty, step.status != .pass { lines.append(paint(dim: true, "            see: \(reference)")) }
        }
        lines.append("")
        if let root, let step = report.steps.first(where: { $0.step == root.step }) {
            lines.append(paint(bold: true, "Root cause: \(root.step) (\(root.category))") + " — \(step.summary.terminalSafe)")
            if let remedy = step.remedy { lines.append("Fix: \(remedy.terminalSafe)") }
        } else if report.exitCode == 3 {
            lines.append(paint(bold: true, "Could not check the relay:") + " a step was inconclusive (see above); nothing failed.")
        } else {
            let walked = report.steps.filter { $0.status == .pass || $0.status == .warning }.map(\.step.rawValue)
            lines.append(paint(bold: true, "The relay works") + " for the steps walked: " + walked.joined(separator: ", ") + ".")
        }
        if !report.providerHints.isEmpty {
            lines.append("")
            lines.append("Provider notes:")
            lines += report.providerHints.map { "  - \($0.terminalSafe)" }
        }
        if transcript {
            lines.append("")
            lines.append("Transcript (AUTH redacted):")
            lines += report.transcript.map { "  \($0.description.terminalSafe)" }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func badge(_ status: RelayStepStatus) -> String {
        let (text, code) = switch status {
        case .pass: ("PASS", "32")
        case .warning: ("WARN", "33")
        case .fail: ("FAIL", "31")
        case .skipped: ("SKIP", "2")
        case .inconclusive: ("????", "35")
        }
        return color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }

    private func paint(bold: Bool = false, dim: Bool = false, _ text: String) -> String {
        guard color, bold || dim else { return text }
        return "\u{1B}[\(bold ? "1" : "2")m\(text)\u{1B}[0m"
    }
}
