import Foundation
import MailAuditCore
import MailAuditSMTP

/// STARTTLS and the certificate of every MX address, from the probes the context shares.
struct ProbeCheck: Check {
    var selection: AuditCheck? { .probe }

    func findings(in context: AuditContext) async -> [Finding] {
        guard let probe = context.options.probe else { return [] }
        let targets = await context.routing().probeTargets
        let probed = await context.probeResults()
        // The PTR names sharpen the certificate-name verdict when reverse DNS is checked too.
        let reverse = context.options.checks.contains(.rdns) ? await context.mailHostReverseDNS() : []
        var findings: [Finding] = []
        for target in targets where !context.options.mayProbe(target.address) {
            let names = target.hostNames.map(\.description).joined(separator: ", ")
            findings.append(Finding(
                "smtp.not-probed", .info, subject: FindingSubject(host: names, address: target.address.description),
                message: "\(names) [\(target.address)] was not probed: the address is \(target.address.nonPublicRange ?? "not public")",
                evidence: ["\(target.address): \(target.address.nonPublicRange ?? "not public")"],
                remedy: "For lab and intranet domains, pass --allow-private-addresses to probe such addresses.",
                reference: "RFC 6890"))
        }
        let notStarted = probed.filter { $0.1.outcome == .notStarted }
        if !notStarted.isEmpty {
            findings.append(Finding(
                "smtp.probe-not-started", .inconclusive, subject: .domain(context.domain),
                message: "\(notStarted.count) MX address\(notStarted.count == 1 ? " was" : "es were") not probed: their turn came after the audit's deadline",
                evidence: MXRules.sample(notStarted.map { "\($0.0.hostNames[0]) [\($0.0.address)]" }),
                remedy: "Run again with a longer --deadline, or with a higher --probes-per-network.",
                reference: "RFC 5321 §5.1"))
        }
        for (target, result) in probed where result.outcome != .notStarted {
            let ptrNames = reverse.first { $0.address == target.address }?.ptrAnswer.records.compactMap { record -> DomainName? in
                if case .ptr(let name) = record.data { name } else { nil }
            } ?? []
            findings += SMTPRules.findings(
                for: result, target: target, ptrNames: ptrNames, expiryWarningDays: probe.expiryWarningDays, now: context.now)
        }
        if let blocked = SMTPRules.blockedPortFinding(domain: context.domain, results: probed.map(\.1).filter { $0.outcome != .notStarted }) { findings.append(blocked) }
        return findings
    }
}

extension AuditOptions {
    /// Non-public addresses are probed only under --allow-private-addresses: from an auditor's
    /// network they would reach some other, local host.
    func mayProbe(_ address: IPAddress) -> Bool {
        address.nonPublicRange == nil || allowPrivateAddresses
    }
}

extension ProbeRunner {
    /// Probes every target at once (each address once per run), in the targets' order.
    nonisolated func probeAll(_ targets: [ProbeTarget]) async -> [(ProbeTarget, ProbeResult)] {
        await targets.mapConcurrently { target in (target, await self.probe(target.address, hostName: target.hostNames[0])) }
    }
}
