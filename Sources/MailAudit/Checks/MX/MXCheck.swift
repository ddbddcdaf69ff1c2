import MailAuditCore

/// The MX records and what they point at (RFC 5321 §5.1).
struct MXCheck: Check {
    var selection: AuditCheck? { .mx }

    func findings(in context: AuditContext) async -> [Finding] {
        MXRules.findings(for: await context.routing(), allowPrivateAddresses: context.options.allowPrivateAddresses)
    }
}

/// A domain that does not exist is not looked up further; the report says what was skipped.
struct DomainExistenceCheck: Check {
    var selection: AuditCheck? { nil }

    func findings(in context: AuditContext) async -> [Finding] {
        let mxAnswer = await context.routing().mxAnswer
        guard mxAnswer.outcome == .nxDomain else { return [] }
        let skipped = [AuditCheck.dkim, .dmarc].filter(context.options.checks.contains).map(\.rawValue)
        guard !skipped.isEmpty else { return [] }
        return [Finding(
            "audit.checks-skipped", .info, subject: .domain(context.domain),
            message: "\(skipped.joined(separator: " and ")) not checked: \(context.domain) does not exist (NXDOMAIN), so it has no keys or policy of its own",
            evidence: mxAnswer.evidence, reference: "RFC 8020 §2")]
    }
}
