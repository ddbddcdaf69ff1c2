public import MailAuditCore

/// None, one, or several records of one kind among the TXT records at a name: how SPF
/// (RFC 7208 §4.5) and DMARC (RFC 9989 §4.10) choose their record. What each outcome means
/// is the caller's rule: an SPF evaluation returns "none" or "permerror", a DMARC receiver
/// discards every record when there are several.
///
/// ```swift
/// RecordSelectionOutcome(candidates: [])                          // .none
/// RecordSelectionOutcome(candidates: ["v=spf1 -all"])             // .record("v=spf1 -all")
/// RecordSelectionOutcome(candidates: ["v=spf1 -all", "v=spf1 a"]) // .multiple([...]), in the order given
/// ```
public enum RecordSelectionOutcome: Hashable, Sendable {
    /// No record of the kind.
    case none
    /// Exactly one record.
    case record(String)
    /// More than one, in the order given.
    case multiple([String])

    /// Classifies `candidates`, the records of the kind in the order they were given.
    public init(candidates: [String]) {
        switch candidates.count {
        case 0: self = .none
        case 1: self = .record(candidates[0])
        default: self = .multiple(candidates)
        }
    }

    /// The single record, or nil when there is none or more than one.
    public var selected: String? {
        if case .record(let text) = self { text } else { nil }
    }
}

/// How one kind of TXT record is told from the other TXT records at its name.
public protocol TXTRecordKind {
    /// Whether `text` (a TXT record, its strings joined) is a record of the kind.
    static func matches(_ text: String) -> Bool
    /// The version word, lower-cased, that marks a record meant as one of the kind ("dmarc1").
    static var versionWord: String { get }
}

/// The record of one kind chosen among the TXT records at a name: DMARC (RFC 9989 §4.10),
/// MTA-STS (RFC 8461 §3.1), TLS-RPT (RFC 8460 §3) and BIMI. Each TXT record's strings are
/// joined with no separator; records that are not of the kind are discarded, and what several
/// of the kind mean is the caller's rule.
///
/// ```swift
/// DMARCRecordSelection(texts: ["v=DMARC1; p=none", "some-verification=abc"]).outcome  // .record("v=DMARC1; p=none")
/// DMARCRecordSelection(texts: ["p=reject; v=DMARC1"]).nearMisses   // ["p=reject; v=DMARC1"]: ignored by receivers
/// ```
public struct TXTRecordSelection<Kind: TXTRecordKind>: Hashable, Sendable {
    /// Every TXT record, joined, in the order given.
    public let texts: [String]
    /// The records of the kind.
    public let candidates: [String]
    /// Records that mention the version word (in any case) but are not of the kind: receivers
    /// ignore them, though their publisher meant them as records of the kind.
    public let nearMisses: [String]

    public init(texts: [String]) {
        self.texts = texts
        candidates = texts.filter(Kind.matches)
        nearMisses = texts.filter { !Kind.matches($0) && $0.lowercasedASCII.contains(Kind.versionWord) }
    }

    /// Selects among the TXT records of an answer; records of other types are ignored.
    public init(records: [DNSRecord]) {
        self.init(texts: records.compactMap(\.data.joinedText))
    }

    public typealias Outcome = RecordSelectionOutcome

    /// None, one, or several records of the kind.
    public var outcome: Outcome { Outcome(candidates: candidates) }

    /// True when `text` starts with `version` (case-sensitive), followed by the end, whitespace
    /// or ";": how MTA-STS's `v=STSv1` and TLS-RPT's `v=TLSRPTv1` are recognised.
    public static func startsWithVersion(_ text: String, _ version: String) -> Bool {
        guard text.hasPrefix(version) else { return false }
        return endsTag(text.dropFirst(version.count))
    }

    /// `v *WSP "=" *WSP value`, then the end, whitespace or ";": DMARC's and BIMI's version tag.
    static func startsWithVersionTag(_ text: Substring, value: String, nameMatches: (Character) -> Bool) -> Bool {
        guard let name = text.first, nameMatches(name) else { return false }
        var rest = text.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard rest.first == "=" else { return false }
        rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        guard rest.hasPrefix(value) else { return false }
        return endsTag(rest.dropFirst(value.count))
    }

    private static func endsTag(_ rest: Substring) -> Bool {
        rest.isEmpty || rest.first == ";" || rest.first == " " || rest.first == "\t"
    }
}
