/// What is peculiar about authenticating to one well-known relay service: the user name it
/// expects, the kind of secret, the ports, and the traps (sandboxes, regions, verified senders).
public struct RelayProviderHint: Hashable, Sendable, Codable {
    public var name: String
    /// Host names this hint is for; `*` stands for exactly one label ("email-smtp.*.amazonaws.com").
    public var hostPatterns: [String]
    /// How to authenticate: the user name, the secret, what is not accepted.
    public var hints: [String]
    /// The submission ports the service offers.
    public var ports: [UInt16]
    /// Which port speaks what (STARTTLS or implicit TLS).
    public var portNote: String
    /// Other traps: verified senders, sandboxes, regions, limits.
    public var notes: [String]

    public init(name: String, hostPatterns: [String], hints: [String], ports: [UInt16], portNote: String, notes: [String] = []) {
        self.name = name
        self.hostPatterns = hostPatterns
        self.hints = hints
        self.ports = ports
        self.portNote = portNote
        self.notes = notes
    }

    /// True when `host` matches one of the patterns (case-insensitive, a final dot and a
    /// ":port" ignored).
    public func matches(host: String) -> Bool {
        matchingPattern(host: host) != nil
    }

    /// The pattern `host` matches, if any.
    public func matchingPattern(host: String) -> String? {
        let labels = Self.labels(of: host)
        guard !labels.isEmpty else { return nil }
        return hostPatterns.first { pattern in
            let patternLabels = pattern.split(separator: ".", omittingEmptySubsequences: false)
            return patternLabels.count == labels.count
                && zip(patternLabels, labels).allSatisfy { $0 == "*" ? !$1.isEmpty : $0 == $1 }
        }
    }

    private static func labels(of host: String) -> [Substring] {
        var name = Substring(host.lowercased())
        // "smtp.gmail.com:587"; an IPv6 literal has several colons and matches nothing anyway.
        if name.filter({ $0 == ":" }).count == 1, let colon = name.firstIndex(of: ":") { name = name[..<colon] }
        if name.hasSuffix(".") { name = name.dropLast() }
        guard !name.isEmpty else { return [] }
        return name.split(separator: ".", omittingEmptySubsequences: false)
    }
}

/// Hints for the relay services people most often configure, found by the relay's host name.
///
/// ```swift
/// RelayProviders.hint(forHost: "email-smtp.eu-west-1.amazonaws.com")?.name   // "Amazon SES"
/// ```
public enum RelayProviders {
    /// The hint for a relay host, or nil for a host no hint knows.
    public static func hint(forHost host: String) -> RelayProviderHint? {
        all.first { $0.matches(host: host) }
    }

