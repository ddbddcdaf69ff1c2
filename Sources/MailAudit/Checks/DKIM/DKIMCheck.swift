import MailAuditCore

/// The DKIM keys at the named or common selectors (RFC 6376).
struct DKIMCheck: Check {
    var selection: AuditCheck? { .dkim }

    func findings(in context: AuditContext) async -> [Finding] {
        await context.dkim()?.findings ?? []
    }
}
