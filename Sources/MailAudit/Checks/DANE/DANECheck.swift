import MailAuditCore
import MailAuditSMTP

/// DANE for SMTP (RFC 7672): the TLSA records at `_25._tcp.<mx host>`, used only when their
/// answer is DNSSEC-secure, matched against the chain each MX address presented to the probe.
struct DANECheck: Check {
    var selection: AuditCheck? { .dane }

    func findings(in context: AuditContext) async -> [Finding] {
        let routing = await context.routing()
        let hosts = routing.hosts.map(\.name).filter { !$0.labels.isEmpty && MXRules.ipLiteral(in: $0) == nil }
        let resolver = context.resolver
        let answers = await hosts.mapConcurrently { await resolver.resolve(Self.tlsaName($0), .tlsa) }
        let published = zip(hosts, answers).filter { !$0.1.records.isEmpty || $0.1.outcome.isInconclusive }
        guard !published.isEmpty else {
            return hosts.isEmpty ? [] : [Finding(
                "dane.absent", .info, subject: .domain(context.domain),
                message: "no MX host of \(context.domain) publishes TLSA records: DANE is not deployed",
                evidence: answers.flatMap(\.evidence),
                remedy: "To have senders authenticate your MX hosts, sign the zones with DNSSEC and publish, for each host, "
                    + "_25._tcp.<host> IN TLSA 3 1 1 <SHA-256 of the certificate's public key>.",
                reference: "RFC 7672 §2")]
        }
        let probed = await context.probeResults()
        var findings: [Finding] = []
        let judged = await published.mapConcurrently { await context.judged($0.1) }
        for ((host, _), (answer, trail)) in zip(published, judged) {
            findings += DANERules.findings(
                host: host, answer: answer, probes: probed.filter { $0.0.hostNames.contains(host) }.map(\.1),
                probeRan: context.options.probe != nil && context.options.checks.contains(.probe),
                dnssecSource: [context.dnssecMethod ?? "DNSSEC status: not validated (no trust anchor, and no validating resolver named)"]
                    + trail)
        }
        return findings
    }

    static func tlsaName(_ host: DomainName) -> DomainName {
        DomainName(labels: ["_25", "_tcp"] + host.labels)
    }
}
