/// A parsed DMARC Policy Record (RFC 9989 §4.7, §4.8).
///
/// ```swift
/// let record = try DMARCRecord(parsing: "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com")
/// record.policy                 // .reject
/// record.effectiveSubdomainPolicy   // .quarantine
/// record.description            // "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@example.com"
/// ```
///
/// Tags that were not written are nil, so a record says what its publisher said; the
/// `effective…` properties apply the defaults. `description` renders the canonical form
/// (known tags in a fixed order, then the removed and unknown tags in the order written),
/// and parsing it gives back an equal value.
public struct DMARCRecord: Hashable, Sendable, CustomStringConvertible {
    /// `p`: the Domain Owner Assessment Policy; absent means `none` (RFC 9989 §4.7, §4.10.1).
    public var policy: DMARCPolicy?
    /// `sp`: the policy for existing subdomains; absent means `p`.
    public var subdomainPolicy: DMARCPolicy?
    /// `np`: the policy for non-existent subdomains; absent means `sp`, then `p`.
    public var nonExistentPolicy: DMARCPolicy?
    /// `psd`: whether the domain is a Public Suffix Domain; absent means `u`.
    public var publicSuffix: DMARCPublicSuffix?
    /// `t`: test mode; absent means `n`.
    public var testing: Bool?
    /// `adkim`: DKIM alignment; absent means relaxed.
    public var dkimAlignment: DMARCAlignment?
    /// `aspf`: SPF alignment; absent means relaxed.
    public var spfAlignment: DMARCAlignment?
    /// `rua`: where aggregate reports go.
    public var aggregateReportURIs: [DMARCURI]?
    /// `ruf`: where failure reports go.
    public var failureReportURIs: [DMARCURI]?
    /// `fo`: failure reporting options, in the order written.
    public var failureOptions: [DMARCFailureOption]?
    /// `pct`, `rf` and `ri`: tags of RFC 7489 that RFC 9989 removed (Appendix C.5.2). Kept, with no effect.
    public var removedTags: [DMARCTag]
    /// Tags that are not DMARC tags; receivers ignore them (RFC 9989 §4.7).
    public var unknownTags: [DMARCTag]

    public init(
        policy: DMARCPolicy? = nil, subdomainPolicy: DMARCPolicy? = nil, nonExistentPolicy: DMARCPolicy? = nil,
        publicSuffix: DMARCPublicSuffix? = nil, testing: Bool? = nil, dkimAlignment: DMARCAlignment? = nil,
        spfAlignment: DMARCAlignment? = nil, aggregateReportURIs: [DMARCURI]? = nil, failureReportURIs: [DMARCURI]? = nil,
        failureOptions: [DMARCFailureOption]? = nil, removedTags: [DMARCTag] = [], unknownTags: [DMARCTag] = []
    ) {
        self.policy = policy
        self.subdomainPolicy = subdomainPolicy
        self.nonExistentPolicy = nonExistentPolicy
        self.publicSuffix = publicSuffix
        self.testing = testing
        self.dkimAlignment = dkimAlignment
        self.spfAlignment = spfAlignment
        self.aggregateReportURIs = aggregateReportURIs
        self.failureReportURIs = failureReportURIs
        self.failureOptions = failureOptions
        self.removedTags = removedTags
        self.unknownTags = unknownTags
    }

    /// The tags removed by RFC 9989 (Appendix C.5.2): they have no effect any more.
    public static let removedTagNames: Set<String> = ["pct", "rf", "ri"]

    /// `p`, or `none` when it is absent (RFC 9989 §4.7).
    public var effectivePolicy: DMARCPolicy { policy ?? .none }
    /// `sp`, else `p` (RFC 9989 §4.7).
    public var effectiveSubdomainPolicy: DMARCPolicy { subdomainPolicy ?? effectivePolicy }
    /// `np`, else `sp`, else `p` (RFC 9989 §4.7).
    public var effectiveNonExistentPolicy: DMARCPolicy { nonExistentPolicy ?? effectiveSubdomainPolicy }
    /// True when `t=y` (RFC 9989 §4.7).
    public var isTesting: Bool { testing ?? false }

    /// The canonical form: `v=DMARC1`, the known tags in the order of RFC 9989 §4.7's table,
    /// then the removed and unknown tags as written, separated by "; ".
    public var description: String {
        var parts = ["v=DMARC1"]
        if let policy { parts.append("p=\(policy.rawValue)") }
        if let subdomainPolicy { parts.append("sp=\(subdomainPolicy.rawValue)") }
        if let nonExistentPolicy { parts.append("np=\(nonExistentPolicy.rawValue)") }
        if let publicSuffix { parts.append("psd=\(publicSuffix.rawValue)") }
        if let testing { parts.append("t=\(testing ? "y" : "n")") }
        if let dkimAlignment { parts.append("adkim=\(dkimAlignment.rawValue)") }
        if let spfAlignment { parts.append("aspf=\(spfAlignment.rawValue)") }
        if let aggregateReportURIs { parts.append("rua=" + aggregateReportURIs.map(\.description).joined(separator: ",")) }
        if let failureReportURIs { parts.append("ruf=" + failureReportURIs.map(\.description).joined(separator: ",")) }
        if let failureOptions { parts.append("fo=" + failureOptions.map(\.rawValue).joined(separator: ":")) }
        parts += removedTags.map(\.description) + unknownTags.map(\.description)
        return parts.joined(separator: "; ")
    }
}

/// A Domain Owner Assessment Policy: `none`, `quarantine` or `reject` (RFC 9989 §4.7).
/// Ordered by strength, so `sp < p` means the subdomain policy is weaker.
public enum DMARCPolicy: String, Hashable, Sendable, CaseIterable, Comparable {
    case none, quarantine, reject

    /// True for `quarantine` and `reject`: Enforcement (RFC 9989 §3.2.9).
    public var isEnforcing: Bool { self != .none }

    public static func < (lhs: DMARCPolicy, rhs: DMARCPolicy) -> Bool {
        allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
    }
}

/// The `psd` flag (RFC 9989 §4.7): `y` a Public Suffix Domain, `n` an Organizational Domain,
/// `u` let the DNS tree walk decide.
public enum DMARCPublicSuffix: String, Hashable, Sendable, CaseIterable {
    case yes = "y", no = "n", undetermined = "u"
}

/// Identifier alignment mode for `adkim` and `aspf` (RFC 9989 §4.7).
public enum DMARCAlignment: String, Hashable, Sendable, CaseIterable {
    case relaxed = "r", strict = "s"
}

/// A failure reporting option of `fo` (RFC 9989 §4.7).
public enum DMARCFailureOption: String, Hashable, Sendable, CaseIterable {
    /// Report when every mechanism fails to give an aligned pass.
    case all = "0"
    /// Report when any mechanism fails to give an aligned pass.
    case any = "1"
    /// Report DKIM signatures that fail to verify.
    case dkim = "d"
    /// Report SPF failures.
    case spf = "s"
}

/// A tag kept as written: a removed tag (`pct`, `rf`, `ri`) or one DMARC does not define.
///
/// The parser lower-cases the name.
public typealias DMARCTag = TagListTag
