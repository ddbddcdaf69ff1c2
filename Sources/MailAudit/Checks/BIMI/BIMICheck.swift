import MailAuditCore

/// BIMI (draft-brand-indicators-for-message-identification): the `default._bimi` record, the
/// logo and evidence it names fetched over verified HTTPS, and the DMARC enforcement it needs,
/// read from the DMARC result the context shares.
struct BIMICheck: Check {
    var selection: AuditCheck? { .bimi }

    func findings(in context: AuditContext) async -> [Finding] {
        guard await context.domainExists() else { return [] }
        let lookup = BIMILookup(resolver: context.resolver, https: HTTPSFetcher(context: context))
        return BIMIRules.findings(for: await lookup.run(for: context.domain) { await context.dmarc() })
    }
}
