import MailAuditCore

/// The TLS-RPT record (RFC 8460): where senders report failed TLS towards the MX hosts.
struct TLSRPTCheck: Check {
    var selection: AuditCheck? { .tlsRPT }

    func findings(in context: AuditContext) async -> [Finding] {
        // A name that does not exist has nothing below it (RFC 8020).
        guard await context.domainExists() else { return [] }
        let result = await TLSRPTLookup(resolver: context.resolver).run(for: context.domain) { await context.routing() }
        return TLSRPTRules.findings(for: result)
    }
}
