/// Judgements that depend on the step a reply answers: the same code means different things
/// after AUTH, MAIL, RCPT or the message's final dot (RFC 5321 §4.3.2 lists the codes each
/// command may get; RFC 4954 §6 those of AUTH).
enum SMTPStepRules {
    struct Input {
        var step: SMTPCommandStep?
        var code: Int
        var enhanced: EnhancedStatusCode?
        /// The registry entry of `enhanced`, if the registry has one.
        var entry: EnhancedStatusEntry?
        var text: ReplyText

        /// An enhanced code the registry lists and that is no catch-all: it decides by itself.
        var hasSpecificEnhancedCode: Bool { entry.map { !$0.isGeneric } ?? false }
    }

    private static let relayCheck = TextSignals.relayCheck
    private static let relayReferences = ["RFC 4954 §6"]

    /// The rules that come before the enhanced code: where the step changes what the code means.
    static func decisive(_ input: Input) -> SMTPJudgement? {
        if input.code == 421 { return serviceClosing(input) }
        switch input.step {
        case .greeting: return greeting(input)
        case .ehlo, .helo:
            guard [500, 502].contains(input.code), input.step == .ehlo else { return nil }
            return SMTPJudgement(
                .protocol, "The server does not know EHLO (an old server): only HELO works, without extensions such as STARTTLS or AUTH.",
                causes: ["A very old or minimal SMTP server."], checks: ["Use HELO; expect no STARTTLS and no AUTH."],
                references: ["RFC 5321 §4.1.1.1"])
        case .startTLS: return startTLS(input)
        case .auth: return auth(input)
        case .mail, .rcpt:
            if input.code == 530 {
                return SMTPJudgement(
                    .authentication, "Authentication is required before the server accepts a \(input.step == .mail ? "sender" : "recipient").",
                    causes: ["The client sent MAIL without AUTH.", "The server announced AUTH only after STARTTLS and the client skipped it."],
                    checks: [relayCheck, "Start TLS first: many servers announce AUTH only after STARTTLS."],
                    references: relayReferences)
            }
            return input.step == .rcpt ? recipientTransient(input) : nil
        case .data, .message, .rset, .noop, .quit, nil: return nil
        }
    }

