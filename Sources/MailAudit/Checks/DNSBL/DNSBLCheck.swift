import MailAuditCore

/// Every MX address and every `--ip` address on the DNS blocklists named with `--dnsbl`
/// (RFC 5782); nothing without them.
struct DNSBLCheck: Check {
    var selection: AuditCheck? { .dnsbl }

    func findings(in context: AuditContext) async -> [Finding] {
        let zones = context.options.dnsblZones
        guard !zones.isEmpty else { return [] }
        let senders = context.options.sendingAddresses
        let result = await DNSBLLookup(resolver: context.resolver).run(zones: zones) {
            DNSBLTarget.targets(routing: await context.routing(), senders: senders)
        }
        return DNSBLRules.findings(for: result)
    }
}
