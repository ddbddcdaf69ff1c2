import MailAuditRecords
import Testing

/// Replies judged by the step they answer (SMTPReplyExplainer).
struct SMTPExplainTests {
    struct Judged: Sendable, CustomTestStringConvertible {
        var reply: String
        var step: SMTPCommandStep?
        var category: SMTPCategory
        var permanent: Bool?
        var testDescription: String { "\(step?.rawValue ?? "no step"): \(reply.prefix(70))" }

        init(_ reply: String, _ step: SMTPCommandStep?, _ category: SMTPCategory, permanent: Bool?) {
            self.reply = reply
            self.step = step
            self.category = category
            self.permanent = permanent
        }
    }

    static let judged: [Judged] = [
        // Greeting.
        Judged("220 mx.example.com ESMTP Postfix", .greeting, .success, permanent: nil),
        Judged("421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1", .greeting, .rateLimit, permanent: false),
        Judged("421 Service not available, closing transmission channel", .greeting, .rateLimit, permanent: false),
        Judged("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", .greeting, .reputation, permanent: true),
        Judged("554 mx.example.com ESMTP not accepting messages", .greeting, .reputation, permanent: true),
        Judged("421 4.3.2 mx.example.com shutting down for maintenance", .greeting, .server, permanent: false),
        // STARTTLS.
        Judged("220 2.0.0 Ready to start TLS", .startTLS, .success, permanent: nil),
        Judged("454 4.7.0 TLS not available due to local problem", .startTLS, .tls, permanent: false),
        Judged("502 5.5.1 Error: command not implemented", .startTLS, .tls, permanent: true),
        // AUTH (RFC 4954 §6).
        Judged("235 2.7.0 Authentication successful", .auth, .success, permanent: nil),
        Judged("334 VXNlcm5hbWU6", .auth, .success, permanent: nil),
        Judged("535 5.7.8 Error: authentication failed: authentication failure", .auth, .authentication, permanent: true),
        Judged("535 Incorrect authentication data", .auth, .authentication, permanent: true),
        Judged("534 5.7.9 Application-specific password required.", .auth, .authentication, permanent: true),
        Judged("534 5.7.9 Authentication mechanism is too weak", .auth, .authentication, permanent: true),
        Judged("538 5.7.11 Encryption required for requested authentication mechanism", .auth, .tls, permanent: true),
        Judged("454 4.7.0 Temporary authentication failure", .auth, .authentication, permanent: false),
        Judged("530 5.7.0 Authentication required", .auth, .authentication, permanent: true),
        Judged("530 5.7.0 Must issue a STARTTLS command first", .auth, .tls, permanent: true),
        Judged("504 5.5.4 Unrecognized authentication type", .auth, .authentication, permanent: true),
        Judged("500 5.5.1 Command unrecognized: \"AUTH PLAIN\"", .auth, .authentication, permanent: true),
        Judged("502 5.5.1 Error: command not implemented", .auth, .authentication, permanent: true),
        Judged("503 5.5.1 Error: authentication not enabled", .auth, .authentication, permanent: true),
        Judged("432 4.7.12 A password transition is needed", .auth, .authentication, permanent: false),
        Judged("535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.", .auth, .authentication, permanent: true),
        // MAIL.
        Judged("250 2.1.0 Ok", .mail, .success, permanent: nil),
        Judged("530 5.7.0 Authentication required", .mail, .authentication, permanent: true),
        Judged("530 5.7.57 Client not authenticated to send mail", .mail, .authentication, permanent: true),
        Judged("550 5.7.1 Sender not allowed", .mail, .policy, permanent: true),
        Judged("553 5.1.8 <s@example.com>: Sender address rejected: Domain not found", .mail, .sender, permanent: true),
        Judged("553 5.7.1 <s@example.com>: Sender address rejected: not owned by user joe", .mail, .sender, permanent: true),
        Judged("552 5.3.4 Message size exceeds fixed limit", .mail, .content, permanent: true),
        Judged("451 4.3.0 Error: queue file write error", .mail, .server, permanent: false),
        Judged("451 4.7.1 Rate limit exceeded, try again later", .mail, .rateLimit, permanent: false),
        Judged("421 4.7.0 Too many messages from this client", .mail, .rateLimit, permanent: false),
        Judged("554 5.7.1 Access denied", .mail, .policy, permanent: true),
        // RCPT.
        Judged("250 2.1.5 Ok", .rcpt, .success, permanent: nil),
        Judged("251 2.1.5 User not local; will forward", .rcpt, .success, permanent: nil),
        Judged("554 5.7.1 <r@example.net>: Relay access denied", .rcpt, .policy, permanent: true),
        Judged("550 5.7.1 Relaying denied", .rcpt, .policy, permanent: true),
        Judged("550 5.7.1 Unable to relay for r@example.net", .rcpt, .policy, permanent: true),
        Judged("550 5.7.64 TenantAttribution; Relay Access Denied", .rcpt, .policy, permanent: true),
        Judged("550 5.1.1 <r@example.net>: Recipient address rejected: User unknown in virtual mailbox table", .rcpt, .recipient, permanent: true),
        Judged("550 No such user here", .rcpt, .recipient, permanent: true),
        Judged("450 4.2.0 <r@example.net>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.net.html",
               .rcpt, .policy, permanent: false),
        Judged("450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered.",
               .rcpt, .recipient, permanent: false),
        Judged("450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", .rcpt, .reputation, permanent: false),
        Judged("450 Requested mail action not taken: try again later", .rcpt, .policy, permanent: false),
        Judged("452 4.5.3 Error: too many recipients", .rcpt, .rateLimit, permanent: false),
        Judged("452 4.2.2 Mailbox full", .rcpt, .recipient, permanent: false),
        Judged("452 Too many recipients received this hour", .rcpt, .rateLimit, permanent: false),
        Judged("451 4.7.1 Service unavailable - try again later", .rcpt, .policy, permanent: false),
        Judged("451 4.7.1 Greylisting in action, please come back later", .rcpt, .policy, permanent: false),
        Judged("451 4.7.1 You are being rate limited", .rcpt, .rateLimit, permanent: false),
        Judged("451 4.7.1 Throttled: too many messages", .rcpt, .rateLimit, permanent: false),
        Judged("421 4.7.0 Try again later, closing connection.", .rcpt, .rateLimit, permanent: false),
        Judged("554 5.7.1 <r@example.net>: Recipient address rejected: Access denied", .rcpt, .policy, permanent: true),
        Judged("530 5.7.1 Authentication required", .rcpt, .authentication, permanent: true),
        // DATA and the message.
        Judged("354 End data with <CR><LF>.<CR><LF>", .data, .success, permanent: nil),
        Judged("554 5.5.1 Error: no valid recipients", .data, .protocol, permanent: true),
        Judged("250 2.0.0 Ok: queued as 4B2C1", .message, .success, permanent: nil),
        Judged("552 5.3.4 Message size exceeds fixed limit", .message, .content, permanent: true),
        Judged("552 Message size exceeds maximum permitted", .message, .content, permanent: true),
        Judged("554 5.7.1 Message rejected as spam", .message, .content, permanent: true),
        Judged("554 5.7.1 Rejected", .message, .content, permanent: true),
        Judged("550 5.7.1 Our system has detected that this message is likely unsolicited mail.", .message, .content, permanent: true),
        Judged("550 5.7.26 This message does not pass authentication checks (SPF and DKIM both do not pass).", .message, .reputation, permanent: true),
        Judged("550 5.7.25 The IP address sending this message does not have a PTR record setup", .message, .reputation, permanent: true),
        Judged("550 5.7.27 Sender address has null MX", .message, .reputation, permanent: true),
        Judged("550 5.7.23 SPF validation failed", .message, .reputation, permanent: true),
        Judged("550 5.7.1 Email rejected per DMARC policy for example.com", .message, .reputation, permanent: true),
        Judged("554 Message rejected: Email address is not verified. The following identities failed the check in region US-EAST-1: s@example.com",
               .message, .sender, permanent: true),
        Judged("554 Transaction failed: Daily sending quota exceeded", .message, .rateLimit, permanent: true),
        Judged("451 4.7.1 Temporary local problem", .message, .server, permanent: false),
        // No step: the enhanced code, then the basic code, then the text.
        Judged("535 5.7.8 Authentication credentials invalid", nil, .authentication, permanent: true),
        Judged("550 5.7.1 <r@example.net>: Relay access denied", nil, .policy, permanent: true),
        Judged("550 5.1.1 User unknown", nil, .recipient, permanent: true),
        Judged("530 Authentication required", nil, .authentication, permanent: true),
        Judged("421 closing", nil, .rateLimit, permanent: false),
        Judged("454 TLS not available due to temporary reason", nil, .tls, permanent: false),
        Judged("454 Throttling failure: Maximum sending rate exceeded.", nil, .rateLimit, permanent: false),
        Judged("550 5.7.1 Client host blocked: listed on bl.spamcop.net", nil, .reputation, permanent: true),
        Judged("550 5.2.1 Mailbox disabled", nil, .recipient, permanent: true),
        Judged("451 4.4.3 Temporary lookup failure", nil, .dns, permanent: false),
        Judged("421 4.7.28 Our system has detected an unusual rate of unsolicited mail", nil, .rateLimit, permanent: false),
        Judged("550 5.7.30 REQUIRETLS support required", nil, .tls, permanent: true),
        Judged("550 5.7.1 Sender is on our blacklist", nil, .reputation, permanent: true),
        Judged("559 something odd", nil, .server, permanent: true),
    ]

