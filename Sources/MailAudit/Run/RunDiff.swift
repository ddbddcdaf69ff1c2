import Foundation
public import MailAuditCore

/// One difference between a domain's previous run and this one.
public struct FindingChange: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// A finding this run has that the previous did not.
        case new
        /// A problem (warning, failure) the previous run had that this one does not.
        case resolved
        /// A passing or informational finding the previous run had that this one does not:
        /// something that was there is gone (a DKIM key, the MX records).
        case gone
        /// The same finding (id and subject) with another severity.
        case severity
        /// The same finding with a meaningful change in the values it judged.
        case facts
        /// One finding gave way to another of the same area and subject, for example
        /// `spf.lookups-near-limit` → `spf.too-many-lookups`.
        case replaced
    }

    public var kind: Kind
    public var domain: String
    /// The finding's id now (for `resolved`, the id it had).
    public var id: FindingID
    /// For `replaced`, the id it had before.
    public var previousID: FindingID?
    /// The subject as people read it, and its stable key.
    public var subject: String
    public var key: String
    public var severity: Severity
    public var previousSeverity: Severity?
    /// The finding's message now (for `resolved`, the one it had).
    public var message: String
    public var facts: [FactChange]

    /// One line for people: "dmarc.record example.com: p reject → none".
    public var summary: String {
        switch kind {
        case .new: "new \(severity): \(message)"
        case .resolved: "resolved (was \(severity)): \(message)"
        case .gone: "no longer seen (was \(severity)): \(message)"
        case .severity: "\(previousSeverity.map { "\($0) → " } ?? "")\(severity): \(message)"
        case .facts: facts.map(\.summary).joined(separator: "; ")
        case .replaced:
            "\(previousID.map { "\($0) → " } ?? "")\(id) (\(previousSeverity.map { "\($0) → " } ?? "")\(severity)): \(message)"
                + (facts.isEmpty ? "" : " [" + facts.map(\.summary).joined(separator: "; ") + "]")
        }
    }
}

/// A fact that changed: its name and both values.
public struct FactChange: Hashable, Sendable, Codable {
    public var name: String
    public var before: Fact?
    public var after: Fact?

    /// "lookups 9 → 11", "p reject → none", "includes +include:b.test −include:a.test".
    public var summary: String {
        if case .list(let old)? = before, case .list(let new)? = after {
            let added = new.filter { !old.contains($0) }.map { "+\($0)" }
            let removed = old.filter { !new.contains($0) }.map { "−\($0)" }
            if !(added + removed).isEmpty { return "\(name) " + (added + removed).joined(separator: " ") }
        }
        return "\(name) \(before?.description ?? "(none)") → \(after?.description ?? "(none)")"
    }
}

/// What changed between two runs of one domain. Findings are matched by id and subject key;
/// messages are never compared, since they may carry values that move every day.
///
/// Meaningful fact changes: any change of a policy, a record, a list (MX set, SPF includes,
/// DKIM selectors), a key, a certificate fingerprint or a TLS version; the SPF lookup count
/// only when it crosses 8 or 10; dates (certificate expiry) only when the certificate's
/// fingerprint changed too. Crossing the expiry warning threshold shows as another finding id.
public enum RunDiff {
    public static func changes(from previous: [Finding], to current: [Finding], domain: String) -> [FindingChange] {
        func key(_ finding: Finding) -> String { "\(finding.id)#\(finding.subject.key)" }
        // One finding per id and subject on each side: the most severe (an address that is both
        // a sending address and an MX address gets two reverse-DNS verdicts).
        let previous = mostSevere(previous, key: key)
        let current = mostSevere(current, key: key)
        let before = Dictionary(previous.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(current.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        // Where either run could not check something (a timeout, SERVFAIL), what appears or
        // disappears about that subject is not news: the next complete run will tell.
        let unchecked = Set((previous + current).filter { $0.severity == .inconclusive }.map { "\($0.id.area)#\($0.subject.key)" })
        func checked(_ finding: Finding) -> Bool { !unchecked.contains("\(finding.id.area)#\(finding.subject.key)") }
        var changes: [FindingChange] = []

        for finding in current {
            guard let old = before[key(finding)] else { continue }
            let facts = meaningfulChanges(old.facts, finding.facts)
            if old.severity != finding.severity {
                changes.append(change(.severity, finding, previous: old, facts: facts, domain: domain))
            } else if !facts.isEmpty {
                changes.append(change(.facts, finding, previous: old, facts: facts, domain: domain))
            }
        }
        var appeared = current.filter { before[key($0)] == nil && checked($0) }
        var vanished = previous.filter { after[key($0)] == nil && checked($0) }
        // Pair a vanished finding with an appeared one of the same area and subject.
        for old in vanished {
            guard let index = appeared.firstIndex(where: { $0.id.area == old.id.area && $0.subject.key == old.subject.key
                && !Set($0.facts.keys).isDisjoint(with: old.facts.keys) }) else { continue }
            let new = appeared.remove(at: index)
            vanished.removeAll { key($0) == key(old) }
            changes.append(change(.replaced, new, previous: old, facts: allChanges(old.facts, new.facts), domain: domain))
        }
        changes += appeared.map { change(.new, $0, previous: nil, facts: [], domain: domain) }
        changes += vanished.map { change($0.severity >= .inconclusive ? .resolved : .gone, $0, previous: nil, facts: [], domain: domain) }
        return changes.sorted { ($0.severity, $0.id.rawValue, $0.key) > ($1.severity, $1.id.rawValue, $1.key) }
    }

    /// The fact changes that count (see the type's comment).
    static func meaningfulChanges(_ old: [String: Fact], _ new: [String: Fact]) -> [FactChange] {
        let fingerprintChanged = old["fingerprint"] != new["fingerprint"]
        return allChanges(old, new).filter { change in
            switch change.name {
            case "lookups": lookupBand(change.before) != lookupBand(change.after)
            case "notAfter": fingerprintChanged
            default: true
            }
        }
    }

    static func allChanges(_ old: [String: Fact], _ new: [String: Fact]) -> [FactChange] {
        Set(old.keys).union(new.keys).sorted().compactMap { name in
            old[name] == new[name] ? nil : FactChange(name: name, before: old[name], after: new[name])
        }
    }

    /// Below the near-limit mark, near the limit, over it (RFC 7208 §4.6.4 allows 10): the same
    /// bands as the SPF findings' ids.
    static func lookupBand(_ fact: Fact?) -> Int {
        guard case .int(let count)? = fact else { return -1 }
        return count < SPFRules.nearLimit ? 0 : count <= SPFRules.lookupLimit ? 1 : 2
    }

    private static func mostSevere(_ findings: [Finding], key: (Finding) -> String) -> [Finding] {
        var seen: [String: Int] = [:]
        var kept: [Finding] = []
        for finding in findings {
            if let index = seen[key(finding)] {
                if finding.severity > kept[index].severity { kept[index] = finding }
            } else {
                seen[key(finding)] = kept.count
                kept.append(finding)
            }
        }
        return kept
    }

    private static func change(_ kind: FindingChange.Kind, _ finding: Finding, previous: Finding?, facts: [FactChange], domain: String) -> FindingChange {
        FindingChange(
            kind: kind, domain: domain, id: finding.id, previousID: kind == .replaced ? previous?.id : nil,
            subject: finding.subject.description, key: finding.subject.key, severity: finding.severity,
            previousSeverity: previous?.severity, message: finding.message, facts: facts)
    }
}
