import MailAuditCore
import MailAuditRecords

/// Whether DMARC is at enforcement as BIMI requires (draft-brand-indicators-for-message-identification-10
/// §1: "quarantine" for all mail or "reject", no subdomain policy of "none", published for the
/// Organizational Domain), read the way mailbox providers apply it: no `pct` below 100 and no
/// `t=y` either.
///
/// ```swift
/// BIMIDMARCRule.judge(dmarcResult)   // .enforced("p=reject at _dmarc.example.com"), or .notEnforced(["… has p=none"])
/// ```
public enum BIMIDMARCRule {
    public enum Verdict: Hashable, Sendable {
        case enforced(String)
        /// Every reason the policy falls short, for people.
        case notEnforced([String])
        /// A lookup failed, so it is not known.
        case unknown(String)
    }

    public static func judge(_ result: DMARCResult) -> Verdict {
        let discovery = result.discovery
        guard let governing = discovery.governing, let source = discovery.source else {
            if let failed = discovery.failedStep, case .lookupFailed(let outcome) = failed.content {
                return .unknown("the lookup of \(failed.name) TXT failed (\(outcome.summary))")
            }
            return .notEnforced(["no DMARC record governs \(discovery.domain)"])
        }
        guard let record = governing.record else {
            return .notEnforced(["the DMARC record at \(governing.name) is invalid, so receivers apply no DMARC policy"])
        }
        var reasons: [String] = []
        let name = governing.name
        if source == .ownRecord {
            if !record.effectivePolicy.isEnforcing { reasons.append("\(name) has p=none") }
        } else {
            if !record.effectiveSubdomainPolicy.isEnforcing {
                reasons.append("\(discovery.domain) inherits sp=none from \(name)")
            }
            if source == .organizationalDomain && !record.effectivePolicy.isEnforcing {
                reasons.append("the Organizational Domain's own policy at \(name) is p=none")
            }
        }
        reasons += shortfalls(record, at: name)
        if let organization = discovery.organizationalDomain, organization != governing.domain,
           let step = discovery.steps.first(where: { $0.domain == organization }), let parent = step.record {
            if !parent.effectivePolicy.isEnforcing { reasons.append("the Organizational Domain's record at \(step.name) has p=none") }
            reasons += shortfalls(parent, at: step.name)
        }
        guard reasons.isEmpty else { return .notEnforced(reasons) }
        let applied = source == .ownRecord ? "p=\(record.effectivePolicy.rawValue)" : "sp=\(record.effectiveSubdomainPolicy.rawValue)"
        return .enforced("\(applied) at \(name)")
    }

    /// `sp=none`, `t=y` and `pct` below 100 in one record.
    private static func shortfalls(_ record: DMARCRecord, at name: DomainName) -> [String] {
        var reasons: [String] = []
        if record.subdomainPolicy == DMARCPolicy.none { reasons.append("\(name) has sp=none") }
        if record.isTesting { reasons.append("\(name) has t=y (testing): receivers apply a policy one level less strict") }
        if let pct = record.removedTags.first(where: { $0.name == "pct" }), let percent = Int(pct.value), percent < 100 {
            reasons.append("\(name) has pct=\(percent): the policy covers only part of the mail")
        }
        return reasons
    }
}
