/// One basic reply code (RFC 5321 §4.2 and the extensions that add codes): what it means
/// wherever it appears, the usual causes, what to check, and the standard behind it.
/// ``SMTPReplyExplainer`` refines this by the step the reply answers.
public struct BasicReplyEntry: Hashable, Sendable, Codable {
    /// The three-digit code, 211…556.
    public var code: Int
    /// What the category is when nothing else is known.
    public var category: SMTPCategory
    /// A short meaning, in one sentence.
    public var meaning: String
    public var causes: [String]
    public var checks: [String]
    /// The standards that define the code, the first one the main one ("RFC 5321 §4.2.3").
    public var references: [String]

    public init(code: Int, category: SMTPCategory, meaning: String, causes: [String], checks: [String], references: [String]) {
        self.code = code
        self.category = category
        self.meaning = meaning
        self.causes = causes
        self.checks = checks
        self.references = references
    }

    /// The main reference.
    public var reference: String { references.first ?? "" }

    /// 4yz: a transient failure; nil for 2yz and 3yz, which are no failures.
    public var isPermanent: Bool? {
        switch code / 100 {
        case 4: false
        case 5: true
        default: nil
        }
    }
}

/// One entry of the IANA "Enumerated Status Codes" registry of enhanced status codes
/// (RFC 3463, RFC 5248): the subject and detail, with any class ("X.7.8").
public struct EnhancedStatusEntry: Hashable, Sendable, Codable {
    public var subject: Int
    public var detail: Int
    public var category: SMTPCategory
    public var meaning: String
    public var causes: [String]
    public var checks: [String]
    /// The standards that define the code, the first one the main one ("RFC 4954 §6").
    public var references: [String]
    /// True for the catch-all codes (X.0.0, X.n.0, and X.7.1 which servers use for every kind
    /// of refusal): their category is only a default, and the step and the reply text refine it.
    public var isGeneric: Bool

    public init(subject: Int, detail: Int, category: SMTPCategory, meaning: String, causes: [String], checks: [String],
                references: [String], isGeneric: Bool = false) {
        self.subject = subject
        self.detail = detail
        self.category = category
        self.meaning = meaning
        self.causes = causes
        self.checks = checks
        self.references = references
        self.isGeneric = isGeneric
    }

    /// "X.7.8", as the registry lists it.
    public var registryKey: String { "X.\(subject).\(detail)" }

    /// The main reference.
    public var reference: String { references.first ?? "" }
}

/// The one table of SMTP reply codes and enhanced status codes that mailaudit knows, listed
/// in docs/smtp-replies.md (a test keeps the two in step).
///
/// ```swift
/// SMTPReplyCatalogue.basic(535)?.category                              // .authentication
/// SMTPReplyCatalogue.enhanced(EnhancedStatusCode("5.7.26")!)?.meaning   // "Several authentication checks …"
/// ```
public enum SMTPReplyCatalogue {
    /// The entry for a basic reply code, nil for a code the table does not know.
    public static func basic(_ code: Int) -> BasicReplyEntry? { basicByCode[code] }

    /// The entry for an enhanced status code, by subject and detail (the class does not matter:
    /// 4.7.1 and 5.7.1 share X.7.1); nil for a code outside the registry.
    public static func enhanced(_ code: EnhancedStatusCode) -> EnhancedStatusEntry? {
        enhancedByKey[code.registryKey]
    }

    /// The entry for a registry key such as "X.7.8" (also "x.7.8").
    public static func enhanced(registryKey: String) -> EnhancedStatusEntry? {
        enhancedByKey["X" + registryKey.dropFirst()]
    }

