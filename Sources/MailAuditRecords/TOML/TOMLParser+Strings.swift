/// The four kinds of string (TOML 1.0.0 "String"): basic `"…"` with escapes, literal `'…'`
/// as written, and the multi-line `"""…"""` and `'''…'''`. Control characters other than
/// tab are errors in all of them (line breaks are allowed in the multi-line kinds).
extension TOMLParser {
    mutating func parseBasicString() throws(TOMLSyntaxError) -> String {
        let opening = position(at: index)
        index += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw unclosed("\"", opening) }
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape(into: &out)
            case Self.lineFeed, Self.carriageReturn:
                throw failure("expected '\"' to close the string before the end of the line (a string in \"\"\" may span lines)")
            case _ where Self.isControl(byte):
                throw controlCharacter()
            default:
                out.append(byte)
                index += 1
            }
        }
    }

    mutating func parseLiteralString() throws(TOMLSyntaxError) -> String {
        let opening = position(at: index)
        index += 1
        let start = index
        while true {
            guard let byte = peek else { throw unclosed("'", opening) }
            switch byte {
            case UInt8(ascii: "'"):
                index += 1
                return String(decoding: bytes[start..<index - 1], as: UTF8.self)
            case Self.lineFeed, Self.carriageReturn:
                throw failure("expected \"'\" to close the string before the end of the line (a string in ''' may span lines)")
            case _ where Self.isControl(byte):
                throw controlCharacter()
            default:
                index += 1
            }
        }
    }

    mutating func parseMultilineBasicString() throws(TOMLSyntaxError) -> String {
        try parseMultiline(quote: UInt8(ascii: "\""), escapes: true)
    }

    mutating func parseMultilineLiteralString() throws(TOMLSyntaxError) -> String {
        try parseMultiline(quote: UInt8(ascii: "'"), escapes: false)
    }

    /// From the opening three quotes to the closing three; a line break right after the
    /// opening is dropped, and up to two quotes may stand just before the closing three.
    private mutating func parseMultiline(quote: UInt8, escapes: Bool) throws(TOMLSyntaxError) -> String {
        let opening = position(at: index)
        let delimiter = String(repeating: String(UnicodeScalar(quote)), count: 3)
        index += 3
        _ = try consumeNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek else { throw unclosed(delimiter, opening) }
            switch byte {
            case quote:
                var run = 0
                while peek == quote { run += 1; index += 1 }
                if run < 3 {
                    out.append(contentsOf: repeatElement(quote, count: run))
                    continue
                }
                guard run <= 5 else {
                    throw failure("too many quotes: at most two may stand before the closing \(delimiter)", at: index - run + 5)
                }
                out.append(contentsOf: repeatElement(quote, count: run - 3))
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\") where escapes:
                if let next = peek(1), next == Self.space || next == Self.tab || next == Self.lineFeed || next == Self.carriageReturn {
                    try skipLineEndingBackslash()
                } else {
                    try parseEscape(into: &out)
                }
            case Self.lineFeed, Self.carriageReturn:
                _ = try consumeNewline()
                out.append(Self.lineFeed)
            case _ where Self.isControl(byte):
                throw controlCharacter()
            default:
                out.append(byte)
                index += 1
            }
        }
    }

    /// A `\` that ends its line (white space may follow it): it, the line break and all white
    /// space and line breaks after it are dropped.
    private mutating func skipLineEndingBackslash() throws(TOMLSyntaxError) {
        let backslash = index
        index += 1
        skipWhitespace()
        guard try consumeNewline() else {
            throw failure("a '\\' followed by white space must be the last thing on its line", at: backslash)
        }
        while true {
            skipWhitespace()
            guard try consumeNewline() else { return }
        }
    }

    /// `\b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX`; the code must be a Unicode scalar value.
    private mutating func parseEscape(into out: inout [UInt8]) throws(TOMLSyntaxError) {
        let start = index
        index += 1
        guard let code = peek else { throw failure("expected an escape after '\\', found the end of the file") }
        index += 1
        let simple: UInt8? = switch code {
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "t"): 0x09
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "\""): 0x22
        case UInt8(ascii: "\\"): 0x5C
        default: nil
        }
        if let simple {
            out.append(simple)
            return
        }
        guard code == UInt8(ascii: "u") || code == UInt8(ascii: "U") else {
            throw failure(
                "'\\\(String(Character(scalar(at: start + 1) ?? " ")).terminalSafe)' is not an escape; "
                    + "the escapes are \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX and \\UXXXXXXXX", at: start)
        }
        let digits = code == UInt8(ascii: "u") ? 4 : 8
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let byte = peek, let digit = Self.hexDigit(byte) else {
                throw failure("\\\(code == UInt8(ascii: "u") ? "u" : "U") needs \(digits) hexadecimal digits, \(found)")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw failure("\\\(code == UInt8(ascii: "u") ? "u" : "U")\(String(value, radix: 16, uppercase: true)) is not a Unicode scalar value (a surrogate, or above 10FFFF)", at: start)
        }
        out.append(contentsOf: String(Character(scalar)).utf8)
    }

    static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private mutating func unclosed(_ delimiter: String, _ opening: TOMLPosition) -> TOMLSyntaxError {
        let shown = switch delimiter {
        case "\"": "'\"'"
        case "'": "\"'\""
        default: delimiter
        }
        return failure("expected \(shown) to close the string started at line \(opening.line), column \(opening.column), found the end of the file")
    }

    private mutating func controlCharacter() -> TOMLSyntaxError {
        failure("\(TOMLSyntaxError.quote(scalar(at: index))) (a control character) is not allowed in a string; write it as an escape such as \\u0007")
    }
}
