public import MailAuditCore
public import MailAuditRecords

/// DMARC verdicts: pure functions of what ``DMARCLookup`` fetched (RFC 9989).
public enum DMARCRules {
    /// Findings about the tree walk, the governing record and its report destinations.
    public static func findings(for result: DMARCResult) -> [Finding] {
        let discovery = result.discovery
        let domain = discovery.domain
        let subject = FindingSubject.domain(domain)
        let walk = walkLines(discovery)
        var findings: [Finding] = []

        for step in discovery.steps {
            switch step.content {
            case .multiple(let texts):
                findings.append(Finding(
                    "dmarc.multiple-records", .failure, subject: subject,
                    message: "\(step.name) has \(texts.count) DMARC records; receivers discard them all, as if there were none",
                    evidence: texts + walk,
                    remedy: "Keep one record at \(step.name), for example \(suggestedRecord(nil, owner: step.domain))",
                    reference: "RFC 9989 §4.10"))
            case .lookupFailed(.cnameLoop):
                findings.append(Finding(
                    "dmarc.cname-loop", .failure, subject: subject,
                    message: "\(step.name) runs into a CNAME loop, so receivers get a DNS error instead of a DMARC record there",
                    evidence: step.answer.evidence,
                    remedy: "Remove the CNAME records at \(step.name) that point back at each other, and publish the record itself, for example \(suggestedRecord(nil, owner: step.domain))",
                    reference: "RFC 1034 §3.6.2, RFC 9989 §4.10.1"))
            case .lookupFailed(let outcome):
                let consequence = step.domain == domain ? "the DMARC policy of \(domain) is unknown"
                    : discovery.ownStep.hasRecord ? "the Organizational Domain of \(domain) is unknown"
                    : "which DMARC record governs \(domain) is unknown"
                findings.append(Finding(
                    "dmarc.lookup-failed", .inconclusive, subject: subject,
                    message: "could not look up \(step.name) TXT (\(outcome.summary)), so \(consequence)",
                    evidence: step.answer.evidence,
                    remedy: "Run the audit again; if it persists, check the name servers of \(step.domain).",
                    reference: "RFC 9989 §4.10.1"))
            default:
                break
            }
            if !step.hasRecord, let text = step.nearMisses.first {
                findings.append(Finding(
                    "dmarc.syntax-error", .failure, subject: subject,
                    message: "a TXT record at \(step.name) mentions DMARC1 but does not start with \"v=DMARC1\", so receivers ignore it",
                    evidence: step.nearMisses,
                    remedy: "Start the record with v=DMARC1: \(suggestedRecord(salvage("v=DMARC1; " + text), owner: step.domain))",
                    reference: "RFC 9989 §4.7, §4.8"))
            }
        }

        guard let governing = discovery.governing, let source = discovery.source else {
            if discovery.failedStep == nil {
                let owner = discovery.organizationalDomain ?? domain
                findings.append(Finding(
                    "dmarc.none", .warning, subject: subject,
                    message: "no DMARC record governs \(domain): none at \(domain.prepending("_dmarc")) and none found by the DNS tree walk, so receivers apply no DMARC to its mail",
                    evidence: walk,
                    remedy: "Start in monitoring mode with aggregate reports: \(suggestedRecord(nil, owner: owner))",
                    reference: "RFC 9989 §4.10.1, §5.1.4"))
            }
            return findings
        }
        var record: DMARCRecord
        var ignored: [String] = []
        switch governing.content {
        case .record(let parsed, _):
            record = parsed
        case .invalid(let error, let text):
            findings.append(syntaxFinding(error, text: text, step: governing, domain: domain))
            // Receivers ignore the invalid tag and apply what remains (RFC 9989 §4.8): say what that is.
            guard let applied = recordReceiversApply(text, source: source) else { return findings }
            (record, ignored) = applied
        default:
            return findings
        }
        if putsNoPolicyInForce(record) {
            findings.append(noPolicyFinding(record, governing: governing, domain: domain, ignored: ignored, walk: walk))
            if source != .publicSuffixDomain {
                findings += tagFindings(record, governing: governing, domain: domain).filter { $0.id != "dmarc.no-rua" }
            }
            return findings
        }

        let why = switch source {
        case .ownRecord: "its own record at \(governing.name) governs it"
        case .organizationalDomain: "it has no record of its own; the record at \(governing.name) governs it, inherited by the DNS tree walk from its Organizational Domain"
        case .publicSuffixDomain: "it has no record of its own; the public suffix domain's record at \(governing.name) (psd=y) governs it, found by the DNS tree walk"
        }
        let stated = source == .ownRecord ? record.effectivePolicy : record.effectiveSubdomainPolicy
        let inForce = record.isTesting ? testModePolicy(stated) : stated
        var applied = source == .ownRecord ? "p=\(stated.rawValue)"
            : "sp=\(stated.rawValue) (np=\(record.effectiveNonExistentPolicy.rawValue) for names that do not exist)"
        applied += inForce == stated ? " applies" : " applies as \(inForce.rawValue): t=y (test mode) makes receivers apply one level less"
        if !ignored.isEmpty { applied += "; receivers ignore the invalid \(ignored.joined(separator: ", ")) tag\(ignored.count == 1 ? "" : "s")" }
        var facts: [String: Fact] = [
            "p": .text(record.effectivePolicy.rawValue), "sp": .text(record.effectiveSubdomainPolicy.rawValue),
            "governedBy": .text(governing.name.description),
            "rua": .list((record.aggregateReportURIs ?? []).map(\.description)),
        ]
        if inForce != stated { facts["inForce"] = .text(inForce.rawValue) }
        findings.append(Finding(
            "dmarc.record", .pass, subject: subject,
            message: "\(domain) is covered by DMARC: \(why); \(applied)",
            evidence: walk, reference: inForce == stated ? "RFC 9989 §4.10.1" : "RFC 9989 §4.10.1, §4.7", facts: facts))
        findings += policyFindings(record, result: result, governing: governing, source: source, stated: stated)
        // A public suffix operator's tags and report addresses are not the domain owner's to fix.
        if source != .publicSuffixDomain {
            findings += tagFindings(record, governing: governing, domain: domain)
            findings += destinationFindings(result.destinations, domain: domain, record: record, governing: governing)
        }
        return findings
    }

