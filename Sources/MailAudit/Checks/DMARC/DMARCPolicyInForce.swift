import MailAuditCore
public import MailAuditRecords

/// What receivers actually do with the record that governs a domain, where that differs from
/// what the record says: test mode, a record with no policy, and tags that fail to parse.
extension DMARCRules {
    /// The policy receivers apply for `policy` in test mode (RFC 9989 §4.7, `t`): one level
    /// less, so reject is applied as quarantine and quarantine as none.
    public static func testModePolicy(_ policy: DMARCPolicy) -> DMARCPolicy {
        switch policy {
        case .reject: .quarantine
        case .quarantine, .none: .none
        }
    }

    /// True when the record puts no DMARC policy in force at all: it has no valid `p` and no
    /// `rua` with a valid address, so receivers treat the domain as having no record
    /// (RFC 9989 §4.10.1); with such a `rua` they would act as if `p=none`.
    static func putsNoPolicyInForce(_ record: DMARCRecord) -> Bool {
        record.policy == nil && (record.aggregateReportURIs ?? []).isEmpty
    }

    /// The record receivers read when one tag is invalid: each tag that fails is ignored
    /// (RFC 9989 §4.8). When the policy that applies (`p` for the domain itself, `sp` for a
    /// subdomain) is the invalid one, there is no valid policy: receivers act as if `p=none`
    /// when `rua` holds a valid address, and apply no DMARC otherwise (§4.10.1).
    /// Nil when even `v=DMARC1` cannot be read.
    static func recordReceiversApply(_ text: String, source: DMARCDiscovery.Source) -> (record: DMARCRecord, ignored: [String])? {
        guard case (var record, let ignored)? = salvageIgnoring(text) else { return nil }
        if source != .ownRecord && ignored.contains("sp") {
            record.policy = nil
            record.subdomainPolicy = nil
        }
        return (record, ignored)
    }

    /// What can be kept of an invalid record, and the names of the tags dropped: it is parsed
    /// again without each tag that fails, up to 20 times; nil when even `v=DMARC1` cannot be read.
    static func salvageIgnoring(_ text: String) -> (record: DMARCRecord, ignored: [String])? {
        var segments = text.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var ignored: [String] = []
        for _ in 0..<20 {
            let candidate = segments.joined(separator: ";")
            do throws(DMARCParseError) {
                return (try DMARCRecord(parsing: candidate), ignored)
            } catch {
                if case .notDMARCVersion = error.reason { return nil }
                // Drop the segment that holds the error's offset.
                var start = 0
                guard let index = segments.firstIndex(where: { segment in
                    defer { start += segment.unicodeScalars.count + 1 }
                    return error.offset >= start && error.offset <= start + segment.unicodeScalars.count
                }), index > 0 else { return nil }
                let name = segments[index].split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                ignored.append(name.trimmingCharacters(in: [" ", "\t"]).lowercased())
                segments.remove(at: index)
            }
        }
        return nil
    }

    /// `dmarc.no-policy`: a record that puts no policy in force, with the record to publish.
    static func noPolicyFinding(_ record: DMARCRecord, governing: DMARCWalkStep, domain: DomainName, ignored: [String], walk: [String]) -> Finding {
        let text = governing.recordText ?? record.description
        let why = ignored.contains("p") || ignored.contains("sp") ? "its policy tag is invalid and it has no rua tag" : "it has no p tag and no rua tag"
        var suggestion = record
        suggestion.policy = DMARCPolicy.none
        return Finding(
            "dmarc.no-policy", .warning, subject: .domain(domain),
            message: "the DMARC record at \(governing.name) puts no DMARC policy in force for \(domain): \(why), so receivers treat \(domain) as if it published no DMARC record",
            evidence: [text] + walk,
            remedy: "Publish a policy with aggregate reports, starting in monitoring mode: \(suggestedRecord(suggestion, owner: governing.domain))",
            reference: "RFC 9989 §4.10.1")
    }
}

extension DMARCResult {
    /// The policy receivers apply to the audited domain: ``applicablePolicy`` after test mode
    /// (`t=y` applies one level less, RFC 9989 §4.7); nil when no record governs, or when the
    /// record puts no policy in force (no `p` and no valid `rua`, RFC 9989 §4.10.1).
    public var policyInForce: DMARCPolicy? {
        guard let record = discovery.governing?.record, let policy = applicablePolicy,
              !DMARCRules.putsNoPolicyInForce(record) else { return nil }
        return record.isTesting ? DMARCRules.testModePolicy(policy) : policy
    }
}
