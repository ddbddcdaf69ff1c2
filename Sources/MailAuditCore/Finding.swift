public import Foundation

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

/// One thing a check observed, as a value. Its ``id`` and ``subject`` key together are its
/// identity across runs; its ``facts`` are the values it judged, so two runs can be compared
/// without reading messages (which may mention values that move every day).
public struct Finding: Hashable, Sendable, Codable {
    public var id: FindingID
    public var severity: Severity
    /// What the finding is about: the domain, and where it applies a host, an address, a
    /// DKIM selector or a DNS record name.
    public var subject: FindingSubject
    /// One line, for people.
    public var message: String
    /// What was seen: DNS answers, records, transcript lines.
    public var evidence: [String]
    /// What to do about it, where possible the record to publish.
    public var remedy: String?
    /// The standard that sets the rule, for example "RFC 7505 §3".
    public var reference: String?
    /// The values the check judged, by name: `lookups`, `p`, `keyBits`, `notAfter`, …
    public var facts: [String: Fact]

    public init(
        _ id: FindingID, _ severity: Severity, subject: FindingSubject, message: String,
        evidence: [String] = [], remedy: String? = nil, reference: String? = nil, facts: [String: Fact] = [:]
    ) {
        self.id = id
        self.severity = severity
        self.subject = subject
        self.message = message
        self.evidence = evidence
        self.remedy = remedy
        self.reference = reference
        self.facts = facts
    }

    /// The finding with its subject's domain set, where the check that made it did not know it.
    public func scoped(to domain: DomainName) -> Finding {
        guard subject.domain.isEmpty else { return self }
        var scoped = self
        scoped.subject.domain = domain.description
        return scoped
    }
}

/// What a finding is about, as fields. Checks fill the fields they know; the auditor sets the
/// domain. ``key`` is stable across runs; ``description`` is the text people read.
///
/// ```swift
/// FindingSubject(host: "mx1.example.com", address: "192.0.2.25")   // "mx1.example.com [192.0.2.25]"
/// FindingSubject(domain: "example.com", selector: "s1")            // "s1._domainkey.example.com"
/// ```
public struct FindingSubject: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The audited domain, without a trailing dot.
    public var domain: String
    /// A host name: an MX host.
    public var host: String?
    /// An IP address: an MX host's address or a sending address.
    public var address: String?
    /// A DKIM selector.
    public var selector: String?
    /// A DNS name the finding is about when it is not the domain: an SPF include target, a
    /// DMARC report destination, the DMARC record that governs a subdomain.
    public var record: String?

    public init(domain: String = "", host: String? = nil, address: String? = nil, selector: String? = nil, record: String? = nil) {
        self.domain = domain
        self.host = host
        self.address = address
        self.selector = selector
        self.record = record
    }

    /// The domain itself.
    public static func domain(_ domain: DomainName) -> FindingSubject { FindingSubject(domain: domain.description) }

    /// A DNS name other than the domain (an include, a report destination).
    public static func record(_ name: DomainName) -> FindingSubject { FindingSubject(record: name.description) }

    /// A key that is the same whenever the subject is: `domain|host|address|selector|record`.
    public var key: String { [domain, host ?? "", address ?? "", selector ?? "", record ?? ""].joined(separator: "|") }

    public var description: String {
        if let selector { return record ?? (domain.isEmpty ? selector : "\(selector)._domainkey.\(domain)") }
        if let address { return host.map { "\($0) [\(address)]" } ?? address }
        if let host { return host }
        if let record { return record }
        return domain
    }
}

/// A value a check judged: a count, a policy, a date, a fingerprint, a list.
public enum Fact: Hashable, Sendable, Codable, CustomStringConvertible {
    case int(Int)
    case text(String)
    case list([String])
    case date(Date)
    case bool(Bool)

    /// JSON: a number, a string, an array of strings, a boolean, or `{"date": "2030-01-01T00:00:00Z"}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(String.self) { self = .text(value) }
        else if let value = try? container.decode([String].self) { self = .list(value) }
        else { self = .date(try container.decode(DateFact.self).date) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .list(let values): try container.encode(values)
        case .bool(let value): try container.encode(value)
        case .date(let value): try container.encode(DateFact(date: value))
        }
    }

    private struct DateFact: Codable {
        var date: Date
        init(date: Date) { self.date = date }
        init(from decoder: any Decoder) throws {
            let text = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .date)
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date: \(text)"))
            }
            self.date = date
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(date.formatted(.iso8601), forKey: .date)
        }
        enum CodingKeys: String, CodingKey { case date }
    }

    public var description: String {
        switch self {
        case .int(let value): String(value)
        case .text(let value): value
        case .list(let values): values.isEmpty ? "(none)" : values.joined(separator: ", ")
        case .date(let value): value.formatted(.iso8601.year().month().day())
        case .bool(let value): value ? "yes" : "no"
        }
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
