/// What `mailaudit explain` was given, read into a code, an enhanced code, the reply text and
/// the step, from any of these forms:
///
/// - a bare reply code: `535`;
/// - an enhanced status code: `5.7.8`;
/// - a whole server reply, one line or several: `550 5.7.1 <x@example.com>: Relay access denied`;
/// - a Postfix log line: the client's `… said: 550 5.7.1 … (in reply to RCPT TO command)` (the
///   step from "in reply to"), the server's `NOQUEUE: reject: RCPT from …: 554 5.7.1 …` (the step
///   from the verb), and `SASL LOGIN authentication failed`, which carries no code: Postfix
///   answers such a failure with 535 5.7.8, so that is what the query holds (``inferred`` is true);
/// - an Exim log line: `SMTP error from remote mail server after RCPT TO:<…>: 550 5.1.1 …` (the
///   step from "after …", also "after pipelined …", "after end of data", "after initial
///   connection"), and the server's `rejected RCPT <…>: …`, which carries no code: Exim's default
///   is 550 for a refusal and 451 for "temporarily rejected" (``inferred`` is true);
/// - any other line with a reply code in it, or only `dsn=5.7.1` or an enhanced code.
///
/// Input is at most ``maximumLength`` bytes. The text kept from it has control characters (and
/// bidirectional overrides) escaped, so it can be printed to a terminal as it is.
public struct SMTPExplainQuery: Hashable, Sendable, Codable {
    /// Where the code was found.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        case bareCode
        case enhancedCode
        case reply
        case postfixLog
        case eximLog
        /// Any other text with a code in it.
        case logLine
    }

    public var code: Int?
    public var enhancedCode: EnhancedStatusCode?
    /// The reply text after the codes, escaped; empty for a bare code.
    public var text: String
    /// The step the reply answers, when the input says so (log lines do).
    public var step: SMTPCommandStep?
    public var source: Kind
    /// True when the log line carried no code and the code is the one the mail server sends in
    /// that case (Postfix SASL failures: 535 5.7.8; Exim refusals: 550 or 451).
    public var inferred: Bool

    /// The longest input accepted, in bytes (64 KiB).
    public static let maximumLength = 65_536

    public init(code: Int?, enhancedCode: EnhancedStatusCode?, text: String = "", step: SMTPCommandStep? = nil, source: Kind,
                inferred: Bool = false) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.text = text
        self.step = step
        self.source = source
        self.inferred = inferred
    }

    /// Reads the input; see the type's documentation for the forms.
    ///
    /// - Throws: ``SMTPExplainInputError`` for empty or over-long input, a number that is no reply
    ///   code ("999"), a dotted code that is no enhanced status code ("6.1.1", "2."), or text in
    ///   which no code can be found ("hello").
    public init(parsing input: String) throws(SMTPExplainInputError) {
        let length = input.utf8.count
        guard length <= Self.maximumLength else { throw .tooLong(bytes: length, limit: Self.maximumLength) }
        let trimmed = Self.trimmed(Self.strippingTerminalControls(input))
        guard !trimmed.isEmpty else { throw .empty }
        let scalars = trimmed.unicodeScalars
        let isDigit: (Unicode.Scalar) -> Bool = { ("0"..."9").contains($0) }

        if scalars.allSatisfy(isDigit) {
            guard let code = SMTPLogReader.replyCode(Array(trimmed.utf8)) else { throw .invalidReplyCode(Self.excerpt(trimmed)) }
            self.init(code: code, enhancedCode: nil, source: .bareCode)
            return
        }
        var dotted = Substring(trimmed)
        if let first = dotted.first, first == "x" || first == "X" { dotted = dotted.dropFirst() }
        if dotted.contains("."), dotted.unicodeScalars.allSatisfy({ isDigit($0) || $0 == "." }) {
            guard dotted.count == trimmed.count, let enhanced = EnhancedStatusCode(trimmed) else {
                throw .invalidEnhancedCode(Self.excerpt(trimmed))
            }
            self.init(code: nil, enhancedCode: enhanced, source: .enhancedCode)
            return
        }
        guard let found = SMTPLogReader(trimmed).read() else { throw .noCode(Self.excerpt(trimmed)) }
        self.init(code: found.code, enhancedCode: found.enhanced, text: Self.sanitized(found.text), step: found.step,
                  source: found.kind, inferred: found.inferred)
    }

    /// The explanation of this reply at this step.
    public var explanation: SMTPExplanation {
        SMTPReplyExplainer.explain(code: code, enhanced: enhancedCode, text: text, after: step)
    }

    /// The text with C0 and C1 control characters escaped as `\xHH` (tabs and line ends become
    /// spaces) and bidirectional formatting characters as `\u{HHHH}`, safe to print.
    public static func sanitized(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D:
                result.append(" ")
            case 0x00...0x1F, 0x7F...0x9F:
                result.append(contentsOf: "\\x\(hex(scalar.value, width: 2))".unicodeScalars)
            case 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                result.append(contentsOf: "\\u{\(hex(scalar.value, width: 4))}".unicodeScalars)
            default:
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// The text without terminal escape sequences (CSI such as colours, OSC such as titles), and
    /// with every other control character but tab, CR and LF replaced by a space: log lines copied
    /// from a coloured viewer still parse.
    static func strippingTerminalControls(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        func skipControlSequence() {
            // Parameters and intermediates 0x20–0x3F, then one final byte 0x40–0x7E.
            while index < scalars.count, (0x20...0x3F).contains(scalars[index].value) { index += 1 }
            if index < scalars.count, (0x40...0x7E).contains(scalars[index].value) { index += 1 }
        }
        while index < scalars.count {
            let value = scalars[index].value
            index += 1
            switch value {
            case 0x1B where index < scalars.count && scalars[index] == "[":
                index += 1
                skipControlSequence()
            case 0x9B:
                skipControlSequence()
            case 0x1B where index < scalars.count && scalars[index] == "]":
                // An operating system command (a window title, say), ended by BEL or by ESC and a backslash.
                index += 1
                while index < scalars.count, scalars[index].value != 0x07, scalars[index].value != 0x1B { index += 1 }
                if index < scalars.count, scalars[index].value == 0x07 { index += 1 }
                if index + 1 < scalars.count, scalars[index].value == 0x1B, scalars[index + 1] == "\\" { index += 2 }
            case 0x1B:
                // A two-character escape: drop the next character too, unless it is a line end.
                if index < scalars.count, !(0x0A...0x0D).contains(scalars[index].value) { index += 1 }
            case 0x09, 0x0A, 0x0D:
                result.append(scalars[index - 1])
            case 0x00...0x1F, 0x7F...0x9F:
                result.append(" ")
            default:
                result.append(scalars[index - 1])
            }
        }
        return String(result)
    }

    /// At most 80 characters of the input, escaped, for messages.
    static func excerpt(_ text: String) -> String {
        let clean = sanitized(text)
        return clean.count > 80 ? String(clean.prefix(80)) + "…" : clean
    }

    private static func hex(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    private static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[start...end])
    }
}