    public static let all: [RelayProviderHint] = [
        RelayProviderHint(
            name: "SendGrid",
            hostPatterns: ["smtp.sendgrid.net"],
            hints: ["The user name is the literal word apikey, for every account.",
                    "The password is an API key with the Mail Send permission, not the account password.",
                    "A 535 after a key change usually means the client still has the old or a revoked key."],
            ports: [587, 2525, 25, 465],
            portNote: "587, 2525 and 25 with STARTTLS; 465 with implicit TLS.",
            notes: ["The From address must belong to a verified Sender Identity (a single sender or an authenticated domain)."]),
        RelayProviderHint(
            name: "Amazon SES",
            hostPatterns: ["email-smtp.*.amazonaws.com", "email-smtp-fips.*.amazonaws.com"],
            hints: ["Use SMTP credentials created in the SES console (\"SMTP settings\"): they are not AWS access keys; the SMTP password is derived from a secret key for one region.",
                    "The endpoint is per region (email-smtp.REGION.amazonaws.com) and the credentials only work in the region they were made for."],
            ports: [587, 2587, 25, 465, 2465],
            portNote: "587, 2587 and 25 with STARTTLS; 465 and 2465 with implicit TLS.",
            notes: ["New accounts are in the sandbox: only verified senders and verified recipients, with a low daily quota and rate.",
                    "\"Email address is not verified\" names the identity (sender or, in the sandbox, recipient) that failed.",
                    "\"Throttling failure\" means the account's sending rate or daily quota was exceeded."]),
        RelayProviderHint(
            name: "Gmail / Google Workspace",
            hostPatterns: ["smtp.gmail.com", "smtp.googlemail.com", "smtp-relay.gmail.com"],
            hints: ["smtp.gmail.com: the user name is the full address.",
                    "With 2-Step Verification the password is an app password, not the account password; or use OAuth2 (XOAUTH2).",
                    "Sign-in with only the account password (\"less secure apps\") has been removed: 534 5.7.9 asks for an app password.",
                    "smtp-relay.gmail.com is the Workspace SMTP relay service, set up in the Admin console: it accepts clients by IP address, by SMTP AUTH with a Workspace account, or both, as configured there; a refused client or account gets \"relay denied\"."],
            ports: [587, 465, 25],
            portNote: "587 with STARTTLS and 465 with implicit TLS; smtp-relay.gmail.com also takes 25 with STARTTLS.",
            notes: ["The From address must be the account's own or an alias configured in Gmail; the relay service limits senders to the organisation's domains unless configured otherwise.",
                    "Daily sending limits apply per user."]),
        RelayProviderHint(
            name: "Microsoft 365 / Outlook",
            hostPatterns: ["smtp.office365.com", "smtp-mail.outlook.com", "*.mail.protection.outlook.com"],
            hints: ["smtp.office365.com, smtp-mail.outlook.com: the user name is the mailbox's full address (its user principal name).",
                    "SMTP AUTH must be enabled for the mailbox and the organisation; when it is off the server answers 5.7.139 (\"SmtpClientAuthentication is disabled\").",
                    "Security defaults and Conditional Access block basic authentication; OAuth2 works where the password does not.",
                    "*.mail.protection.outlook.com is the organisation's MX endpoint: no AUTH. Direct send only reaches the organisation's own mailboxes; relaying to outside addresses needs a connector that recognises the client by IP address or certificate, or the server answers relay access denied."],
            ports: [587, 25],
            portNote: "587 with STARTTLS for SMTP AUTH; 25 with STARTTLS for *.mail.protection.outlook.com.",
            notes: ["The From address must be the mailbox or one it may send as.",
                    "Unauthenticated submission to smtp.office365.com is refused with 5.7.57 (client not authenticated).",
                    "For direct send, the sending IP address belongs in the domain's SPF record."]),
        RelayProviderHint(
            name: "Mailgun",
            hostPatterns: ["smtp.mailgun.org", "smtp.eu.mailgun.org"],
            hints: ["SMTP credentials belong to one sending domain: the default user is postmaster@ that domain, and the password is set in the domain's settings.",
                    "A domain in the EU region only works with smtp.eu.mailgun.org, a US one with smtp.mailgun.org."],
            ports: [587, 2525, 25, 465],
            portNote: "587, 2525 and 25 with STARTTLS; 465 with implicit TLS.",
            notes: ["The sending domain must be verified (its DNS records in place) before mail is accepted."]),
        RelayProviderHint(
            name: "Postmark",
            hostPatterns: ["smtp.postmarkapp.com", "smtp-broadcasts.postmarkapp.com"],
            hints: ["Both the user name and the password are the Server API token; or use an SMTP token's access key as the user name and its secret key as the password.",
                    "smtp.postmarkapp.com is the transactional stream, smtp-broadcasts.postmarkapp.com the broadcast stream."],
            ports: [587, 2525, 25],
            portNote: "587, 2525 and 25 with STARTTLS.",
            notes: ["The From address must match a confirmed sender signature or a verified domain."]),
        RelayProviderHint(
            name: "Brevo (Sendinblue)",
            hostPatterns: ["smtp-relay.brevo.com", "smtp-relay.sendinblue.com"],
            hints: ["The login is the SMTP login shown on the account's SMTP settings page, which may differ from the account's address.",
                    "The password is an SMTP key generated there, not the account password and not an API key."],
            ports: [587, 2525, 465],
            portNote: "587 and 2525 with STARTTLS; 465 with implicit TLS.",
            notes: ["The sender address or domain must be verified in the account."]),
    ]
}
