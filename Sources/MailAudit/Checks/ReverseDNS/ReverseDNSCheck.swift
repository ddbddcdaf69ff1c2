import MailAuditCore

/// Reverse DNS of the sending addresses the user named (`--ip`) and of every MX address.
struct ReverseDNSCheck: Check {
    var selection: AuditCheck? { .rdns }

    func findings(in context: AuditContext) async -> [Finding] {
        let senders = context.options.sendingAddresses.map { ($0, AddressRole.sender) }
        async let senderResults = ReverseDNSLookup(resolver: context.resolver).run(senders)
        let hostResults = await context.mailHostReverseDNS()
        return (await senderResults + hostResults).flatMap { ReverseDNSRules.findings(for: $0, domain: context.domain) }
    }
}
