public import MailAuditCore

/// A parsed SPF record: the version `v=spf1` and its terms, in order (RFC 7208 §4.6, §12).
///
/// ```swift
/// let record = try SPFRecord(parsing: "v=spf1 ip4:192.0.2.0/24 a:mail.example.com/24//64 include:_spf.example.net ~all")
/// record.description   // the canonical form: lower-case names, no "+" qualifier
/// ```
///
/// `description` renders the canonical form, and parsing it gives back an equal value.
public struct SPFRecord: Hashable, Sendable, CustomStringConvertible {
    /// Mechanisms and modifiers in the order written.
    public var terms: [SPFTerm]

    public init(terms: [SPFTerm] = []) { self.terms = terms }

    /// The mechanisms with their qualifiers, in order (RFC 7208 §4.6.2).
    public var directives: [SPFDirective] {
        terms.compactMap { if case .directive(let directive) = $0 { directive } else { nil } }
    }

    /// The modifiers, in order (RFC 7208 §6).
    public var modifiers: [SPFModifier] {
        terms.compactMap { if case .modifier(let modifier) = $0 { modifier } else { nil } }
    }

    /// The target of `redirect=` (RFC 7208 §6.1).
    public var redirect: SPFMacroString? {
        modifiers.lazy.compactMap { if case .redirect(let target) = $0 { target } else { nil } }.first
    }

    /// The domain-spec of `exp=` (RFC 7208 §6.2).
    public var explanation: SPFMacroString? {
        modifiers.lazy.compactMap { if case .explanation(let target) = $0 { target } else { nil } }.first
    }

    /// True when an `all` mechanism appears: then `redirect` is never used (RFC 7208 §5.1).
    public var hasAll: Bool { directives.contains { $0.mechanism == .all } }

    /// How many terms cause DNS lookups when evaluated: include, a, mx, ptr, exists and
    /// redirect (RFC 7208 §4.6.4). Terms of included records are not counted.
    public var lookupTermCount: Int {
        directives.filter(\.mechanism.causesLookup).count + (redirect != nil && !hasAll ? 1 : 0)
    }

    /// The canonical form: `v=spf1`, then the terms separated by single spaces.
    public var description: String { (["v=spf1"] + terms.map(\.description)).joined(separator: " ") }
}

/// A term: a directive (qualifier + mechanism) or a modifier (RFC 7208 §4.6.1).
public enum SPFTerm: Hashable, Sendable, CustomStringConvertible {
    case directive(SPFDirective)
    case modifier(SPFModifier)

    public var description: String {
        switch self {
        case .directive(let directive): directive.description
        case .modifier(let modifier): modifier.description
        }
    }
}

/// A mechanism with its qualifier, such as `-all` or `~include:example.net` (RFC 7208 §4.6.2).
public struct SPFDirective: Hashable, Sendable, CustomStringConvertible {
    /// The result on a match; `+` (pass) when none is written.
    public var qualifier: SPFQualifier
    /// What is matched against the client.
    public var mechanism: SPFMechanism

    public init(_ qualifier: SPFQualifier = .pass, _ mechanism: SPFMechanism) {
        self.qualifier = qualifier
        self.mechanism = mechanism
    }

    /// The canonical form; the default qualifier "+" is left out.
    public var description: String {
        (qualifier == .pass ? "" : qualifier.rawValue) + mechanism.description
    }
}

/// The qualifier of a directive and the result it gives on a match (RFC 7208 §4.6.2).
public enum SPFQualifier: String, Hashable, Sendable, CaseIterable {
    case pass = "+"
    case fail = "-"
    case softfail = "~"
    case neutral = "?"

    /// The result check_host() returns when the mechanism matches.
    public var result: SPFResult {
        switch self {
        case .pass: .pass
        case .fail: .fail
        case .softfail: .softfail
        case .neutral: .neutral
        }
    }
}

