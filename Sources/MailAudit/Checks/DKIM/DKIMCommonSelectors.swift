/// The DKIM selectors discovery tries when the user names none: the names providers and common
/// software use by default. The one place this list lives; `docs/checks.md`
/// ("Common DKIM selectors") shows it as a table.
///
/// Selectors cannot be listed from DNS (RFC 6376 §3.1), so finding none of these proves nothing:
/// the report says which were tried, and never that the domain has no DKIM.
public enum DKIMCommonSelectors {
    /// A selector and who commonly uses it.
    public struct Entry: Hashable, Sendable {
        public var selector: String
        public var usedBy: String
    }

    /// In the order they are reported. All are queried at once.
    public static let entries: [Entry] = [
        Entry(selector: "selector1", usedBy: "Microsoft 365 (first key of the pair)"),
        Entry(selector: "selector2", usedBy: "Microsoft 365 (second key of the pair)"),
        Entry(selector: "google", usedBy: "Google Workspace"),
        Entry(selector: "default", usedBy: "cPanel, Plesk and many hosting panels"),
        Entry(selector: "dkim", usedBy: "Rspamd and many self-hosted setups"),
        Entry(selector: "mail", usedBy: "OpenDKIM examples and self-hosted setups"),
        Entry(selector: "k1", usedBy: "Mailchimp"),
        Entry(selector: "k2", usedBy: "Mailchimp"),
        Entry(selector: "k3", usedBy: "Mailchimp"),
        Entry(selector: "mandrill", usedBy: "Mailchimp Transactional (Mandrill)"),
        Entry(selector: "s1", usedBy: "SendGrid and others"),
        Entry(selector: "s2", usedBy: "SendGrid and others"),
        Entry(selector: "mailjet", usedBy: "Mailjet"),
        Entry(selector: "cm", usedBy: "Campaign Monitor"),
        Entry(selector: "fm1", usedBy: "Fastmail"),
        Entry(selector: "fm2", usedBy: "Fastmail"),
        Entry(selector: "fm3", usedBy: "Fastmail"),
        Entry(selector: "protonmail", usedBy: "Proton Mail"),
        Entry(selector: "protonmail2", usedBy: "Proton Mail"),
        Entry(selector: "protonmail3", usedBy: "Proton Mail"),
        Entry(selector: "zoho", usedBy: "Zoho Mail"),
        Entry(selector: "zmail", usedBy: "Zoho Mail"),
        Entry(selector: "sig1", usedBy: "iCloud Mail custom domains"),
        Entry(selector: "s1024", usedBy: "Yahoo and AOL"),
        Entry(selector: "s2048", usedBy: "Yahoo and AOL"),
    ]

    /// The selectors alone.
    public static var selectors: [String] { entries.map(\.selector) }
}