    // MARK: The policy

    private static func policyFindings(
        _ record: DMARCRecord, result: DMARCResult, governing: DMARCWalkStep, source: DMARCDiscovery.Source, stated: DMARCPolicy
    ) -> [Finding] {
        let domain = result.discovery.domain
        let subject = FindingSubject.domain(domain)
        let text = governing.recordText ?? record.description
        var findings: [Finding] = []
        if source == .publicSuffixDomain {
            let owner = result.discovery.organizationalDomain ?? domain
            let nobody = owner == domain ? "\(domain) (its own Organizational Domain)" : "neither \(domain) nor its Organizational Domain \(owner)"
            var own = DMARCRecord(policy: record.effectiveSubdomainPolicy)
            own.spfAlignment = record.spfAlignment
            own.dkimAlignment = record.dkimAlignment
            findings.append(Finding(
                "dmarc.governed-by-psd", .warning, subject: subject,
                message: "\(nobody) publishes no DMARC record; only the public suffix operator's policy at \(governing.name) covers it",
                evidence: [text], remedy: "Publish your own record: \(suggestedRecord(own, owner: owner))",
                reference: "RFC 9989 §4.10.1, §5.1.4"))
        }
        if stated == .none {
            let tag = source == .ownRecord ? (record.policy == nil ? "the record has no p tag, which counts as p=none" : "p=none")
                : (record.subdomainPolicy == nil ? "p=none applies to subdomains too" : "sp=none")
            findings.append(Finding(
                "dmarc.policy-none", .warning, subject: subject,
                message: "the DMARC policy for \(domain) is monitoring only (\(tag)): receivers take no action on mail that fails DMARC",
                evidence: [text],
                remedy: "Once the aggregate reports show that your legitimate mail passes, move to enforcement: \(suggestedRecord(record, owner: governing.domain, enforce: true))",
                reference: "RFC 9989 §4.7, §5.1.7"))
        }
        if record.isTesting && source != .publicSuffixDomain {
            findings.append(Finding(
                "dmarc.testing", .warning, subject: subject,
                message: "the DMARC record at \(governing.name) has t=y (test mode): receivers apply one level less than the policy (reject as quarantine, quarantine as none), so \(stated == .none ? "p=none stays none" : "\(source == .ownRecord ? "p" : "sp")=\(stated.rawValue) is applied as \(testModePolicy(stated).rawValue)")",
                evidence: [text], remedy: "When testing is over, remove t=y: \(suggestedRecord(record, owner: governing.domain))",
                reference: "RFC 9989 §4.7"))
        }
        let policy = record.effectivePolicy
        var weaker: [String] = []
        if let sp = record.subdomainPolicy, sp < policy { weaker.append("sp=\(sp.rawValue)") }
        if let np = record.nonExistentPolicy, np < policy { weaker.append("np=\(np.rawValue)") }
        if !weaker.isEmpty && source != .publicSuffixDomain {
            findings.append(Finding(
                "dmarc.weak-subdomain-policy", .warning, subject: subject,
                message: "the DMARC record at \(governing.name) sets \(weaker.joined(separator: " and ")), weaker than p=\(policy.rawValue): subdomains are an easier target for spoofing",
                evidence: [text], remedy: "Remove the weaker tags so subdomains get p=\(policy.rawValue): \(suggestedRecord(record, owner: governing.domain))",
                reference: "RFC 9989 §4.7"))
        }
        return findings
    }

