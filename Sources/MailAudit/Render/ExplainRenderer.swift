public import MailAuditRecords

/// `mailaudit explain` output: text for people, JSON for scripts. Pure views of a query.
public enum ExplainRenderer {
    public static func text(_ query: SMTPExplainQuery) -> String {
        let explanation = query.explanation
        var head = [explanation.code.map(String.init), explanation.enhancedCode?.description].compactMap { $0 }.joined(separator: " ")
        if let step = explanation.step { head += "  (in reply to \(step.rawValue.uppercased()))" }
        var lines = [head, ""]
        if !query.text.isEmpty { lines.append("Reply:       \(query.text)") }
        lines.append("Meaning:     \(explanation.meaning)")
        let kind = switch explanation.permanent {
        case .some(true): "permanent failure: retrying unchanged will fail again"
        case .some(false): "transient failure: a retry later may succeed"
        case .none: "not a failure"
        }
        lines.append("Kind:        \(kind)")
        lines.append("Category:    \(explanation.category.rawValue) — \(explanation.category.summary)")
        if !explanation.causes.isEmpty {
            lines.append("Likely causes:")
            lines += explanation.causes.map { "  - \($0)" }
        }
        if !explanation.checks.isEmpty {
            lines.append("What to check:")
            lines += explanation.checks.map { "  - \($0)" }
        }
        if !explanation.references.isEmpty { lines.append("Standards:   \(explanation.references.joined(separator: ", "))") }
        return lines.map(\.terminalSafe).joined(separator: "\n") + "\n"
    }

    public static func json(_ query: SMTPExplainQuery) -> String {
        JSONRenderer.encode(ExplainJSON(query))
    }

    struct ExplainJSON: Encodable {
        var code: Int?
        var enhancedCode: String?
        var permanent: Bool?
        var category: String
        var meaning: String
        var causes: [String]
        var checks: [String]
        var references: [String]
        var step: String?
        var input: String
        var text: String

        init(_ query: SMTPExplainQuery) {
            let explanation = query.explanation
            code = explanation.code
            enhancedCode = explanation.enhancedCode?.description
            permanent = explanation.permanent
            category = explanation.category.rawValue
            meaning = explanation.meaning
            causes = explanation.causes
            checks = explanation.checks
            references = explanation.references
            step = explanation.step?.rawValue
            input = "\(query.source)"
            text = query.text
        }

        enum CodingKeys: String, CodingKey { case code, enhancedCode, permanent, category, meaning, causes, checks, references, step, input, text }

        // Every key present, null where unknown, so consumers can rely on the shape.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(enhancedCode, forKey: .enhancedCode)
            try container.encode(permanent, forKey: .permanent)
            try container.encode(category, forKey: .category)
            try container.encode(meaning, forKey: .meaning)
            try container.encode(causes, forKey: .causes)
            try container.encode(checks, forKey: .checks)
            try container.encode(references, forKey: .references)
            try container.encode(step, forKey: .step)
            try container.encode(input, forKey: .input)
            try container.encode(text, forKey: .text)
        }
    }
}
