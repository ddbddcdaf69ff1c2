import MailAuditCore

/// The DMARC policy found by the tree walk (RFC 9989), judged beside the SPF and DKIM results
/// the context shares.
struct DMARCCheck: Check {
    var selection: AuditCheck? { .dmarc }

    func findings(in context: AuditContext) async -> [Finding] {
        guard await context.domainExists() else { return [] }
        async let dmarc = context.dmarc()
        let spf = await context.spfTree()
        guard let dkim = await context.dkim(), let result = await dmarc else { return [] }
        return result.findings(context: DMARCContext(spf: spf, dkim: dkim))
    }
}