    // MARK: Tags and report addresses

    private static func tagFindings(_ record: DMARCRecord, governing: DMARCWalkStep, domain: DomainName) -> [Finding] {
        let subject = FindingSubject.domain(domain)
        let text = governing.recordText ?? record.description
        var findings: [Finding] = []
        if (record.aggregateReportURIs ?? []).isEmpty {
            findings.append(Finding(
                "dmarc.no-rua", .warning, subject: subject,
                message: "the DMARC record at \(governing.name) has no rua tag: receivers send no aggregate reports, so nobody sees who sends mail as \(domain)",
                evidence: [text], remedy: "Add an address for aggregate reports: \(suggestedRecord(record, owner: governing.domain))",
                reference: "RFC 9989 §4.7, §5.1.3"))
        }
        if !record.removedTags.isEmpty {
            let names = record.removedTags.map(\.description).joined(separator: ", ")
            findings.append(Finding(
                "dmarc.removed-tag", .warning, subject: subject,
                message: "the DMARC record at \(governing.name) uses \(names), which RFC 9989 removed: \(record.removedTags.count == 1 ? "it has" : "they have") no effect",
                evidence: [text],
                remedy: "Remove \(record.removedTags.map(\.name).joined(separator: ", "))\(record.removedTags.contains { $0.name == "pct" } ? " (t=y replaces a partial pct)" : ""): \(suggestedRecord(record, owner: governing.domain))",
                reference: "RFC 9989 Appendix C.5.2, A.6"))
        }
        if !record.unknownTags.isEmpty {
            findings.append(Finding(
                "dmarc.unknown-tag", .info, subject: subject,
                message: "the DMARC record at \(governing.name) has tags DMARC does not define, which receivers ignore: \(record.unknownTags.map(\.description).joined(separator: ", "))",
                evidence: [text], remedy: "Check for typing mistakes: \(suggestedRecord(record, owner: governing.domain))",
                reference: "RFC 9989 §4.7"))
        }
        let others = ((record.aggregateReportURIs ?? []).map { ("rua", $0) } + (record.failureReportURIs ?? []).map { ("ruf", $0) })
            .filter { $0.1.scheme != "mailto" }
        if !others.isEmpty {
            findings.append(Finding(
                "dmarc.report-uri-not-mailto", .warning, subject: subject,
                message: "the DMARC record at \(governing.name) asks for reports at \(others.map { "\($0.0)=\($0.1)" }.joined(separator: ", ")); receivers must support only mailto: and ignore schemes they do not",
                evidence: [text], remedy: "Use mailto: addresses for reports.",
                reference: "RFC 9989 §4.7"))
        }
        return findings
    }

