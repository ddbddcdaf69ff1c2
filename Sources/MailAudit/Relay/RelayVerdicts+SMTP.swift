import MailAuditCore
import MailAuditRecords
import MailAuditSMTP

/// Verdicts on the SMTP commands: EHLO, AUTH, MAIL, RCPT and DATA.
extension RelayVerdicts {
    func ehlo(_ reply: SMTPReply, capabilities: SMTPCapabilities?, encrypted: Bool) -> RelayStep {
        guard reply.code == 250, let capabilities else { return judged(reply, step: .ehlo, command: .ehlo) }
        let list = capabilities.extensions.map(\.description)
        var step = RelayStep(.ehlo, .pass, "\(capabilities.domain) offers " + (list.isEmpty ? "no extensions" : list.joined(separator: ", ")),
                             evidence: ["EHLO \(options.ehloName)"] + list, reply: reply)
        if mode == .startTLS && !capabilities.supportsSTARTTLS {
            step.status = .fail
            step.category = .tls
            step.summary = "the server does not offer STARTTLS on port \(port)"
            step.remedy = "Enable STARTTLS on the relay, or use the provider's implicit-TLS port 465 (--security implicit). "
                + "Credentials must never be sent without TLS."
            step.reference = "RFC 3207 §4, RFC 8314 §3"
            return step
        }
        if !encrypted && !capabilities.authMechanisms.isEmpty {
            step.status = .warning
            step.category = .tls
            step.summary = "AUTH \(capabilities.authMechanisms.joined(separator: " ")) is offered before TLS: credentials could travel in clear"
            step.remedy = "Offer AUTH only after STARTTLS (Postfix: smtpd_tls_auth_only = yes), so clients cannot send passwords in clear."
            step.reference = "RFC 4954 §4, RFC 8314 §3"
        }
        return step
    }

    /// EHLO refused (500/502), HELO tried instead.
    func heloOnly(ehlo: SMTPReply, helo: SMTPReply) -> RelayStep {
        guard helo.code == 250 else { return judged(helo, step: .ehlo, command: .helo) }
        var step = RelayStep(.ehlo, .warning, "EHLO refused (\(ehlo.code) \(ehlo.text)); HELO accepted: the server speaks no ESMTP, so "
                             + "no STARTTLS and no AUTH", evidence: ["EHLO \(options.ehloName): \(ehlo.code) \(ehlo.text)", "HELO: \(helo.code) \(helo.text)"],
                             category: .policy, remedy: "Use a relay that supports ESMTP (EHLO), as every submission service must.",
                             reference: "RFC 5321 §4.1.1.1, RFC 6409 §4", reply: ehlo)
        if mode != .plain {
            step.status = .fail
            step.category = .tls
            step.summary = "the server refuses EHLO, so it cannot offer STARTTLS (HELO accepted)"
            step.remedy = "Enable ESMTP and STARTTLS on the relay, or use its implicit-TLS port 465 (--security implicit)."
        }
        return step
    }

    func authNotOffered(before: SMTPCapabilities?, startTLSOffered: Bool) -> RelayStep {
        if mode == .plain && startTLSOffered {
            return RelayStep(.auth, .fail, "the server offers AUTH only after STARTTLS, and --security none skipped TLS", category: .tls,
                             remedy: "Use STARTTLS (--security starttls or auto); in the application, enable TLS for SMTP.",
                             reference: "RFC 3207 §4, RFC 4954 §4")
        }
        var remedy = "Check the port: 587 and 465 are for authenticated submission; port 25 usually offers no AUTH. "
            + "On the server, enable SASL authentication on this port."
        if let before, !before.authMechanisms.isEmpty { remedy = "The server offered AUTH only before TLS. " + remedy }
        return RelayStep(.auth, .fail, "the server offers no AUTH mechanism on port \(port)\(mode == .plain ? "" : " over TLS")",
                         category: .authentication, remedy: remedy, reference: "RFC 4954 §3")
    }

    func auth(_ result: SMTPAuthentication, user: String) -> RelayStep {
        if result.reply.code == 235 {
            return RelayStep(.auth, .pass, "authenticated as \(user) with \(result.mechanism)", evidence: ["\(result.reply.code) \(result.reply.text)"],
                             reply: result.reply)
        }
        var step = judged(result.reply, step: .auth, command: .auth)
        step.evidence.insert("AUTH \(result.mechanism) as \(user)", at: 0)
        if step.category == nil || step.category == .policy { step.category = .authentication }
        return step
    }

    func authFailure(_ error: SMTPClientError, encrypted: Bool) -> RelayStep {
        if case .noUsableMechanism = error {
            return RelayStep(.auth, .fail, error.description, category: .authentication,
                             remedy: "mailaudit speaks PLAIN, LOGIN and CRAM-MD5. A server offering only XOAUTH2 or another mechanism needs "
                                + "an application that speaks it (Microsoft 365 and Gmail: OAuth2).", reference: "RFC 4954 §3")
        }
        guard case .credentialsWithheld(let reason) = error else { return streamFailure(error, at: .auth) }
        // Either way the missing piece is TLS: none at all, or TLS that did not verify.
        return RelayStep(.auth, .fail, "credentials not sent: \(reason)", category: .tls,
                         remedy: encrypted
                            ? "Fix the relay's certificate, or pass its private CA with --ca-file. To test anyway, --insecure sends the "
                                + "credentials over TLS that did not verify."
                            : "Use TLS: STARTTLS on 587 or implicit TLS on 465. To test a lab server anyway, --allow-plaintext-auth.",
                         reference: "RFC 8314 §3, RFC 4954 §4")
    }

