extension MTASTSPolicy {
    /// Parses a policy file by the grammar of RFC 8461 §3.2.
    ///
    /// ```swift
    /// try MTASTSPolicy(parsing: "version: STSv1\nmode: testing\nmx: mail.example.com\nmax_age: 86400\n")   // ok
    /// try MTASTSPolicy(parsing: "version: STSv1\nmode: strict\nmx: mail.example.com\nmax_age: 86400\n")    // throws: line 2
    /// ```
    ///
    /// One `key: value` field a line; lines end in CRLF or LF, the last one optionally. Keys are
    /// case-sensitive; whitespace may follow ":" and end a line, but not start one. `version`,
    /// `mode` and `max_age` are required, and at least one `mx` unless the mode is `none`. Other
    /// keys are extensions, kept and otherwise ignored. A field other than `mx` written twice
    /// keeps its first value (see ``ignoredDuplicates``); every value is checked all the same.
    ///
    /// - Throws: ``MTASTSPolicyError`` naming the 1-based line, the key and the problem: an
    ///   empty line, a control character, a line without ":", a bad key, an empty value, a bad
    ///   version, mode, max_age or mx pattern, or a required field that is missing.
    public init(parsing text: String) throws(MTASTSPolicyError) {
        // Split on scalars: as Characters, "\r\n" is one grapheme and no "\n".
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
            .map { String(String.UnicodeScalarView($0)) }
        // sts-policy-record ends with an optional sts-policy-term.
        if lines.last == "" { lines.removeLast() }
        var mode: MTASTSMode?, maxAge: Int?, hasVersion = false
        var mx: [MTASTSMXPattern] = []
        var extensions: [MTASTSPolicyField] = []
        var duplicates: [MTASTSPolicyField] = []
        var misspelled: [String: String] = [:]
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            let (key, value) = try Self.field(line, number: number)
            func error(_ reason: MTASTSPolicyError.Reason) -> MTASTSPolicyError {
                MTASTSPolicyError(line: number, key: key, reason: reason)
            }
            let field = MTASTSPolicyField(key: key, value: value)
            switch key {
            case "version":
                guard value == "STSv1" else { throw error(.badVersion(value)) }
                if hasVersion { duplicates.append(field) }
                hasVersion = true
            case "mode":
                guard let parsed = MTASTSMode(rawValue: value) else { throw error(.badMode(value)) }
                if mode == nil { mode = parsed } else { duplicates.append(field) }
            case "max_age":
                // sts-policy-max-age-value = 1*10(DIGIT), at most 31557600.
                guard (1...10).contains(value.count), value.allSatisfy(\.isASCIIDigit), let seconds = Int(value) else {
                    throw error(.badMaxAge(value))
                }
                guard seconds <= Self.maximumMaxAge else { throw error(.maxAgeTooLarge(seconds)) }
                if maxAge == nil { maxAge = seconds } else { duplicates.append(field) }
            case "mx":
                do throws(MTASTSPolicyError.Reason) {
                    mx.append(try MTASTSMXPattern(parsing: value))
                } catch {
                    throw MTASTSPolicyError(line: number, key: key, reason: error)
                }
            default:
                if ["version", "mode", "max_age", "mx"].contains(key.lowercasedASCII) { misspelled[key.lowercasedASCII] = key }
                extensions.append(field)
            }
        }
        func missing(_ key: String) -> MTASTSPolicyError {
            MTASTSPolicyError(line: 0, key: key, reason: .missingField(writtenAs: misspelled[key]))
        }
        guard hasVersion else { throw missing("version") }
        guard let mode else { throw missing("mode") }
        guard let maxAge else { throw missing("max_age") }
        guard !mx.isEmpty || mode == .none else { throw missing("mx") }
        self.init(mode: mode, mx: mx, maxAge: maxAge, extensions: extensions, ignoredDuplicates: duplicates)
    }

    /// Parses a policy as fetched: bytes that must be UTF-8 (RFC 8461 §3.2).
    ///
    /// - Throws: ``MTASTSPolicyError`` as the parser of text does, or `.notUTF8` on line 0.
    public init(parsing bytes: [UInt8]) throws(MTASTSPolicyError) {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw MTASTSPolicyError(line: 0, key: "", reason: .notUTF8)
        }
        try self.init(parsing: text)
    }

    /// Splits one line into its key and value, checking both.
    private static func field(_ line: String, number: Int) throws(MTASTSPolicyError) -> (String, String) {
        func error(_ key: String, _ reason: MTASTSPolicyError.Reason) -> MTASTSPolicyError {
            MTASTSPolicyError(line: number, key: key, reason: reason)
        }
        guard !line.isEmpty else { throw error("", .emptyLine) }
        // sts-policy-vchar excludes CTLs; tabs count as WSP.
        if let control = line.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw error("", .controlCharacter(control))
        }
        guard let colon = line.firstIndex(of: ":") else { throw error("", .missingColon) }
        let key = String(line[..<colon])
        // sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / "."); the known keys fit it.
        let scalars = Array(key.unicodeScalars)
        let isKey = (1...32).contains(scalars.count) && scalars.enumerated().allSatisfy { offset, scalar in
            TagList.isAlpha(scalar) || TagList.isDigit(scalar) || (offset > 0 && (scalar == "_" || scalar == "-" || scalar == "."))
        }
        guard isKey else { throw error(key, .badKey) }
        // sts-policy-field-delim = ":" *WSP; a field may be followed by *WSP before the line end.
        let value = line[line.index(after: colon)...].trimmingCharacters { $0 == " " || $0 == "\t" }
        guard !value.isEmpty else { throw error(key, .emptyValue) }
        return (key, value)
    }
}

