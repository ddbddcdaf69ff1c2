/// What an SMTP reply means, judged by the step it answers: a category, a meaning in plain
/// words, likely causes, what to check, and the standards behind it.
///
/// ```swift
/// let reply = try SMTPReply(parsing: "535 5.7.8 Error: authentication failed")
/// let explanation = SMTPReplyExplainer.explain(reply, after: .auth)
/// explanation.category    // .authentication
/// explanation.permanent   // true
/// ```
public struct SMTPExplanation: Hashable, Sendable, Codable {
    /// The basic reply code; nil when only an enhanced code was given.
    public var code: Int?
    public var enhancedCode: EnhancedStatusCode?
    /// True for a permanent failure (5yz, or class 5 when only an enhanced code was given),
    /// false for a transient one (4yz, class 4): retrying later may work. Nil when the reply
    /// is no failure (2yz, 3yz, class 2) or neither code says.
    public var permanent: Bool?
    public var category: SMTPCategory
    public var meaning: String
    public var causes: [String]
    /// What to check, each possibly with a command such as `mailaudit relay HOST --user NAME`.
    public var checks: [String]
    /// The standards: "RFC 5321 §4.2.3", "RFC 3463 §3.8", "IANA SMTP Enhanced Status Codes", …
    public var references: [String]
    /// The step the reply answers, when known.
    public var step: SMTPCommandStep?

    public init(code: Int?, enhancedCode: EnhancedStatusCode?, permanent: Bool?, category: SMTPCategory, meaning: String,
                causes: [String], checks: [String], references: [String], step: SMTPCommandStep?) {
        self.code = code
        self.enhancedCode = enhancedCode
        self.permanent = permanent
        self.category = category
        self.meaning = meaning
        self.causes = causes
        self.checks = checks
        self.references = references
        self.step = step
    }

    /// True for a failure that may go away by itself (4yz): greylisting, a busy server, a limit.
    public var isTransient: Bool { permanent == false }
}

/// Judges SMTP replies by the step they answer.
///
/// The order of judgement, first match wins:
/// 1. 2yz and 3yz replies are successes (with a meaning for the step: 235 after AUTH, 354 after DATA).
/// 2. Distinctive text decides whatever the codes say, because servers answer 550/554 and 5.7.1 for
///    every kind of refusal: Microsoft's SMTP AUTH disabled (5.7.139), app password, STARTTLS
///    required, TLS not available, block lists, greylisting, relay denied, sending quotas,
///    unverified senders (Amazon SES, SendGrid, Postmark), sender rejected, authentication required.
/// 3. Rules for the step: 421 anywhere is a busy server or a rate limit; 554 at the greeting
///    refuses the client (reputation); the codes of AUTH (RFC 4954 §6); 530 at MAIL or RCPT is
///    authentication; 450 at RCPT is greylisting or a busy mailbox, never a rate limit; 451 4.7.x
///    at RCPT is a temporary policy (a rate limit when the text says so); 452 at RCPT is too many
///    recipients.
/// 4. An enhanced code that the registry lists and that is no catch-all (5.7.8, 5.1.1, 5.7.26).
/// 5. Text that refines a catch-all code: size, DMARC, SPF, DKIM, reverse DNS, rate, mailbox full,
///    DNS, unknown user, spam, authentication failed, server trouble, timeouts.
/// 6. The step's usual meaning of a catch-all code: 550/554 at MAIL is policy, 553 sender; 550 5.7.x
///    at RCPT is policy, plain 550 an unknown recipient; 550/554 after the message is content.
/// 7. The catch-all enhanced code (X.7.1 policy, X.0.0 …), then the basic code's entry.
public enum SMTPReplyExplainer {
    /// Judges a reply by the step it answers; nil when the step is unknown.
    public static func explain(_ reply: SMTPReply, after step: SMTPCommandStep?) -> SMTPExplanation {
        explain(code: reply.code, enhanced: reply.enhancedStatusCode, text: reply.text, after: step)
    }

    /// Judges a reply given as its parts. `text` may still start with the enhanced code.
    public static func explain(code: Int?, enhanced: EnhancedStatusCode?, text: String, after step: SMTPCommandStep?) -> SMTPExplanation {
        let basicEntry = code.flatMap(SMTPReplyCatalogue.basic)
        let enhancedEntry = enhanced.flatMap(SMTPReplyCatalogue.enhanced)
        let judgement = judge(code: code, enhanced: enhanced, enhancedEntry: enhancedEntry, basicEntry: basicEntry, text: text, step: step)
        var references: [String] = []
        for reference in (basicEntry?.references ?? []) + (enhancedEntry?.references ?? [])
            + (enhanced != nil ? [ianaRegistry] : []) + judgement.references where !references.contains(reference) {
            references.append(reference)
        }
        return SMTPExplanation(
            code: code, enhancedCode: enhanced, permanent: permanence(code: code, enhanced: enhanced), category: judgement.category,
            meaning: judgement.meaning, causes: judgement.causes, checks: judgement.checks, references: references, step: step)
    }