    @Test(arguments: judged)
    func judgesByStep(_ example: Judged) throws {
        let reply = try SMTPReply(parsing: example.reply)
        let explanation = SMTPReplyExplainer.explain(reply, after: example.step)
        #expect(explanation.category == example.category, "\(explanation.meaning)")
        #expect(explanation.permanent == example.permanent)
        #expect(explanation.code == reply.code)
        #expect(explanation.enhancedCode == reply.enhancedStatusCode)
        #expect(explanation.step == example.step)
        #expect(!explanation.meaning.isEmpty)
        #expect(!explanation.references.isEmpty)
        if example.category != .success { #expect(!explanation.checks.isEmpty || !explanation.causes.isEmpty) }
    }

    /// 450 at RCPT is greylisting or a busy mailbox: transient, and never a rate limit, whatever it says.
    @Test(arguments: [
        "450 4.2.0 Greylisted", "450 4.2.1 try again later", "450 4.2.1 Mailbox busy", "450 4.7.1 Please try again later",
        "450 too many", "450 4.2.1 receiving mail at a rate that prevents additional messages", "450 Mailbox unavailable",
    ])
    func fourFiftyAtRcptIsNotRateLimit(_ text: String) throws {
        let explanation = SMTPReplyExplainer.explain(try SMTPReply(parsing: text), after: .rcpt)
        #expect(explanation.category != .rateLimit)
        #expect([.policy, .recipient, .reputation].contains(explanation.category))
        #expect(explanation.permanent == false)
        #expect(explanation.isTransient)
    }

    @Test(arguments: [
        (550, nil, true), (554, "5.7.1", true), (451, "4.7.1", false), (421, nil, false), (250, nil, nil), (354, nil, nil),
        (nil, "5.7.8", true), (nil, "4.4.1", false), (nil, "2.1.5", nil),
    ] as [(Int?, String?, Bool?)])
    func permanence(code: Int?, enhanced: String?, permanent: Bool?) {
        let explanation = SMTPReplyExplainer.explain(code: code, enhanced: enhanced.flatMap { EnhancedStatusCode($0) }, text: "", after: nil)
        #expect(explanation.permanent == permanent)
    }

    @Test func referencesNameTheStandards() throws {
        let auth = SMTPReplyExplainer.explain(try SMTPReply(parsing: "535 5.7.8 Authentication credentials invalid"), after: .auth)
        #expect(auth.references.contains("RFC 4954 §6"))
        #expect(auth.references.contains("IANA SMTP Enhanced Status Codes"))
        let relay = SMTPReplyExplainer.explain(try SMTPReply(parsing: "550 5.7.1 Relay access denied"), after: .rcpt)
        #expect(relay.references.contains("RFC 5321 §4.2.3"))
        #expect(relay.references.contains("RFC 3463 §3.8"))
        #expect(relay.checks.contains { $0.contains("mailaudit relay HOST --user NAME") })
        let dmarc = SMTPReplyExplainer.explain(try SMTPReply(parsing: "550 5.7.26 Multiple authentication checks failed"), after: .message)
        #expect(dmarc.references.contains("RFC 7372 §3.4"))
        #expect(Set(auth.references).count == auth.references.count, "no reference twice")
    }

    @Test func relayDenialIsRecognised() {
        #expect(SMTPReplyExplainer.isRelayDenial("554 5.7.1 <r@example.net>: Relay access denied"))
        #expect(SMTPReplyExplainer.isRelayDenial("550 5.7.1 Unable to relay for r@example.net"))
        #expect(SMTPReplyExplainer.isRelayDenial("550 we do not relay"))
        #expect(!SMTPReplyExplainer.isRelayDenial("550 5.1.1 User unknown"))
    }

    @Test func categoriesHaveStableNames() throws {
        let explanation = SMTPReplyExplainer.explain(try SMTPReply(parsing: "451 4.7.1 Greylisted"), after: .rcpt)
        #expect(explanation.category.rawValue == "policy")
        #expect(SMTPCategory(rawValue: "rate-limit") == .rateLimit)
        #expect(SMTPCategory.allCases.count == 13)
        #expect(SMTPCategory.allCases.allSatisfy { !$0.summary.isEmpty })
    }
}

/// The catalogue covers every basic code of the standards and every code of the IANA registry.
struct SMTPExplainCatalogueTests {
    /// Every code of the IANA "Enumerated Status Codes" registry.
    static let ianaKeys: [String] =
        ["X.0.0"] + (0...10).map { "X.1.\($0)" } + (0...4).map { "X.2.\($0)" } + (0...6).map { "X.3.\($0)" }
        + (0...7).map { "X.4.\($0)" } + (0...6).map { "X.5.\($0)" } + (0...10).map { "X.6.\($0)" } + (0...30).map { "X.7.\($0)" }

