/// How much a finding matters. `inconclusive` means the check could not be done.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case pass, info, warning, failure, inconclusive

    private var rank: Int {
        switch self {
        case .pass: 0
        case .info: 1
        case .inconclusive: 2
        case .warning: 3
        case .failure: 4
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// A stable finding id such as `mx.null-mx-with-other-mx`. Ids are never renamed; every one
/// is listed in `docs/checks.md`.
public struct FindingID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    /// The area a finding belongs to: the part of the id before the first dot.
    public var area: String { String(rawValue.prefix { $0 != "." }) }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// One thing a check observed, as a value.
public struct Finding: Hashable, Sendable, Codable {
    public var id: FindingID
    public var severity: Severity
    /// What the finding is about: a domain, a host, an address.
    public var subject: String
    /// One line, for people.
    public var message: String
    /// What was seen: DNS answers, records, transcript lines.
    public var evidence: [String]
    /// What to do about it, where possible the record to publish.
    public var remedy: String?
    /// The standard that sets the rule, for example "RFC 7505 §3".
    public var reference: String?

    public init(
        _ id: FindingID, _ severity: Severity, subject: String, message: String,
        evidence: [String] = [], remedy: String? = nil, reference: String? = nil
    ) {
        self.id = id
        self.severity = severity
        self.subject = subject
        self.message = message
        self.evidence = evidence
        self.remedy = remedy
        self.reference = reference
    }
}

/// Finding counts by severity.
public struct SeverityCounts: Hashable, Sendable, Codable {
    public var pass = 0, info = 0, warning = 0, failure = 0, inconclusive = 0

    public init(_ findings: [Finding] = []) {
        for finding in findings { self[finding.severity] += 1 }
    }

    public subscript(severity: Severity) -> Int {
        get {
            switch severity {
            case .pass: pass
            case .info: info
            case .warning: warning
            case .failure: failure
            case .inconclusive: inconclusive
            }
        }
        set {
            switch severity {
            case .pass: pass = newValue
            case .info: info = newValue
            case .warning: warning = newValue
            case .failure: failure = newValue
            case .inconclusive: inconclusive = newValue
            }
        }
    }

    public static func + (lhs: SeverityCounts, rhs: SeverityCounts) -> SeverityCounts {
        var sum = lhs
        for severity in Severity.allCases { sum[severity] += rhs[severity] }
        return sum
    }
}