    /// The rules that come after the enhanced code and the text heuristics: the step's usual
    /// meaning of a catch-all code.
    static func fallback(_ input: Input) -> SMTPJudgement? {
        let policySubject = input.enhanced?.subject == 7
        switch input.step {
        case .mail:
            switch input.code {
            case 550, 554:
                return SMTPJudgement(
                    .policy, "The server refuses this sender by policy.",
                    causes: ["The account or client may not send as this address.", "The sender domain is not verified or not allowed.",
                             "A rule about the client's address."],
                    checks: ["Send as an address the account owns and the provider has verified.", relayCheck])
            case 553, 501:
                return SMTPJudgement(
                    .sender, "The server rejected the sender address.",
                    causes: ["A malformed address, or one the account may not use."],
                    checks: ["Check the envelope sender's syntax, and that the account may send as it."])
            case 451, 452:
                return input.code == 451 && policySubject ? temporaryPolicy : nil
            default: return nil
            }
        case .rcpt:
            switch input.code {
            case 550 where policySubject, 554:
                return SMTPJudgement(
                    .policy, "The server refuses this recipient by policy.",
                    causes: ["Relaying denied for an unauthenticated client.", "A rule about the sender, the client's address or the recipient."],
                    checks: ["Read the reply text for the rule.", relayCheck])
            case 550, 551, 553:
                return SMTPJudgement(
                    .recipient, "The recipient's mailbox is not available: most often no such user.",
                    causes: ["A typo in the address, or a mailbox that was removed."],
                    checks: ["Check the recipient address with its owner."])
            default: return nil
            }
        case .data, .message:
            switch input.code {
            case 550, 554:
                guard input.enhanced == nil || policySubject || input.entry?.isGeneric == true else { return nil }
                return SMTPJudgement(
                    .content, "The receiver refused the message itself: a spam or content filter, or a policy on its content.",
                    causes: ["Content a filter scored as spam, or a blocked attachment or link.",
                             "SPF, DKIM or DMARC failures that the filter counted against the message."],
                    checks: ["Check the message's links, attachments and headers; send a plain test message to compare.",
                             "Make sure SPF, DKIM and DMARC pass: `mailaudit DOMAIN`."])
            case 552:
                return TextSignals.named("size")?.judgement
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: - Steps

    /// 421 at any step: the server closes the session; a busy server or a limit, unless the
    /// text or a specific enhanced code says otherwise.
    private static func serviceClosing(_ input: Input) -> SMTPJudgement? {
        guard !input.hasSpecificEnhancedCode else { return nil }
        if let signal = TextSignals.first(TextSignals.refining, in: input.text), [.server, .connectivity].contains(signal.judgement.category) {
            return nil
        }
        let atGreeting = input.step == .greeting
        return SMTPJudgement(
            .rateLimit,
            atGreeting ? "The server will not start a session now: it is busy, or too many connections come from this address."
                : "The server is busy or limiting this client, and closed the connection.",
            causes: ["Too many parallel connections or messages from this address.", "A rate limit for new or unknown senders.",
                     "The server is overloaded."],
            checks: ["Retry later with fewer parallel connections.", "Check the provider's connection and message limits."],
            references: ["RFC 5321 §3.8"])
    }

    private static func greeting(_ input: Input) -> SMTPJudgement? {
        guard input.code == 554, !input.hasSpecificEnhancedCode else { return nil }
        return SMTPJudgement(
            .reputation,
            "The server refuses to talk to this client at all: usually the client's address is on a block list, lacks reverse DNS or is not allowed; or the host offers no SMTP service.",
            causes: ["The client's IP address is on a block list, or comes from a range that the receiver refuses (dynamic, cloud).",
                     "No reverse DNS for the client's address.", "The host offers no mail service to anyone."],
            checks: ["Check whether the client's address is on a block list (the text often names it).",
                     "Check the client's reverse DNS: `mailaudit DOMAIN --ip ADDRESS`.", "Try from another network or through a relay."],
            references: ["RFC 5321 §3.1"])
    }

    private static func startTLS(_ input: Input) -> SMTPJudgement? {
        switch input.code {
        case 454:
            return TextSignals.named("tls-unavailable")?.judgement
        case 500, 502:
            return SMTPJudgement(
                .tls, "The server does not offer STARTTLS here.",
                causes: ["STARTTLS was not in the EHLO reply: the server has no certificate set up, or a middlebox removed it."],
                checks: ["See what the server offers: `mailaudit relay HOST`.", "Use port 465 (implicit TLS) if the provider offers it."],
                references: ["RFC 3207 §4"])
        default: return nil
        }
    }

    private static func auth(_ input: Input) -> SMTPJudgement? {
        let mentionsTLS = input.text.hasWord("tls") || input.text.has("starttls") || input.text.hasWord("ssl") || input.text.has("encrypt")
        switch input.code {
        case 535:
            return SMTPJudgement(
                .authentication, "The server rejected the user name or the password.",
                causes: ["A wrong user name or password, or an expired or revoked API key.",
                         "A user name in the wrong form: some providers want the full address, some a fixed name (SendGrid: apikey).",
                         "An account that is locked, suspended or not allowed to use SMTP."],
                checks: ["Check the user name and secret: `mailaudit relay HOST --user NAME`.",
                         "Check which user name form the provider expects."],
                references: relayReferences)
        case 534:
            return SMTPJudgement(
                .authentication, "The mechanism is too weak for this account: the provider wants an app password, OAuth2 or a stronger mechanism.",
                causes: ["2-step verification on the account (Google answers 534 5.7.9).", "A policy that refuses PLAIN or LOGIN for this user."],
                checks: ["Create an app password, or use OAuth2.", "Try again: `mailaudit relay HOST --user NAME`."],
                references: relayReferences)
        case 538, 523, 524:
            return SMTPJudgement(
                .tls, "This authentication mechanism needs an encrypted connection: start TLS before AUTH.",
                causes: ["AUTH was sent before STARTTLS."],
                checks: ["Enable STARTTLS in the client, or use port 465.", "See what the server offers: `mailaudit relay HOST`."],
                references: ["RFC 4954 §6", "RFC 3207 §4"])
        case 454:
            return SMTPJudgement(
                .authentication, "Authentication failed for a temporary reason on the server's side.",
                causes: ["The server's authentication back end (directory, database) is unreachable or slow."],
                checks: ["Retry later; if it lasts, tell the server's administrator."],
                references: relayReferences)
        case 530:
            if mentionsTLS { return TextSignals.named("tls-required")?.judgement }
            return SMTPJudgement(
                .authentication, "The server requires authentication, and this exchange did not provide it.",
                causes: ["The server wants AUTH before anything else."],
                checks: [relayCheck], references: relayReferences)
        case 504:
            return SMTPJudgement(
                .authentication, "The server does not support this authentication mechanism.",
                causes: ["The client chose a mechanism that is not in the EHLO reply's AUTH line."],
                checks: ["Use a mechanism the server announces (see `mailaudit relay HOST`)."],
                references: ["RFC 4954 §4"])
        case 500, 502:
            return SMTPJudgement(
                .authentication, "The server does not offer AUTH here.",
                causes: ["AUTH is offered only after STARTTLS.", "The wrong port: port 25 is for delivery between servers, 587 or 465 for submission.",
                         "The server has no authentication set up."],
                checks: ["Start TLS first, then send EHLO again and look for AUTH.", "Use port 587 (STARTTLS) or 465 (implicit TLS).",
                         "See what the server offers: `mailaudit relay HOST`."],
                references: ["RFC 4954 §3", "RFC 6409"])
        case 503:
            if input.text.has("already authenticated") {
                return SMTPJudgement(.protocol, "The client is already authenticated; AUTH may only be used once per session.",
                                     checks: ["Do not send AUTH twice."], references: ["RFC 4954 §4"])
            }
            return SMTPJudgement(
                .authentication, "AUTH is not allowed now: the server has no authentication enabled here, or not in this state.",
                causes: ["Authentication is not enabled on this port or before STARTTLS.", "AUTH was sent during a mail transaction."],
                checks: ["Start TLS first and check the EHLO reply for AUTH: `mailaudit relay HOST`."],
                references: ["RFC 4954 §4"])
        case 501:
            return SMTPJudgement(
                .authentication, "The server could not read the AUTH exchange: bad base64, a cancelled exchange, or bad arguments.",
                causes: ["A client bug in encoding the credentials, or characters the mechanism does not allow."],
                checks: ["Check the client's AUTH implementation, or try another mechanism."],
                references: ["RFC 4954 §4"])
        case 432:
            return SMTPJudgement(
                .authentication, "A password transition is needed before this mechanism works.",
                causes: ["The account's stored credentials do not yet support the chosen mechanism."],
                checks: ["Authenticate once with PLAIN over TLS, then retry."], references: ["RFC 4954 §6"])
        case 525:
            return SMTPJudgement(
                .authentication, "The account is disabled.",
                causes: ["The administrator or provider disabled the account."],
                checks: ["Ask the provider or administrator to re-enable the account."], references: ["RFC 5248"])
        default:
            return nil
        }
    }

    /// 450, 451 and 452 at RCPT: greylisting, a busy mailbox or too many recipients. 450 at
    /// RCPT is never a rate limit here: greylisting and busy mailboxes are far more common.
    private static func recipientTransient(_ input: Input) -> SMTPJudgement? {
        switch input.code {
        case 450:
            if let subject = input.entry?.subject, subject == 1 || subject == 2 {
                return SMTPJudgement(
                    .recipient, "The recipient's mailbox is not available for now (busy, or receiving too fast); retry later.",
                    causes: ["The mailbox is busy or temporarily over a receiving limit.", "Greylisting on some servers."],
                    checks: ["Retry after some minutes; a mail queue does this itself."])
            }
            if input.hasSpecificEnhancedCode { return nil }
            if let signal = TextSignals.first(TextSignals.refining, in: input.text), signal.judgement.category != .rateLimit {
                return signal.judgement
            }
            return greylistingOrTemporaryPolicy
        case 451:
            if input.hasSpecificEnhancedCode || TextSignals.first(TextSignals.refining, in: input.text) != nil { return nil }
            if input.enhanced?.subject == 7 { return temporaryPolicy }
            if input.enhanced == nil, input.text.hasAny(["try again later", "try later", "come back later", "please retry", "retry later"]) {
                return greylistingOrTemporaryPolicy
            }
            return nil
        case 452:
            if input.hasSpecificEnhancedCode { return nil }
            if let signal = TextSignals.first(TextSignals.refining, in: input.text), signal.judgement.category == .recipient { return nil }
            return SMTPJudgement(
                .rateLimit, "Too many recipients for this message (or for now): send the rest in another transaction.",
                causes: ["More RCPT commands than the server takes per message or per period."],
                checks: ["Send fewer recipients per message."], references: ["RFC 5321 §4.5.3.1.10"])
        default:
            return nil
        }
    }

    private static let greylistingOrTemporaryPolicy = SMTPJudgement(
        .policy, "The recipient is deferred for now: most often greylisting, otherwise a temporary policy block; retry later.",
        causes: ["Greylisting of a first contact.", "A temporary rule about the client or the sender."],
        checks: ["Retry after some minutes; a mail queue does this itself."], references: ["RFC 6647"])

    private static let temporaryPolicy = SMTPJudgement(
        .policy, "A temporary refusal by policy (often greylisting); retry later.",
        causes: ["Greylisting, or a temporary rule about the client, the sender or the recipient."],
        checks: ["Retry after some minutes; if every retry fails, read the reply text for the rule."], references: ["RFC 6647"])
}