    static let basicCodes = [
        211, 214, 220, 221, 250, 251, 252, 354, 421, 450, 451, 452, 455, 500, 501, 502, 503, 504, 550, 551, 552, 553, 554, 555,
        235, 334, 432, 454, 530, 534, 535, 538, 521, 556,
    ]

    @Test func everyIANACodeIsCatalogued() {
        let missing = Self.ianaKeys.filter { SMTPReplyCatalogue.enhanced(registryKey: $0) == nil }
        #expect(missing.isEmpty, "missing: \(missing)")
        #expect(Set(SMTPReplyCatalogue.allEnhanced.map(\.registryKey)) == Set(Self.ianaKeys), "nothing outside the registry")
        #expect(SMTPReplyCatalogue.allEnhanced.count == Self.ianaKeys.count)
    }

    @Test func everyStandardBasicCodeIsCatalogued() {
        let missing = Self.basicCodes.filter { SMTPReplyCatalogue.basic($0) == nil }
        #expect(missing.isEmpty, "missing: \(missing)")
        #expect(SMTPReplyCatalogue.basic(600) == nil)
    }

    @Test func entriesAreComplete() {
        for entry in SMTPReplyCatalogue.allEnhanced {
            #expect(!entry.meaning.isEmpty && !entry.references.isEmpty && !entry.causes.isEmpty, "\(entry.registryKey)")
            #expect(!entry.meaning.contains("|"), "\(entry.registryKey): a pipe would break the doc table")
        }
        for entry in SMTPReplyCatalogue.allBasic {
            #expect(!entry.meaning.isEmpty && !entry.references.isEmpty, "\(entry.code)")
            #expect(!entry.meaning.contains("|"), "\(entry.code): a pipe would break the doc table")
        }
    }