    /// True when the text says relaying was denied ("Relay access denied", "Relaying denied",
    /// "not permitted to relay"…). The relay walk turns this into an authentication problem
    /// when the server offered AUTH and the client did not use it.
    public static func isRelayDenial(_ text: String) -> Bool {
        TextSignals.named("relay-denied")?.matches(ReplyText(text)) ?? false
    }

    public static let ianaRegistry = "IANA SMTP Enhanced Status Codes"

    /// 5 → true, 4 → false, 2 or 3 → nil; from the basic code when there is one, else from the
    /// enhanced code's class.
    static func permanence(code: Int?, enhanced: EnhancedStatusCode?) -> Bool? {
        let klass = code.map { $0 / 100 } ?? enhanced?.klass.rawValue
        switch klass {
        case 4: return false
        case 5: return true
        default: return nil
        }
    }

    private static func judge(code: Int?, enhanced: EnhancedStatusCode?, enhancedEntry: EnhancedStatusEntry?, basicEntry: BasicReplyEntry?,
                              text: String, step: SMTPCommandStep?) -> SMTPJudgement {
        let klass = code.map { $0 / 100 } ?? enhanced?.klass.rawValue
        if klass == 2 || klass == 3 {
            return success(code: code, enhancedEntry: enhancedEntry, basicEntry: basicEntry, step: step)
        }
        // The enhanced code is part of what the text says ("5.7.139" is Microsoft's own).
        let replyText = ReplyText((enhanced.map { "\($0) " } ?? "") + text)
        if let signal = TextSignals.first(TextSignals.decisive, in: replyText) { return signal.judgement }
        guard let klass else {
            return TextSignals.first(TextSignals.refining, in: replyText)?.judgement
                ?? SMTPJudgement(.server, "No reply code was given, so there is nothing to judge but the text.")
        }
        let input = SMTPStepRules.Input(step: step, code: code ?? klass * 100, enhanced: enhanced, entry: enhancedEntry, text: replyText)
        if code != nil, let judgement = SMTPStepRules.decisive(input) { return judgement }
        if let enhancedEntry, !enhancedEntry.isGeneric { return judgement(enhancedEntry) }
        if let signal = TextSignals.first(TextSignals.refining, in: replyText) { return signal.judgement }
        if code != nil, let judgement = SMTPStepRules.fallback(input) { return judgement }
        if let enhancedEntry { return judgement(enhancedEntry) }
        if let basicEntry { return judgement(basicEntry) }
        return klass == 4
            ? SMTPJudgement(.server, "A temporary failure with a code the catalogue does not list; retrying later may work.",
                            checks: ["Read the reply text."], references: ["RFC 5321 §4.2.1"])
            : SMTPJudgement(.server, "A permanent failure with a code the catalogue does not list.",
                            checks: ["Read the reply text."], references: ["RFC 5321 §4.2.1"])
    }

    private static func judgement(_ entry: EnhancedStatusEntry) -> SMTPJudgement {
        SMTPJudgement(entry.category, entry.meaning, causes: entry.causes, checks: entry.checks)
    }

    private static func judgement(_ entry: BasicReplyEntry) -> SMTPJudgement {
        SMTPJudgement(entry.category, entry.meaning, causes: entry.causes, checks: entry.checks)
    }

    private static func success(code: Int?, enhancedEntry: EnhancedStatusEntry?, basicEntry: BasicReplyEntry?, step: SMTPCommandStep?) -> SMTPJudgement {
        let meaning: String? = switch (step, code) {
        case (.greeting, 220): "The server is ready for a session."
        case (.ehlo, 250): "The server greeted back; the EHLO reply lists its extensions (STARTTLS, AUTH, SIZE…)."
        case (.helo, 250): "The server greeted back (HELO: no extensions)."
        case (.startTLS, 220): "Ready to start TLS: the TLS handshake follows, then EHLO again."
        case (.auth, 235): "Authentication succeeded."
        case (.auth, 334): "The server asks for the next part of the AUTH exchange."
        case (.mail, 250): "The sender was accepted."
        case (.rcpt, 250): "The recipient was accepted."
        case (.rcpt, 251): "The recipient was accepted; the server will forward the message."
        case (.data, 354): "Go ahead: send the message, ending with a line holding a single dot."
        case (.message, 250): "The message was accepted for delivery (queued)."
        case (.quit, 221): "The server closes the session."
        case (.rset, 250), (.noop, 250): "OK."
        default: nil
        }
        return SMTPJudgement(.success, meaning ?? basicEntry?.meaning ?? enhancedEntry?.meaning ?? "The command was accepted.",
                             causes: basicEntry?.causes ?? [], checks: [])
    }
}