/// Why `mailaudit explain` input could not be read. The description is the message the CLI
/// prints (it exits 2).
public enum SMTPExplainInputError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case tooLong(bytes: Int, limit: Int)
    /// Digits that are no reply code (RFC 5321 §4.2: three digits, 2–5, 0–5, 0–9).
    case invalidReplyCode(String)
    /// Digits and dots that are no enhanced status code (RFC 3463 §2).
    case invalidEnhancedCode(String)
    /// Text with no code in it.
    case noCode(String)

    public var description: String {
        switch self {
        case .empty:
            "nothing to explain: give a reply code (535), an enhanced status code (5.7.8), a server reply or a mail log line"
        case .tooLong(let bytes, let limit):
            "input too long: \(bytes) bytes, at most \(limit)"
        case .invalidReplyCode(let text):
            "\"\(text)\" is not an SMTP reply code: a reply code has three digits, the first 2 to 5 and the second 0 to 5 (RFC 5321 §4.2)"
        case .invalidEnhancedCode(let text):
            "\"\(text)\" is not an enhanced status code: it is class.subject.detail with a class of 2, 4 or 5 (RFC 3463 §2), for example 5.7.8"
        case .noCode(let text):
            "no SMTP reply code or enhanced status code found in \"\(text)\""
        }
    }
}