    @Test(arguments: [
        ("5.7.8", SMTPCategory.authentication, "RFC 4954 §6"), ("4.7.0", .policy, "RFC 3463 §3.8"), ("5.7.9", .authentication, "RFC 4954 §6"),
        ("5.7.11", .tls, "RFC 4954 §6"), ("4.7.12", .authentication, "RFC 4954 §6"), ("5.7.13", .authentication, "RFC 5248"),
        ("5.7.14", .authentication, "RFC 5248"), ("5.7.23", .reputation, "RFC 7372 §3.2"), ("5.7.26", .reputation, "RFC 7372 §3.4"),
        ("5.7.30", .tls, "RFC 8689"), ("5.1.10", .dns, "RFC 7505"), ("4.5.3", .rateLimit, "RFC 3463 §3.6"),
        ("5.2.2", .recipient, "RFC 3463 §3.3"), ("5.3.4", .content, "RFC 3463 §3.4"),
    ] as [(String, SMTPCategory, String)])
    func enhancedLookup(code: String, category: SMTPCategory, reference: String) throws {
        let enhanced = try #require(EnhancedStatusCode(code))
        let entry = try #require(SMTPReplyCatalogue.enhanced(enhanced))
        #expect(entry.category == category)
        #expect(entry.reference == reference)
        #expect(entry.registryKey == "X" + code.dropFirst())
    }

