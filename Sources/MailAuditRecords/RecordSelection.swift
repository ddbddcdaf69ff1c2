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
