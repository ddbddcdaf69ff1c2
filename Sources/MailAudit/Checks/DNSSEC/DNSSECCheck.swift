import MailAuditCore

/// Whether the domain's answers and those of each MX host's zone are DNSSEC-secure, unsigned
/// or bogus, as a resolver the user names as validating says (`--trust-resolver-ad`).
struct DNSSECCheck: Check {
    var selection: AuditCheck? { .dnssec }

    func findings(in context: AuditContext) async -> [Finding] {
        guard context.options.trustResolverAD else {
            return [Finding(
                "dnssec.not-validated", .info, subject: .domain(context.domain),
                message: "DNSSEC was not checked: no resolver was named as validating",
                remedy: "Run with --resolver naming a validating resolver (Unbound, BIND, Knot Resolver) and --trust-resolver-ad.",
                reference: "RFC 4035 §4.9.3")]
        }
        let routing = await context.routing()
        var findings = [DNSSECRules.finding(for: context.domain, answer: routing.mxAnswer, isMailHost: false)]
        var seen: Set<DomainName> = []
        for host in routing.hosts where !host.name.labels.isEmpty && seen.insert(host.name).inserted {
            if let answer = host.ipv4 ?? host.ipv6 {
                findings.append(DNSSECRules.finding(for: host.name, answer: answer, isMailHost: true))
            }
        }
        return findings
    }
}

/// The DNSSEC verdict on one answer: pure.
enum DNSSECRules {
    static let source = "DNSSEC status: the AD bit of the resolver, trusted as validating (--trust-resolver-ad)"

    static func finding(for name: DomainName, answer: DNSAnswer, isMailHost: Bool) -> Finding {
        let subject = isMailHost ? FindingSubject(host: name.description) : .domain(name)
        let what = isMailHost ? "the MX host \(name)" : "\(name)"
        let evidence = answer.evidence + [source]
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
                message: "could not tell whether the answers for \(what) are DNSSEC-secure (\(answer.outcome.summary))",
                evidence: evidence, remedy: "Run the audit again; if it persists, check the name servers of \(name).",
                reference: "RFC 4035 §4.3")
        }
    }
}
