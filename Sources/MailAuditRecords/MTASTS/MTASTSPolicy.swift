public import MailAuditCore

/// An MTA-STS policy (RFC 8461 §3.2), served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`:
/// the MX hosts senders may deliver to, and whether they must insist on verified TLS.
///
/// ```swift
/// let policy = try MTASTSPolicy(parsing: "version: STSv1\r\nmode: enforce\r\nmx: *.example.com\r\nmax_age: 604800\r\n")
/// policy.mode                                        // .enforce
/// policy.covers(DomainName(labels: ["mx1", "example", "com"]))   // true
/// policy.description   // "version: STSv1\nmode: enforce\nmx: *.example.com\nmax_age: 604800\n"
/// ```
///
/// `description` renders the canonical form (version, mode, the mx lines, max_age, then the
/// extensions as written, each line ended by LF), and parsing it gives back an equal value.
public struct MTASTSPolicy: Hashable, Sendable, CustomStringConvertible {
    public var mode: MTASTSMode
    /// The `mx` patterns in the order written; empty only in mode `none`.
    public var mx: [MTASTSMXPattern]
    /// `max_age`: how many seconds senders may cache the policy (0 to 31557600).
    public var maxAge: Int
    /// Fields the standard does not define, which senders ignore, in the order written.
    public var extensions: [MTASTSPolicyField]
    /// Fields other than `mx` written again after their first occurrence; senders use the first
    /// and ignore these (RFC 8461 §3.2).
    public var ignoredDuplicates: [MTASTSPolicyField]

    /// The largest `max_age` (RFC 8461 §3.2): one year.
    public static let maximumMaxAge = 31_557_600

    public init(
        mode: MTASTSMode, mx: [MTASTSMXPattern], maxAge: Int, extensions: [MTASTSPolicyField] = [],
        ignoredDuplicates: [MTASTSPolicyField] = []
    ) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
        self.extensions = extensions
        self.ignoredDuplicates = ignoredDuplicates
    }

    /// The policy's lines, without line ends.
    public var lines: [String] {
        ["version: STSv1", "mode: \(mode.rawValue)"] + mx.map { "mx: \($0)" } + ["max_age: \(maxAge)"]
            + extensions.map(\.description)
    }

    public var description: String { lines.map { $0 + "\n" }.joined() }

    /// True when some `mx` pattern matches `host` (RFC 8461 §4.1).
    public func covers(_ host: DomainName) -> Bool {
        mx.contains { $0.matches(host) }
    }
}

/// How senders apply a policy (RFC 8461 §5).
public enum MTASTSMode: String, Hashable, Sendable, CaseIterable {
    /// Deliver only to a listed MX host over TLS with a valid certificate.
    case enforce
    /// Deliver as usual, but report failures (RFC 8460).
    case testing
    /// The domain withdraws its policy (RFC 8461 §8.3).
    case none
}

/// One `mx` pattern of a policy: a host name, or `*.` and a domain (RFC 8461 §3.2, §4.1).
///
/// ```swift
/// let pattern = try MTASTSMXPattern(parsing: "*.example.com")
/// pattern.matches(DomainName(labels: ["mail", "example", "com"]))       // true
/// pattern.matches(DomainName(labels: ["example", "com"]))               // false
/// pattern.matches(DomainName(labels: ["a", "b", "example", "com"]))     // false: one label only
/// ```
public struct MTASTSMXPattern: Hashable, Sendable, CustomStringConvertible {
    /// True for `*.domain`.
    public var isWildcard: Bool
    /// The name, or the part after `*.`; lower-cased.
    public var domain: DomainName

    public init(isWildcard: Bool = false, domain: DomainName) {
        self.isWildcard = isWildcard
        self.domain = domain
    }

    /// Parses `["*."] Domain` (RFC 5321 §4.1.2 Domain: LDH labels, no trailing dot).
    ///
    /// - Throws: ``MTASTSPolicyError/Reason`` `.badMX` saying what is wrong.
    public init(parsing text: String) throws(MTASTSPolicyError.Reason) {
        let isWildcard = text.hasPrefix("*.")
        let name = isWildcard ? String(text.dropFirst(2)) : text
        let labels = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func fail(_ why: String) -> MTASTSPolicyError.Reason { .badMX(text, why) }
        if name.isEmpty { throw fail("no host name") }
        for label in labels {
            if label.isEmpty { throw fail(name.hasSuffix(".") ? "a pattern has no trailing dot" : "a label is empty") }
            if label.utf8.count > 63 { throw fail("a label is longer than 63 characters") }
            if label == "*" { throw fail("\"*\" may only stand alone as the whole leftmost label") }
            // sub-domain = Let-dig [Ldh-str]: letters, digits and inner hyphens.
            guard label.unicodeScalars.allSatisfy({ TagList.isAlpha($0) || TagList.isDigit($0) || $0 == "-" }) else {
                throw fail("\"\(label)\" has a character other than letters, digits and \"-\"")
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { throw fail("\"\(label)\" starts or ends with \"-\"") }
        }
        self.init(isWildcard: isWildcard, domain: DomainName(labels: labels))
    }

    /// RFC 8461 §4.1: a name matches itself, case-insensitively; `*.example.com` matches a name
    /// of exactly one more label (`mail.example.com`, not `example.com` nor `a.b.example.com`).
    public func matches(_ host: DomainName) -> Bool {
        guard isWildcard else { return host.labels == domain.labels }
        return host.labels.count == domain.labels.count + 1 && Array(host.labels.dropFirst()) == domain.labels
    }

    public var description: String { (isWildcard ? "*." : "") + domain.description }
}

/// A `key: value` line of a policy kept as written: an extension, or an ignored duplicate.
public struct MTASTSPolicyField: Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }

    public var description: String { "\(key): \(value)" }
}