    private static let basicByCode: [Int: BasicReplyEntry] = Dictionary(allBasic.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
    private static let enhancedByKey: [String: EnhancedStatusEntry] = Dictionary(allEnhanced.map { ($0.registryKey, $0) }, uniquingKeysWith: { first, _ in first })

    /// Every basic reply code: RFC 5321 §4.2.2/§4.2.3, RFC 3207 §4, RFC 4954 §4 and §6,
    /// RFC 5248, RFC 7504.
    public static let allBasic: [BasicReplyEntry] = [
        basic(211, .success, "System status, or a reply to a help request.",
              causes: ["The server answers a status or HELP query."], checks: [], "RFC 5321 §4.2.3"),
        basic(214, .success, "A help message meant for a person.",
              causes: ["The server answers HELP."], checks: [], "RFC 5321 §4.2.3"),
        basic(220, .success, "The service is ready (the greeting), or ready to start TLS after STARTTLS.",
              causes: ["A normal greeting, or the positive answer to STARTTLS."], checks: [], "RFC 5321 §4.2.3", "RFC 3207 §4"),
        basic(221, .success, "The server is closing the connection, normally after QUIT.",
              causes: ["The answer to QUIT."], checks: [], "RFC 5321 §4.2.3"),
        basic(235, .success, "Authentication succeeded.",
              causes: ["The AUTH exchange completed with valid credentials."], checks: [], "RFC 4954 §6"),
        basic(250, .success, "The requested action was completed.",
              causes: ["The command was accepted; after the message's final dot, the message was queued."], checks: [], "RFC 5321 §4.2.3"),
        basic(251, .success, "The user is not local, but the server will forward the message.",
              causes: ["The server knows where the recipient moved and forwards to it."], checks: [], "RFC 5321 §4.2.3"),
        basic(252, .success, "The server cannot verify the user but will accept the message and try to deliver it.",
              causes: ["An answer to VRFY from a server that does not disclose its users."], checks: [], "RFC 5321 §4.2.3"),
        basic(334, .success, "A challenge in the AUTH exchange: the server waits for the client's next answer.",
              causes: ["The chosen SASL mechanism needs more data (LOGIN asks for the user name, then the password)."],
              checks: [], "RFC 4954 §4"),
        basic(354, .success, "Go ahead: send the message, ending with a line holding a single dot.",
              causes: ["The positive answer to DATA."], checks: [], "RFC 5321 §4.2.3"),
        basic(421, .rateLimit, "The service is not available now and the server is closing the connection.",
              causes: ["Too many connections from this address, or a rate limit for this client.",
                       "The server is overloaded, restarting or in maintenance.",
                       "The client was idle too long."],
              checks: ["Retry later with fewer parallel connections.", "Look for a connection or message limit in the provider's documentation."],
              "RFC 5321 §4.2.3", "RFC 5321 §3.8"),
        basic(432, .authentication, "The user must move to this authentication mechanism first (a password transition).",
              causes: ["The account's stored credentials do not yet support the chosen mechanism."],
              checks: ["Authenticate once with PLAIN over TLS, then retry the chosen mechanism."], "RFC 4954 §6"),
        basic(450, .policy, "The mailbox is not available for now; the action was not taken.",
              causes: ["Greylisting: the first attempt from an unknown sender is deferred.",
                       "The mailbox is busy or temporarily blocked by a policy."],
              checks: ["Retry after some minutes; a normal mail server queue does this itself."], "RFC 5321 §4.2.3"),
        basic(451, .server, "The action was aborted by a local error in processing on the server.",
              causes: ["A temporary fault on the server: a lookup, a content filter or the queue failed.",
                       "Some servers use it for greylisting or temporary policy blocks."],
              checks: ["Retry later.", "If it persists, ask the receiver's postmaster."], "RFC 5321 §4.2.3"),
        basic(452, .server, "The action was not taken: insufficient system storage (or, at RCPT, too many recipients).",
              causes: ["The server's disk or queue is full.", "At RCPT: more recipients than the server takes in one transaction."],
              checks: ["Retry later; send fewer recipients per message."], "RFC 5321 §4.2.3", "RFC 5321 §4.5.3.1.10"),
        basic(454, .tls, "A temporary failure: TLS is not available now (after STARTTLS), or authentication failed for a temporary reason (after AUTH).",
              causes: ["The server's TLS setup is broken or overloaded.", "The server's authentication back end is unreachable."],
              checks: ["Retry later.", "Check the server's certificate and key, or its authentication back end."],
              "RFC 3207 §4", "RFC 4954 §6"),
        basic(455, .protocol, "The server cannot accommodate the parameters of MAIL or RCPT now.",
              causes: ["A parameter such as SIZE or an extension parameter cannot be honoured at the moment."],
              checks: ["Retry later, or without the parameter."], "RFC 5321 §4.2.3"),
        basic(500, .protocol, "Syntax error: the command is not recognised (or the line was too long).",
              causes: ["A command the server does not know, for example AUTH on a server that offers no AUTH.",
                       "After AUTH: an exchange line longer than the server accepts (5.5.6)."],
              checks: ["Compare the command with the EHLO reply's extensions."], "RFC 5321 §4.2.3", "RFC 4954 §6"),
        basic(501, .protocol, "Syntax error in the command's parameters or arguments.",
              causes: ["A malformed address or parameter.", "After AUTH: a response that is not valid base64, or a cancelled exchange."],
              checks: ["Check the address syntax and the command's parameters."], "RFC 5321 §4.2.3", "RFC 4954 §4"),
        basic(502, .protocol, "The command is not implemented.",
              causes: ["The server knows the command but does not offer it here (often AUTH or STARTTLS)."],
              checks: ["Compare the command with the EHLO reply's extensions."], "RFC 5321 §4.2.3"),
        basic(503, .protocol, "Bad sequence of commands.",
              causes: ["A command sent out of order: RCPT before MAIL, DATA before RCPT, AUTH twice or not allowed now."],
              checks: ["Check the client's order: EHLO, STARTTLS, EHLO, AUTH, MAIL, RCPT, DATA."], "RFC 5321 §4.2.3"),
        basic(504, .protocol, "A command parameter is not implemented (after AUTH: the mechanism is not supported).",
              causes: ["An AUTH mechanism the server does not offer.", "A parameter the server does not support."],
              checks: ["Use a mechanism from the EHLO reply's AUTH line."], "RFC 5321 §4.2.3", "RFC 4954 §4"),
        basic(521, .server, "This host does not accept mail at all.",
              causes: ["The address is a host that was set up to refuse all mail, not a mail server."],
              checks: ["Check that the MX records name the right hosts."], "RFC 7504"),
        basic(523, .tls, "Encryption is needed before this authentication mechanism can be used.",
              causes: ["A clear-text mechanism (PLAIN, LOGIN) was tried on an unencrypted connection."],
              checks: ["Start TLS (STARTTLS or port 465) before AUTH."], "RFC 5248"),
        basic(524, .tls, "This authentication mechanism is only allowed over an encrypted connection (historical code).",
              causes: ["A clear-text mechanism was tried without TLS."],
              checks: ["Start TLS before AUTH."], "RFC 4954 §6", "RFC 5248"),
        basic(525, .authentication, "The account is disabled.",
              causes: ["The administrator disabled the account (abuse, billing, a suspected break-in)."],
              checks: ["Ask the provider or administrator to re-enable the account."], "RFC 5248"),
        basic(530, .authentication, "Authentication is required (or STARTTLS must come first).",
              causes: ["The client sent MAIL without AUTH on a server that requires it.",
                       "The server requires STARTTLS before this command (RFC 3207)."],
              checks: ["Authenticate before MAIL: `mailaudit relay HOST --user NAME`.", "Start TLS first if the text asks for it."],
              "RFC 4954 §6", "RFC 3207 §4"),
        basic(534, .authentication, "The authentication mechanism is too weak for this account.",
              causes: ["The account needs a stronger mechanism, an app password or OAuth2."],
              checks: ["Use an app password or OAuth2 where the provider requires it."], "RFC 4954 §6"),
        basic(535, .authentication, "Authentication failed: the credentials are not valid.",
              causes: ["A wrong user name or password, an expired or revoked API key.",
                       "A user name in the wrong form (full address or not).", "An account locked or suspended."],
              checks: ["Check the user name and secret: `mailaudit relay HOST --user NAME`.", "Check the provider's user name form."],
              "RFC 4954 §6"),
        basic(538, .tls, "This authentication mechanism requires an encrypted connection.",
              causes: ["AUTH was tried before STARTTLS."],
              checks: ["Start TLS (STARTTLS or port 465) before AUTH."], "RFC 4954 §6"),
        basic(550, .recipient, "The action was not taken: the mailbox is unavailable (not found, no access, or refused by policy).",
              causes: ["The recipient does not exist.", "The server refuses by policy: relaying, the sender, the client's address."],
              checks: ["Read the text and the enhanced code: they say which of these it is."], "RFC 5321 §4.2.3"),
        basic(551, .recipient, "The user is not local; the server names another path to try.",
              causes: ["The recipient has moved and the server will not forward."],
              checks: ["Use the address the server names."], "RFC 5321 §4.2.3"),
        basic(552, .content, "The action was aborted: storage allocation exceeded (mostly: the message is too big).",
              causes: ["The message is larger than the server's size limit.", "The mailbox is full (older servers)."],
              checks: ["Compare the message size with the SIZE in the EHLO reply."], "RFC 5321 §4.2.3"),
        basic(553, .recipient, "The action was not taken: the mailbox name is not allowed.",
              causes: ["A malformed address.", "At MAIL: a sender address the account may not use."],
              checks: ["Check the address syntax, and that the account may send as this address."], "RFC 5321 §4.2.3"),
        basic(554, .policy, "The transaction failed (at the greeting: no SMTP service for this client).",
              causes: ["A policy refusal: the client's address, the sender, the content.",
                       "At the greeting: the server will not talk to this client at all."],
              checks: ["Read the text: it usually names a block list, a policy or a filter."], "RFC 5321 §4.2.3", "RFC 5321 §3.1"),
        basic(555, .protocol, "MAIL FROM or RCPT TO parameters are not recognised or not implemented.",
              causes: ["An extension parameter (SIZE, BODY, SMTPUTF8) the server did not announce."],
              checks: ["Send only parameters of extensions in the EHLO reply."], "RFC 5321 §4.2.3"),
        basic(556, .dns, "The domain does not accept mail (it publishes a null MX).",
              causes: ["The recipient's domain declares with a null MX that it receives no mail."],
              checks: ["Check the domain's MX records: `mailaudit DOMAIN`."], "RFC 7504", "RFC 7505"),
    ]

    private static func basic(_ code: Int, _ category: SMTPCategory, _ meaning: String, causes: [String], checks: [String],
                              _ references: String...) -> BasicReplyEntry {
        BasicReplyEntry(code: code, category: category, meaning: meaning, causes: causes, checks: checks, references: references)
    }
}
