/// What the explainer concludes about one reply, before it is dressed as an ``SMTPExplanation``.
struct SMTPJudgement: Hashable, Sendable {
    var category: SMTPCategory
    var meaning: String
    var causes: [String]
    var checks: [String]
    var references: [String]

    init(_ category: SMTPCategory, _ meaning: String, causes: [String] = [], checks: [String] = [], references: [String] = []) {
        self.category = category
        self.meaning = meaning
        self.causes = causes
        self.checks = checks
        self.references = references
    }
}

/// Reply text, lower-cased once, with phrase tests that respect word starts: "greylist" matches
/// "Greylisted" but "not authenticated" does not match "unauthenticated".
struct ReplyText: Sendable {
    let bytes: [UInt8]

    init(_ text: String) {
        bytes = Array(text.lowercased().utf8)
    }

    /// True when `phrase` (lower case) occurs at the start of a word.
    func has(_ phrase: String) -> Bool { find(Array(phrase.utf8), wholeWord: false) }

    /// True when `word` (lower case) occurs as a whole word.
    func hasWord(_ word: String) -> Bool { find(Array(word.utf8), wholeWord: true) }

    func hasAny(_ phrases: [String]) -> Bool { phrases.contains { has($0) } }

    private func find(_ needle: [UInt8], wholeWord: Bool) -> Bool {
        guard !needle.isEmpty, needle.count <= bytes.count else { return false }
        let first = needle[0]
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first, (index == 0 || !Self.isWordByte(bytes[index - 1]) || !Self.isWordByte(first)) {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched {
                    let end = index + needle.count
                    if !wholeWord || end == bytes.count || !Self.isWordByte(bytes[end]) || !Self.isWordByte(needle[needle.count - 1]) {
                        return true
                    }
                }
            }
            index += 1
        }
        return false
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte)
    }
}

/// A phrase family in reply text that says what a reply is about, whatever its code.
struct TextSignal: Sendable {
    var name: String
    /// Matched at the start of a word.
    var phrases: [String]
    /// Matched as whole words.
    var words: [String] = []
    /// When any of these occurs, the signal does not apply.
    var excluding: [String] = []
    var judgement: SMTPJudgement

    func matches(_ text: ReplyText) -> Bool {
        guard text.hasAny(phrases) || words.contains(where: { text.hasWord($0) }) else { return false }
        return !text.hasAny(excluding)
    }
}

enum TextSignals {
    static let relayCheck = "Authenticate before MAIL: `mailaudit relay HOST --user NAME`."