/// Why an MTA-STS policy could not be parsed, and where (RFC 8461 §3.2).
public struct MTASTSPolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The 1-based line of the problem; 0 for a problem of the whole file (not text, a
    /// required field missing).
    public var line: Int
    /// The key of that line ("" when the line has none).
    public var key: String
    public var reason: Reason

    public init(line: Int, key: String, reason: Reason) {
        self.line = line
        self.key = key
        self.reason = reason
    }

    public enum Reason: Error, Hashable, Sendable, CustomStringConvertible {
        /// The body is not UTF-8.
        case notUTF8
        /// A line with nothing on it: the grammar has no empty lines.
        case emptyLine
        /// A control character other than a tab.
        case controlCharacter(Unicode.Scalar)
        /// A line with no ":".
        case missingColon
        /// A key outside `sts-policy-ext-name`: whitespace before it or before ":", a bad character, over 32 characters.
        case badKey
        /// `key:` with nothing after it.
        case emptyValue
        /// A `version` other than `STSv1`.
        case badVersion(String)
        /// A `mode` other than `enforce`, `testing` or `none` (case-sensitive).
        case badMode(String)
        /// A `max_age` that is not 1 to 10 digits.
        case badMaxAge(String)
        /// A `max_age` above 31557600.
        case maxAgeTooLarge(Int)
        /// An `mx` value that is not `["*."] Domain`, and why.
        case badMX(String, String)
        /// A required field is missing; `writtenAs` is the same key with other capitals, if present.
        case missingField(writtenAs: String?)

        public var description: String {
            switch self {
            case .notUTF8: "the policy is not UTF-8 text"
            case .emptyLine: "the line is empty; every line must hold a field"
            case .controlCharacter(let scalar): "\(TagList.show(scalar)) cannot appear in a policy"
            case .missingColon: "the line has no \":\"; every line is \"key: value\""
            case .badKey:
                "a key is a letter or digit, then at most 31 letters, digits, \"_\", \"-\" or \".\", with no whitespace before it or before \":\""
            case .emptyValue: "the field has no value"
            case .badVersion(let value): "\"\(value)\" is not a version; the only one is STSv1"
            case .badMode(let value): "\"\(value)\" is not a mode: enforce, testing or none (in lower case)"
            case .badMaxAge(let value): "\"\(value)\" is not a max_age: 1 to 10 digits, seconds"
            case .maxAgeTooLarge(let value): "max_age \(value) is above the maximum of \(MTASTSPolicy.maximumMaxAge) (one year)"
            case .badMX(let value, let why): "\"\(value)\" is not an mx pattern (a host name, or \"*.\" and a domain): \(why)"
            case .missingField(let written):
                "the field is required but missing" + (written.map { "; keys are case-sensitive, and \"\($0)\" does not count" } ?? "")
            }
        }
    }

    /// `line 2 ("mode"): "strict" is not a mode: …`, or `policy ("mx"): …` when the line is 0.
    public var description: String {
        (line == 0 ? "policy" : "line \(line)") + (key.isEmpty ? "" : " (\"\(key)\")") + ": \(reason)"
    }
}