    /// MAIL or RCPT. When the server offers AUTH that was not used, a refusal for want of
    /// authentication (530, or relaying denied) is an authentication problem.
    func envelope(_ reply: SMTPReply, step: RelayStepName, address: String, authOfferedNotUsed: Bool) -> RelayStep {
        let command: SMTPCommandStep = step == .mail ? .mail : .rcpt
        if reply.isPositive {
            return RelayStep(step, .pass, "\(step == .mail ? "sender" : "recipient") <\(address)> accepted: \(reply.code) \(reply.text)", reply: reply)
        }
        var verdict = judged(reply, step: step, command: command)
        verdict.evidence.insert("\(step == .mail ? "MAIL FROM" : "RCPT TO"):<\(address)>", at: 0)
        let lowered = reply.text.lowercased()
        let relayDenied = SMTPReplyExplainer.isRelayDenial(reply.text)
        // With AUTH offered and not used, a refusal on security or policy grounds (5.7.x, 530) is
        // the server asking for authentication, unless it asks for TLS.
        let securityRefusal = reply.enhancedStatusCode?.subject == 7 || relayDenied
            || lowered.contains("authentication required") || lowered.contains("not logged in")
        let asksForAuthentication = reply.code == 530 || (reply.isPermanentFailure && securityRefusal)
        if authOfferedNotUsed && asksForAuthentication && verdict.category != .tls {
            verdict.category = .authentication
            verdict.summary = "\(reply.code) \(reply.text): the server wants authentication first"
            verdict.remedy = "Authenticate before sending: give --user (and the password) as the application must. The server offers AUTH "
                + "but refuses to relay for unauthenticated clients."
            verdict.reference = "RFC 4954 §6, RFC 6409 §4.3"
        } else if relayDenied {
            verdict.remedy = "The relay refuses this recipient for this sender: authenticate, check that the sender's address or "
                + "domain is verified with the provider, or allow this client's address to relay."
        }
        return verdict
    }

    func data(_ reply: SMTPReply, final: SMTPReply?) -> RelayStep {
        guard let final else { return judged(reply, step: .data, command: .data) }
        if final.isPositive {
            return RelayStep(.data, .pass, "message accepted: \(final.code) \(final.text)", evidence: ["DATA: \(reply.code) \(reply.text)"],
                             reply: final)
        }
        return judged(final, step: .data, command: .message)
    }

    /// A failure without a reply: a timeout, a closed connection, a broken reply.
    func streamFailure(_ error: SMTPClientError, at step: RelayStepName) -> RelayStep {
        var verdict = streamVerdict(error, at: step)
        // A hang-up or silence in answer to STARTTLS is a TLS problem.
        if step == .tls && verdict.category == .connectivity { verdict.category = .tls }
        return verdict
    }

    private func streamVerdict(_ error: SMTPClientError, at step: RelayStepName) -> RelayStep {
        switch error {
        case .timedOut:
            return RelayStep(step, .fail, "the server did not answer in time", category: .connectivity,
                             remedy: "The server stopped answering mid-session: check its health and load, or raise --command-timeout.",
                             reference: "RFC 5321 §4.5.3.2")
        case .closed:
            return RelayStep(step, .fail, "the server closed the connection", category: .connectivity,
                             remedy: "The server hung up mid-session; its log says why (often a limit on connections or failed logins).",
                             reference: "RFC 5321 §3.8")
        case .tls(let failure):
            return RelayStep(step, .fail, failure.description, category: .tls, remedy: "Check the relay's TLS configuration.",
                             reference: "RFC 3207 §4")
        case .credentialsWithheld, .noUsableMechanism:
            return authFailure(error, encrypted: false)
        default:
            return RelayStep(step, .fail, error.description, category: .connectivity,
                             remedy: "The server's answer broke the SMTP protocol: check that an SMTP server listens on port \(port).",
                             reference: "RFC 5321 §4.2")
        }
    }

    /// A refusing reply, judged by the command it answers.
    func judged(_ reply: SMTPReply, step: RelayStepName, command: SMTPCommandStep) -> RelayStep {
        let explanation = SMTPReplyExplainer.explain(reply, after: command)
        let category = Self.isAboutHostNames(reply.text) ? .dns : RelayCategory(explanation.category) ?? .policy
        var remedy = explanation.checks.joined(separator: " ")
        if remedy.isEmpty { remedy = explanation.causes.joined(separator: "; ") }
        return RelayStep(step, .fail, "\(reply.code) \(reply.text): \(explanation.meaning)",
                         evidence: [reply.description.replacingOccurrences(of: "\r\n", with: " / ")] + explanation.causes.map { "likely: \($0)" },
                         category: category, remedy: remedy.isEmpty ? nil : remedy,
                         reference: explanation.references.joined(separator: ", "), reply: reply)
    }

    /// Refusals about names in DNS: the client's reverse DNS, its HELO name, or a domain that
    /// does not resolve ("Client host rejected: cannot find your hostname", "Helo command
    /// rejected: need fully-qualified hostname", "Sender address rejected: Domain not found").
    static func isAboutHostNames(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return ["cannot find your hostname", "cannot find your reverse hostname", "reverse dns", "reverse hostname", "no ptr",
                "fully-qualified", "fully qualified", "helo command rejected", "invalid helo", "domain not found",
                "host not found", "unknown client host", "hostname does not resolve"].contains { lowered.contains($0) }
    }
}