    /// Phrases distinctive enough to decide the category before any code is read, because the
    /// codes that come with them (550, 554, 4.7.1, 5.7.1) are used for every kind of refusal.
    static let decisive: [TextSignal] = [
        TextSignal(
            name: "microsoft-smtp-auth-disabled",
            phrases: ["5.7.139", "smtpclientauthentication is disabled", "smtp client authentication is disabled"],
            judgement: SMTPJudgement(
                .authentication,
                "Microsoft 365 refuses SMTP AUTH: authenticated SMTP is turned off for this mailbox or the whole organisation.",
                causes: ["Authenticated SMTP is disabled for the tenant or for the mailbox (the default for new tenants).",
                         "Security defaults or a Conditional Access policy block basic authentication."],
                checks: ["Turn on Authenticated SMTP for the mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false) or the tenant (Set-TransportConfig -SmtpClientAuthenticationDisabled $false).",
                         "Use OAuth2 where basic authentication is blocked.",
                         "Try again: `mailaudit relay smtp.office365.com --user NAME`."],
                references: ["RFC 4954 §6"])),
        TextSignal(
            name: "app-password",
            phrases: ["app password", "app-specific password", "application-specific password", "application specific password",
                      "invalidsecondfactor"],
            judgement: SMTPJudgement(
                .authentication,
                "The account uses 2-step verification: the provider wants an app password (or OAuth2), not the account password.",
                causes: ["The account password was used for SMTP on an account with 2-step verification.",
                         "The provider no longer accepts plain passwords from mail clients (Google removed \"less secure apps\")."],
                checks: ["Create an app password in the account's security settings and use it as the SMTP password.",
                         "Or use OAuth2 (XOAUTH2).", "Try again: `mailaudit relay HOST --user NAME`."],
                references: ["RFC 4954 §6"])),
        TextSignal(
            name: "tls-required",
            phrases: ["must issue a starttls", "must issue starttls", "starttls first", "starttls is required", "starttls required",
                      "tls required", "tls is required", "requires tls", "must use tls", "use starttls", "encryption required",
                      "encryption is required", "requires encryption", "secure connection required"],
            judgement: SMTPJudgement(
                .tls,
                "The server requires TLS before this command: start TLS (STARTTLS, or port 465) first.",
                causes: ["The client sent AUTH or MAIL on an unencrypted connection.",
                         "The client does not use STARTTLS although the server announced it."],
                checks: ["Enable STARTTLS in the client, or use port 465 (implicit TLS).",
                         "See what the server offers: `mailaudit relay HOST`."],
                references: ["RFC 3207 §4", "RFC 8314"])),
        TextSignal(
            name: "tls-unavailable",
            phrases: ["tls not available", "tls is not available", "starttls not available", "tls unavailable"],
            judgement: SMTPJudgement(
                .tls,
                "The server cannot start TLS now.",
                causes: ["The server's certificate or key is missing or broken.", "A temporary overload of the server's TLS layer."],
                checks: ["Retry later; if it lasts, tell the server's administrator.", "See what the server offers: `mailaudit relay HOST`."],
                references: ["RFC 3207 §4"])),
        TextSignal(
            name: "block-list",
            phrases: ["spamhaus", "spamcop", "blocked using", "blacklist", "black list", "black-list", "blocklist", "block list",
                      "block-list", "dnsbl", "listed on", "listed at", "listed by", "listed in", "is listed", "sorbs", "uceprotect",
                      "barracudacentral", "poor reputation", "low reputation", "bad reputation", "ip reputation"],
            words: ["rbl", "rbls"],
            excluding: ["not listed"],
            judgement: SMTPJudgement(
                .reputation,
                "The receiver refuses the sending address: it is on a block list (DNSBL) or has a poor reputation.",
                causes: ["The client's IP address or its range is listed, for example at Spamhaus.",
                         "Spam left from this address or a neighbour: a compromised account, a form or an open relay."],
                checks: ["Look the address up at the list named in the text and follow its delisting steps.",
                         "Check the sending address's reverse DNS: `mailaudit DOMAIN --ip ADDRESS`.",
                         "Send through a relay with a good reputation."],
                references: ["RFC 5782"])),
        TextSignal(
            name: "greylisting",
            phrases: ["greylist", "graylist", "grey-list", "gray-list", "grey list", "gray list"],
            judgement: SMTPJudgement(
                .policy,
                "Greylisting: the server defers the first attempt from an unknown sender and accepts a retry after some minutes.",
                causes: ["The first contact from this client, sender and recipient."],
                checks: ["Nothing to fix: retry after a few minutes (a mail queue does so itself).",
                         "If every retry is deferred, make sure retries leave from the same address."],
                references: ["RFC 6647"])),
        TextSignal(
            name: "relay-denied",
            phrases: ["relay access denied", "relaying denied", "relay denied", "relaying not permitted", "relay not permitted",
                      "not permitted to relay", "relaying not allowed", "relay not allowed", "not allowed to relay", "unable to relay",
                      "cannot relay", "we do not relay", "relaying prohibited", "relay prohibited", "relaying is not allowed",
                      "relay access is denied"],
            judgement: SMTPJudgement(
                .policy,
                "Relaying denied: the server will not pass mail on to another domain for this client.",
                causes: ["The client did not authenticate (often because the server offers AUTH only after STARTTLS).",
                         "The client's address is not among the server's allowed relay clients.",
                         "With a relay service: the sender address or domain is not verified with the provider."],
                checks: [relayCheck, "Use the submission port 587 or 465 rather than port 25.",
                         "Verify the sender domain with the relay provider."],
                references: ["RFC 5321 §3.6", "RFC 6409"])),
        TextSignal(
            name: "sending-quota",
            phrases: ["daily sending quota", "sending quota", "daily message quota", "maximum sending rate", "throttling failure",
                      "sending limit", "daily user sending limit", "daily limit", "hourly limit"],
            judgement: SMTPJudgement(
                .rateLimit,
                "The sending account is over its sending quota or rate.",
                causes: ["A daily or per-second limit of the provider (Amazon SES, Gmail, Microsoft 365).",
                         "A new or sandboxed account with low limits."],
                checks: ["Check the account's quota in the provider's console; slow down or ask for a higher limit."])),
        TextSignal(
            name: "sender-not-verified",
            phrases: ["email address is not verified", "address is not verified", "domain is not verified", "domain not verified",
                      "not verified", "unverified", "verified sender identity", "sender identity", "sender signature", "not a verified"],
            excluding: ["certificate"],
            judgement: SMTPJudgement(
                .sender,
                "The relay service does not know this sender: the address or its domain is not verified with the provider.",
                causes: ["The From or MAIL FROM address, or its domain, is not verified in the provider's console.",
                         "Amazon SES sandbox: the recipients must be verified too."],
                checks: ["Verify the sender address or domain with the provider.",
                         "Amazon SES: ask for production access to leave the sandbox."])),
        TextSignal(
            name: "sender-rejected",
            phrases: ["sender address rejected", "sender rejected", "sender denied", "not owned by"],
            judgement: SMTPJudgement(
                .sender,
                "The server rejected the sender address.",
                causes: ["The account may not send as this address (Postfix: \"not owned by user\").",
                         "The sender domain does not resolve, or a rule refuses it."],
                checks: ["Send as an address the account owns.", "Check the sender domain's DNS: `mailaudit DOMAIN`."])),
        TextSignal(
            name: "authentication-required",
            phrases: ["authentication required", "authentication is required", "auth required", "authentication needed",
                      "must authenticate", "must be authenticated", "authenticate first", "auth first", "not authenticated",
                      "please authenticate", "login required"],
            judgement: SMTPJudgement(
                .authentication,
                "The server requires authentication before it accepts this command.",
                causes: ["The client sent MAIL or RCPT without AUTH.",
                         "The client sent no credentials because the server announced no AUTH (often: not before STARTTLS)."],
                checks: [relayCheck, "Start TLS first: many servers announce AUTH only after STARTTLS."],
                references: ["RFC 4954 §6"])),
    ]