    @Test func basicLookup() throws {
        #expect(try #require(SMTPReplyCatalogue.basic(535)).category == .authentication)
        #expect(try #require(SMTPReplyCatalogue.basic(538)).category == .tls)
        #expect(try #require(SMTPReplyCatalogue.basic(421)).category == .rateLimit)
        #expect(try #require(SMTPReplyCatalogue.basic(250)).category == .success)
        #expect(try #require(SMTPReplyCatalogue.basic(556)).reference == "RFC 7504")
        #expect(SMTPReplyCatalogue.basic(550)?.isPermanent == true)
        #expect(SMTPReplyCatalogue.basic(450)?.isPermanent == false)
        #expect(SMTPReplyCatalogue.basic(250)?.isPermanent == nil)
    }
}

/// Relay provider hints found by host name.
struct SMTPExplainProviderHintTests {
    @Test(arguments: [
        ("smtp.sendgrid.net", "SendGrid"), ("SMTP.SendGrid.net.", "SendGrid"), ("smtp.sendgrid.net:587", "SendGrid"),
        ("email-smtp.us-east-1.amazonaws.com", "Amazon SES"), ("email-smtp.eu-west-1.amazonaws.com", "Amazon SES"),
        ("email-smtp-fips.us-east-1.amazonaws.com", "Amazon SES"),
        ("smtp.gmail.com", "Gmail / Google Workspace"), ("smtp-relay.gmail.com", "Gmail / Google Workspace"),
        ("smtp.office365.com", "Microsoft 365 / Outlook"), ("smtp-mail.outlook.com", "Microsoft 365 / Outlook"),
        ("contoso-com.mail.protection.outlook.com", "Microsoft 365 / Outlook"),
        ("smtp.mailgun.org", "Mailgun"), ("smtp.eu.mailgun.org", "Mailgun"),
        ("smtp.postmarkapp.com", "Postmark"), ("smtp-broadcasts.postmarkapp.com", "Postmark"),
        ("smtp-relay.brevo.com", "Brevo (Sendinblue)"), ("smtp-relay.sendinblue.com", "Brevo (Sendinblue)"),
    ])
    func findsTheProvider(host: String, name: String) throws {
        let hint = try #require(RelayProviders.hint(forHost: host))
        #expect(hint.name == name)
        #expect(!hint.hints.isEmpty)
        #expect(!hint.ports.isEmpty)
        #expect(hint.matchingPattern(host: host) != nil)
    }

    @Test(arguments: ["mail.example.com", "email-smtp.amazonaws.com", "x.email-smtp.us-east-1.amazonaws.com", "mail.protection.outlook.com",
                      "sendgrid.net", "", ".", "smtp.gmail.com.evil.example", "::1"])
    func knowsNoOtherHost(host: String) {
        #expect(RelayProviders.hint(forHost: host) == nil)
    }

    @Test func providerFacts() throws {
        let sendGrid = try #require(RelayProviders.hint(forHost: "smtp.sendgrid.net"))
        #expect(sendGrid.hints.contains { $0.contains("apikey") })
        let ses = try #require(RelayProviders.hint(forHost: "email-smtp.us-west-2.amazonaws.com"))
        #expect(ses.ports.contains(2587) && ses.ports.contains(2465) && ses.ports.contains(587) && ses.ports.contains(465))
        #expect(ses.notes.contains { $0.contains("sandbox") })
        #expect(try #require(RelayProviders.hint(forHost: "smtp.office365.com")).hints.contains { $0.contains("5.7.139") })
        #expect(Set(RelayProviders.all.map(\.name)).count == RelayProviders.all.count)
    }
}
