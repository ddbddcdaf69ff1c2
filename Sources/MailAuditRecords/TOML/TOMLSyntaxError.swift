import MailAuditCore

/// Why a text is not TOML 1.0.0, and where: the first error the parser met.
///
/// ```text
/// line 3, column 9: expected ']' to close the array, found '}'
/// ```
public struct TOMLSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// From 1.
    public var line: Int
    /// From 1, in Unicode scalars.
    public var column: Int
    /// A plain sentence; any text quoted from the input has been made terminal-safe.
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public init(at position: TOMLPosition, _ message: String) {
        self.init(line: position.line, column: position.column, message: message)
    }

    public var position: TOMLPosition { TOMLPosition(line: line, column: column) }

    /// `line 3, column 9: expected ']' to close the array, found '}'`.
    public var description: String { "line \(line), column \(column): \(message)" }

    /// `'x'`, or a name for a character that does not show, terminal-safe.
    static func quote(_ scalar: Unicode.Scalar?) -> String {
        guard let scalar else { return "the end of the file" }
        switch scalar {
        case "\n": return "the end of the line"
        case "\r": return "a carriage return"
        case "\t": return "a tab"
        case "\0": return "a NUL character"
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned, .surrogate, .privateUse:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            default:
                return "'" + String(Character(scalar)).terminalSafe + "'"
            }
        }
    }

    /// `"text"`, shortened to 40 characters and terminal-safe.
    static func quote(_ text: String) -> String {
        let short = text.count > 40 ? String(text.prefix(40)) + "…" : text
        return "\"" + short.terminalSafe + "\""
    }
}