    /// Phrases that refine a catch-all code (a missing, unknown or generic enhanced code).
    static let refining: [TextSignal] = [
        TextSignal(
            name: "size",
            phrases: ["message size", "size limit", "too big", "too large", "exceeds size", "exceeds the size", "size exceeds",
                      "message length exceeds", "max message size", "maximum message size", "message file too big"],
            judgement: SMTPJudgement(
                .content, "The message is larger than the server accepts.",
                causes: ["Large attachments, or a limit lower than the sender's."],
                checks: ["Compare the message size with the SIZE in the EHLO reply; share large files by link."],
                references: ["RFC 1870"])),
        TextSignal(
            name: "dmarc", phrases: [], words: ["dmarc"],
            judgement: SMTPJudgement(
                .reputation, "The message failed the sender domain's DMARC policy.",
                causes: ["Neither SPF nor DKIM passed for a domain aligned with the From address.",
                         "The From domain publishes p=reject or p=quarantine."],
                checks: ["Check SPF, DKIM and DMARC for the From domain: `mailaudit DOMAIN`."],
                references: ["RFC 9989"])),
        TextSignal(
            name: "spf", phrases: [], words: ["spf"],
            judgement: SMTPJudgement(
                .reputation, "The message failed the sender domain's SPF check.",
                causes: ["The SPF record does not authorise the address that sent the message.", "The SPF record is broken."],
                checks: ["Evaluate SPF for the sending address: `mailaudit spf DOMAIN --ip ADDRESS`."],
                references: ["RFC 7208"])),
        TextSignal(
            name: "dkim", phrases: [], words: ["dkim"],
            judgement: SMTPJudgement(
                .reputation, "The message failed a DKIM check.",
                causes: ["The message is unsigned, the key is missing, or the signature does not verify."],
                checks: ["Check the DKIM key: `mailaudit dkim DOMAIN --selector S`."],
                references: ["RFC 6376"])),
        TextSignal(
            name: "reverse-dns",
            phrases: ["reverse dns", "reverse-dns", "reverse lookup", "reverse hostname", "reverse mapping", "no ptr", "ptr record",
                      "cannot find your hostname", "cannot find your reverse hostname"],
            words: ["rdns", "ptr", "iprev"],
            judgement: SMTPJudgement(
                .reputation, "The sending address has no valid reverse DNS (PTR), or it does not resolve back.",
                causes: ["No PTR record for the client's IP address, or a generic one that does not name the host."],
                checks: ["Check the PTR record: `mailaudit DOMAIN --ip ADDRESS`."],
                references: ["RFC 8601", "RFC 7372 §3.3"])),
        TextSignal(
            name: "rate",
            phrases: ["rate limit", "rate-limit", "ratelimit", "throttl", "too many", "limit exceeded", "limit reached",
                      "exceeded the rate", "rate exceeded", "too fast", "slow down", "connection limit", "concurrency limit",
                      "unusual rate"],
            words: ["rate", "limit", "limits", "limited"],
            judgement: SMTPJudgement(
                .rateLimit, "The server limits this client: too many connections, messages or recipients, or too fast.",
                causes: ["Parallel connections or a sending rate above the receiver's limit.", "A burst from a new sender."],
                checks: ["Retry later with fewer connections and a lower rate.", "Check the provider's documented limits."])),
        TextSignal(
            name: "mailbox-full",
            phrases: ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded quota", "mailbox quota",
                      "storage quota", "out of storage"],
            judgement: SMTPJudgement(
                .recipient, "The recipient's mailbox is full.",
                causes: ["The recipient is over their storage quota."],
                checks: ["Retry later; tell the recipient through another channel."])),
        TextSignal(
            name: "dns",
            phrases: ["domain not found", "host not found", "host unknown", "domain does not exist", "nxdomain", "name service error",
                      "unresolvable", "temporary lookup failure", "dns lookup", "dns error", "dns failure", "could not resolve",
                      "unable to resolve", "no mx", "null mx"],
            judgement: SMTPJudgement(
                .dns, "A DNS lookup failed, or a domain does not exist in DNS.",
                causes: ["A domain with no MX or address records, or name servers that do not answer."],
                checks: ["Check the domain's DNS: `mailaudit DOMAIN`."])),
        TextSignal(
            name: "unknown-recipient",
            phrases: ["user unknown", "unknown user", "no such user", "no such recipient", "unknown recipient", "recipient unknown",
                      "recipient not found", "mailbox not found", "mailbox unavailable", "does not exist", "invalid recipient",
                      "no mailbox", "address not found", "no valid recipients"],
            judgement: SMTPJudgement(
                .recipient, "The recipient does not exist on this server.",
                causes: ["A typo in the address, or a mailbox that was removed."],
                checks: ["Check the recipient address with its owner."])),
        TextSignal(
            name: "content",
            phrases: ["unsolicited", "content rejected", "message content", "infected", "spam score", "suspicious", "bulk mail",
                      "content filter", "identified as spam", "looks like spam"],
            words: ["spam", "virus", "malware", "phishing"],
            judgement: SMTPJudgement(
                .content, "A filter rejected the message for its content: spam, malware or a content policy.",
                causes: ["Spam-like wording or links, an attachment type the receiver blocks, or a virus."],
                checks: ["Check the message's links, attachments and headers; send a plain test message to compare.",
                         "Make sure SPF, DKIM and DMARC pass: `mailaudit DOMAIN`."])),
        TextSignal(
            name: "authentication-failed",
            phrases: ["authentication failed", "authentication unsuccessful", "authentication failure", "invalid credentials",
                      "bad credentials", "badcredentials", "username and password not accepted", "incorrect authentication",
                      "incorrect password", "invalid login", "login failed", "auth failed", "authentication credentials invalid"],
            judgement: SMTPJudgement(
                .authentication, "Authentication failed: the server did not accept the credentials.",
                causes: ["A wrong user name or password, or a revoked key."],
                checks: ["Check the user name and secret: `mailaudit relay HOST --user NAME`."],
                references: ["RFC 4954 §6"])),
        TextSignal(
            name: "server-trouble",
            phrases: ["shutting down", "maintenance", "system problem", "local error", "local problem", "internal error", "server error",
                      "queue file write error", "insufficient system storage", "disk full", "out of resources", "not enough resources",
                      "system resources"],
            judgement: SMTPJudgement(
                .server, "The receiving server has a problem of its own.",
                causes: ["A local error, a full disk, maintenance or a restart."],
                checks: ["Retry later; if it lasts, tell the receiver's postmaster."])),
        TextSignal(
            name: "connection",
            phrases: ["timeout", "timed out", "time out", "connection reset", "connection refused", "lost connection",
                      "connection closed", "connection dropped", "network is unreachable", "no route to host", "idle too long"],
            judgement: SMTPJudgement(
                .connectivity, "The connection timed out or broke.",
                causes: ["A slow or broken network path, or a client that waited too long between commands."],
                checks: ["Retry; test the connection: `mailaudit relay HOST`."])),
    ]

    static func first(_ signals: [TextSignal], in text: ReplyText) -> TextSignal? {
        signals.first { $0.matches(text) }
    }

    static func named(_ name: String) -> TextSignal? {
        (decisive + refining).first { $0.name == name }
    }
}
