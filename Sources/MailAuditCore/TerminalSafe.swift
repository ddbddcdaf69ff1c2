extension String {
    /// The text with every control character (C0, DEL, C1) and bidirectional override shown
    /// as a visible escape such as `\u{1B}`, so text from a hostile server cannot move the
    /// cursor, recolour the terminal or reorder what an operator reads.
    public var terminalSafe: String {
        guard unicodeScalars.contains(where: Self.isUnsafe) else { return self }
        var out = ""
        for scalar in unicodeScalars {
            if Self.isUnsafe(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Like ``terminalSafe``, but keeps line breaks: for a multi-line message such as a usage
    /// error, whose lines are shown as lines and each made safe.
    public var terminalSafeLines: String {
        split(separator: "\n", omittingEmptySubsequences: false).map { String($0).terminalSafe }.joined(separator: "\n")
    }

    /// The scalars ``terminalSafe`` escapes: C0 controls, DEL, C1 controls (U+009B is a one-byte
    /// CSI to some terminals) and the bidirectional embeddings, overrides and isolates.
    public static func isTerminalUnsafe(_ scalar: Unicode.Scalar) -> Bool { isUnsafe(scalar) }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true
        case 0x202A...0x202E, 0x2066...0x2069: true  // bidi embeddings, overrides and isolates
        default: false
        }
    }
}