    private static func destinationFindings(
        _ destinations: [DMARCReportDestination], domain: DomainName, record: DMARCRecord, governing: DMARCWalkStep
    ) -> [Finding] {
        destinations.compactMap { destination in
            let uris = destination.uris.joined(separator: ", ")
            let record = destination.authorizationName.map { "\($0.fqdn) IN TXT \"v=DMARC1\"" } ?? "(the name is too long for DNS)"
            switch destination.status {
            case .sameOrganization:
                return nil
            case .authorized(let answer):
                return Finding(
                    "dmarc.external-report-authorised", .pass, subject: FindingSubject(record: destination.host.description),
                    message: "\(destination.host) accepts DMARC reports for \(destination.policyDomain) (\(uris))",
                    evidence: answer.evidence, reference: "RFC 9990 §3, RFC 9989 §11.6")
            case .unauthorized(let answer, let organization):
                return Finding(
                    "dmarc.external-report-unauthorised", .failure, subject: FindingSubject(record: destination.host.description),
                    message: "\(uris) of the DMARC record at \(governing.name) is outside its organisation (\(organization) is another Organizational Domain) and \(destination.host) does not authorise reports for \(destination.policyDomain), so receivers send none there",
                    evidence: answer.evidence,
                    remedy: "Ask the operator of \(destination.host) to publish \(record), or send the reports to an address at \(destination.policyDomain).",
                    reference: "RFC 9990 §3, RFC 9989 §11.6, RFC 7489 §7.1")
            case .undetermined(let answer, let reason):
                return Finding(
                    "dmarc.external-report-lookup-failed", .inconclusive, subject: FindingSubject(record: destination.host.description),
                    message: "could not tell whether \(destination.host) accepts DMARC reports for \(destination.policyDomain) (\(uris)): \(reason)",
                    evidence: answer?.evidence ?? [],
                    remedy: "Run the audit again. If \(destination.host) is outside your organisation it must publish \(record).",
                    reference: "RFC 9990 §3")
            }
        }
    }

    // MARK: Against SPF and DKIM

    /// The warning for an enforcing policy while SPF is missing or broken and no DKIM key was
    /// found: legitimate mail may fail DMARC and be rejected (RFC 9989 §5.1.6, §5.1.7).
    /// Nil when the policy does not enforce, SPF works, a DKIM key was found, or a lookup failed.
    public static func authenticationFinding(for result: DMARCResult, context: DMARCContext) -> Finding? {
        // The policy in force: p=quarantine with t=y is applied as none (RFC 9989 §4.7).
        guard let policy = result.policyInForce, policy.isEnforcing,
              !context.spfPublished || context.spfBroken, context.dkimKeysFound == 0,
              let governing = result.discovery.governing, let record = governing.record
        else { return nil }
        let domain = result.discovery.domain
        let spf = context.spfPublished ? "the SPF record is broken (permerror)" : "there is no SPF record"
        let tried = switch context.dkimSelectorsTried {
        // Nothing exists under _domainkey (RFC 8020), so no selector needed asking.
        case 0: "any selector (nothing exists under _domainkey.\(domain))"
        case 1: "the selector tried"
        default: "the \(context.dkimSelectorsTried) selectors tried"
        }
        // A monitoring record at the domain itself overrides an inherited one (RFC 9989 §4.10.1).
        var relaxed = result.discovery.source == .ownRecord ? record : DMARCRecord()
        relaxed.policy = DMARCPolicy.none
        relaxed.subdomainPolicy = nil
        relaxed.nonExistentPolicy = nil
        relaxed.publicSuffix = nil
        return Finding(
            "dmarc.enforcing-without-authentication", .warning, subject: .domain(domain),
            message: "the DMARC policy for \(domain) is \(policy.rawValue), but \(spf) and no usable DKIM key was found at \(tried): legitimate mail may fail DMARC and be \(policy == .reject ? "rejected" : "quarantined")",
            evidence: [governing.recordText ?? record.description],
            remedy: "Fix SPF and check that your mail is DKIM-signed (name its selector with --selector); until both work, monitor instead: \(suggestedRecord(relaxed, owner: domain))",
            reference: "RFC 9989 §5.1.6, §5.1.7")
    }

