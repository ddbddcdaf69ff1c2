/// Everything wrong with a configuration file: ``RunConfiguration/parse(_:file:)`` reports
/// every problem it finds, not only the first, so one edit can fix them all.
///
/// ```text
/// mailaudit.toml:12: [relay] password: inline passwords are not allowed; use password_env or password_file
/// mailaudit.toml:31: [domain[1]] ips[0]: "192.0.2.300" is not an IP address
/// ```
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems in the order of their lines; a problem without a line comes first.
    public var problems: [ConfigProblem]

    public init(problems: [ConfigProblem]) { self.problems = problems }

    /// One problem a line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// One problem in a configuration file, located by line and key path.
public struct ConfigProblem: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is; tests and tools key on it, never on ``message``.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The file could not be read.
        case unreadable
        /// The text is not TOML (the message holds the TOML parser's words).
        case syntax
        /// A key the section does not know; the message suggests the nearest known one.
        case unknownKey
        /// A value of the wrong TOML type (`expected a string, found an integer`).
        case wrongType
        /// A value of the right type that is not valid: a bad address, host name, IP address,
        /// enumeration value or check name.
        case badValue
        /// A number outside its range.
        case outOfRange
        /// A required key or table is missing.
        case missing
        /// Keys that cannot go together, such as `sqlite` and `postgres`.
        case conflict
        /// A domain listed twice.
        case duplicate
        /// A password written into the file.
        case inlinePassword
    }

    /// The file as it was named to the parser.
    public var file: String
    /// The line (from 1), or nil when the problem is a missing table or the whole file.
    public var line: Int?
    /// Where in the document: `relay.port`, `domain[2].ips[0]` (array indexes from 0), or ""
    /// for the whole file.
    public var keyPath: String
    public var kind: Kind
    public var message: String

    public init(file: String, line: Int?, keyPath: String, kind: Kind, message: String) {
        self.file = file
        self.line = line
        self.keyPath = keyPath
        self.kind = kind
        self.message = message
    }

    /// `file:line: [table] key: message`, for example
    /// `mailaudit.toml:12: [relay] password: inline passwords are not allowed; use password_env or password_file`.
    public var description: String {
        var out = file
        if let line { out += ":\(line)" }
        out += ": "
        if !keyPath.isEmpty { out += Self.location(keyPath) + ": " }
        return out + message
    }

    /// `relay.port` → `[relay] port`, `domain[2].ips[0]` → `[domain[2]] ips[0]`, `history` → `[history]`.
    static func location(_ keyPath: String) -> String {
        guard let dot = keyPath.firstIndex(of: ".") else { return "[\(keyPath)]" }
        return "[\(keyPath[..<dot])] \(keyPath[keyPath.index(after: dot)...])"
    }
}