/// A mechanism (RFC 7208 §5). Domain-specs are macro-strings; nil means `<domain>`.
public enum SPFMechanism: Hashable, Sendable, CustomStringConvertible {
    /// `all` (§5.1)
    case all
    /// `include:domain-spec` (§5.2)
    case include(SPFMacroString)
    /// `a[:domain-spec][/ip4-cidr][//ip6-cidr]` (§5.3)
    case a(SPFMacroString?, SPFDualCIDR)
    /// `mx[:domain-spec][/ip4-cidr][//ip6-cidr]` (§5.4)
    case mx(SPFMacroString?, SPFDualCIDR)
    /// `ptr[:domain-spec]` (§5.5)
    case ptr(SPFMacroString?)
    /// `ip4:network[/cidr]`; a nil length means /32 (§5.6)
    case ip4(IPAddress, prefixLength: Int?)
    /// `ip6:network[/cidr]`; a nil length means /128 (§5.6)
    case ip6(IPAddress, prefixLength: Int?)
    /// `exists:domain-spec` (§5.7)
    case exists(SPFMacroString)

    /// The mechanism's name in lower case.
    public var name: String {
        switch self {
        case .all: "all"
        case .include: "include"
        case .a: "a"
        case .mx: "mx"
        case .ptr: "ptr"
        case .ip4: "ip4"
        case .ip6: "ip6"
        case .exists: "exists"
        }
    }

    /// True for the mechanisms that count against the limit of 10 lookups (RFC 7208 §4.6.4).
    public var causesLookup: Bool {
        switch self {
        case .include, .a, .mx, .ptr, .exists: true
        case .all, .ip4, .ip6: false
        }
    }

    public var description: String {
        switch self {
        case .all: "all"
        case .include(let spec): "include:\(spec)"
        case .a(let spec, let cidr): "a" + (spec.map { ":\($0)" } ?? "") + cidr.description
        case .mx(let spec, let cidr): "mx" + (spec.map { ":\($0)" } ?? "") + cidr.description
        case .ptr(let spec): "ptr" + (spec.map { ":\($0)" } ?? "")
        case .ip4(let address, let length): "ip4:\(address)" + (length.map { "/\($0)" } ?? "")
        case .ip6(let address, let length): "ip6:\(address)" + (length.map { "/\($0)" } ?? "")
        case .exists(let spec): "exists:\(spec)"
        }
    }
}

/// The CIDR lengths of `a` and `mx`: `/24//64` (RFC 7208 §5.6). Nil means the full length.
public struct SPFDualCIDR: Hashable, Sendable, CustomStringConvertible {
    /// The IPv4 prefix length, 0...32; nil means 32.
    public var ip4: Int?
    /// The IPv6 prefix length, 0...128; nil means 128.
    public var ip6: Int?

    public init(ip4: Int? = nil, ip6: Int? = nil) {
        self.ip4 = ip4
        self.ip6 = ip6
    }

    /// No lengths given.
    public static let none = SPFDualCIDR()

    /// The prefix length that applies to an address of this family.
    public func length(for address: IPAddress) -> Int {
        address.isIPv6 ? (ip6 ?? 128) : (ip4 ?? 32)
    }

    public var description: String {
        (ip4.map { "/\($0)" } ?? "") + (ip6.map { "//\($0)" } ?? "")
    }
}

/// A modifier (RFC 7208 §6). Unknown modifiers are kept and ignored (§6, last paragraph).
public enum SPFModifier: Hashable, Sendable, CustomStringConvertible {
    /// `redirect=domain-spec` (§6.1)
    case redirect(SPFMacroString)
    /// `exp=domain-spec` (§6.2)
    case explanation(SPFMacroString)
    /// `name=macro-string`, with the name in lower case (§6, §12 `unknown-modifier`)
    case unknown(name: String, value: SPFMacroString)

    /// The modifier's name in lower case.
    public var name: String {
        switch self {
        case .redirect: "redirect"
        case .explanation: "exp"
        case .unknown(let name, _): name
        }
    }

    public var description: String {
        switch self {
        case .redirect(let spec): "redirect=\(spec)"
        case .explanation(let spec): "exp=\(spec)"
        case .unknown(let name, let value): "\(name)=\(value)"
        }
    }
}