    // MARK: Helpers

    static func syntaxFinding(_ error: DMARCParseError, text: String, step: DMARCWalkStep, domain: DomainName) -> Finding {
        let id: FindingID = if case .badURI = error.reason { "dmarc.bad-report-uri" } else { "dmarc.syntax-error" }
        return Finding(
            id, .failure, subject: .domain(domain),
            message: "the DMARC record at \(step.name) is invalid: \(error). Receivers discard what they cannot read; with p, sp or np unreadable they act as if p=none when rua holds a valid address, and apply no DMARC otherwise",
            evidence: [text, String(repeating: " ", count: max(0, error.offset)) + "^"],
            remedy: "Correct \(error.tag.isEmpty ? "the record" : "the \(error.tag) tag"), for example: \(suggestedRecord(salvage(text), owner: step.domain))",
            reference: "RFC 9989 §4.8, §4.10.1")
    }

    /// What can be kept of an invalid record: it is parsed again without each tag that fails,
    /// up to 20 times; nil when even `v=DMARC1` cannot be read.
    static func salvage(_ text: String) -> DMARCRecord? {
        salvageIgnoring(text)?.record
    }

    /// A complete record to publish at `_dmarc.<owner>`: `record` with the removed, unknown and
    /// `t` tags dropped, `sp` and `np` no weaker than `p`, and a `rua` address when it has none.
    /// With `enforce`, `p=none` becomes `p=quarantine`.
    public static func suggestedRecord(_ record: DMARCRecord?, owner: DomainName, enforce: Bool = false) -> String {
        var suggestion = record ?? DMARCRecord()
        suggestion.removedTags = []
        suggestion.unknownTags = []
        suggestion.testing = nil
        var policy = suggestion.effectivePolicy
        if enforce && policy == .none { policy = .quarantine }
        suggestion.policy = policy
        if let sp = suggestion.subdomainPolicy, sp < policy { suggestion.subdomainPolicy = nil }
        if let np = suggestion.nonExistentPolicy, np < policy { suggestion.nonExistentPolicy = nil }
        if (suggestion.aggregateReportURIs ?? []).isEmpty {
            suggestion.aggregateReportURIs = [DMARCURI(mailbox: "dmarc-reports", at: owner)]
        }
        return "\(owner.prepending("_dmarc").fqdn) IN TXT \"\(suggestion)\""
    }

    /// The tree walk, one line a name: what was found, which record governs, and the
    /// Organizational Domain.
    public static func walkLines(_ discovery: DMARCDiscovery) -> [String] {
        var lines = discovery.steps.map { step -> String in
            let found: String = switch step.content {
            case .record(_, let text), .invalid(_, let text): "\"\(text)\""
            case .none: step.answer.records.isEmpty ? step.answer.outcome.summary : "no DMARC record among \(step.answer.records.count) TXT records"
            case .multiple(let texts): "\(texts.count) DMARC records, all discarded"
            case .lookupFailed(let outcome): outcome.summary
            }
            var notes: [String] = []
            if step.domain == discovery.governing?.domain { notes.append("governs \(discovery.domain)") }
            if step.domain == discovery.organizationalDomain && step.hasRecord { notes.append("Organizational Domain") }
            if step.hasRecord && step.publicSuffix != .undetermined { notes.append("psd=\(step.publicSuffix.rawValue) ends the walk") }
            return "\(step.name.fqdn) TXT: \(found)" + (notes.isEmpty ? "" : "  <- " + notes.joined(separator: "; "))
        }
        if let organizational = discovery.organizationalDomain {
            lines.append("Organizational Domain of \(discovery.domain): \(organizational) (RFC 9989 §4.10.2)")
        } else {
            lines.append("Organizational Domain of \(discovery.domain): unknown, a lookup failed")
        }
        return lines
    }
}
