import MailAuditCore

/// Whether the domain's answers and those of each MX host's zone are DNSSEC-secure, unsigned
/// or bogus: validated here from a trust anchor, or as a resolver the user names as validating
/// says (`--trust-resolver-ad`).
struct DNSSECCheck: Check {
    var selection: AuditCheck? { .dnssec }

    func findings(in context: AuditContext) async -> [Finding] {
        guard let method = context.dnssecMethod else {
            return [Finding(
                "dnssec.not-validated", .info, subject: .domain(context.domain),
                message: "DNSSEC was not checked: there is no trust anchor, and no resolver was named as validating",
                remedy: "Install the root trust anchor (Debian: dns-root-data) or give --trust-anchor FILE; or name a "
                    + "validating resolver with --resolver and --trust-resolver-ad.",
                reference: "RFC 4035 §4.9.3")]
        }
        let routing = await context.routing()
        var targets: [(DomainName, DNSAnswer, Bool)] = [(context.domain, routing.mxAnswer, false)]
        var seen: Set<DomainName> = []
        for host in routing.hosts where !host.name.labels.isEmpty && seen.insert(host.name).inserted {
            if let answer = host.ipv4 ?? host.ipv6 { targets.append((host.name, answer, true)) }
        }
        return await targets.mapConcurrently { name, answer, isMailHost in
            let (judged, trail) = await context.judged(answer)
            return DNSSECRules.finding(for: name, answer: judged, isMailHost: isMailHost, evidence: [method] + trail)
        }
    }
}

/// The DNSSEC verdict on one answer: pure.
enum DNSSECRules {
    static func finding(for name: DomainName, answer: DNSAnswer, isMailHost: Bool, evidence method: [String]) -> Finding {
        let subject = isMailHost ? FindingSubject(host: name.description) : .domain(name)
        let what = isMailHost ? "the MX host \(name)" : "\(name)"
        let evidence = answer.evidence + method
        switch answer.dnssec {
        case .secure:
            return Finding("dnssec.secure", .pass, subject: subject,
                           message: "the answers for \(what) are DNSSEC-signed and validate (secure)",
                           evidence: evidence, reference: "RFC 4035 §4.3")
        case .insecure:
            return Finding(
                "dnssec.unsigned", isMailHost ? .info : .warning, subject: subject,
                message: "the answers for \(what) are not DNSSEC-signed (insecure): they can be forged, and DANE cannot be used",
                evidence: evidence,
                remedy: "Sign the zone of \(name) with DNSSEC and publish its DS record at the parent zone.",
                reference: "RFC 4033 §5, RFC 4035 §4.3")
        case .bogus(let reason):
            return Finding(
                "dnssec.bogus", .failure, subject: subject,
                message: "the answers for \(what) fail DNSSEC validation (bogus): validating resolvers refuse them, so mail "
                    + (isMailHost ? "to this host fails for their users" : "to and from \(name) fails for their users"),
                evidence: evidence + ["reason: \(reason)"],
                remedy: "Re-sign the zone of \(name) (expired or broken signatures), or make the DS at the parent match a published key.",
                reference: "RFC 4035 §5.5")
        case .indeterminate:
            return Finding(
                "dnssec.lookup-failed", .inconclusive, subject: subject,
                message: "could not tell whether the answers for \(what) are DNSSEC-secure ("
                    + (answer.outcome.isInconclusive ? answer.outcome.summary : "the chain of trust could not be followed") + ")",
                evidence: evidence, remedy: "Run the audit again; if it persists, check the name servers of \(name).",
                reference: "RFC 4035 §4.3")
        }
    }
}
