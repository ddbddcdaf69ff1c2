import MailAuditCore
import MailAuditRecords

/// The SPF tree's verdicts, and check_host() for each sending address with the domain's
/// postmaster as the sender (RFC 7208).
struct SPFCheck: Check {
    var selection: AuditCheck? { .spf }

    func findings(in context: AuditContext) async -> [Finding] {
        async let senders = evaluateSenders(context)
        let tree = await context.spfTree()
        let hasMailHosts = await !context.routing().hosts.filter { $0.name != .root }.isEmpty
        return SPFRules.findings(for: tree, hasMailHosts: hasMailHosts) + (await senders)
    }

    private func evaluateSenders(_ context: AuditContext) async -> [Finding] {
        let evaluator = SPFEvaluator(resolver: context.resolver)
        let domain = context.domain
        return await context.options.sendingAddresses.mapConcurrently { ip in
            let evaluation = await evaluator.checkHost(ip: ip, domain: domain, sender: "postmaster@\(domain)", helo: nil)
            return SPFRules.senderFinding(evaluation, ip: ip)
        }
    }
}
