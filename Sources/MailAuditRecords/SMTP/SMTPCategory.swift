/// What an SMTP reply is about, so a report can say where to look, not only what the server said.
///
/// The categories, as listed in docs/smtp-replies.md:
///
/// | raw value | what it covers |
/// | --- | --- |
/// | `success` | the command was accepted (2xx) or the server waits for more (3xx) |
/// | `connectivity` | reaching the server or keeping the connection: timeouts, routing, lost connections |
/// | `authentication` | SMTP AUTH: credentials, mechanisms, accounts, app passwords, AUTH required |
/// | `tls` | STARTTLS and encryption: TLS required, not available, REQUIRETLS |
/// | `policy` | the receiver's rules: relaying denied, greylisting, not authorised, access lists |
/// | `rate-limit` | too much, too fast: connections, messages, recipients, sending quotas |
/// | `recipient` | the recipient address or mailbox: unknown, full, disabled, moved |
/// | `sender` | the sender address or domain: syntax, unverified, not owned, not resolvable |
/// | `reputation` | who is sending: block lists, reverse DNS, SPF, DKIM, DMARC, ARC |
/// | `content` | the message itself: size, format, conversions, spam or virus filters |
/// | `protocol` | the SMTP dialogue: unknown commands, syntax, sequence, parameters |
/// | `server` | the receiving mail system: local errors, storage, load, configuration |
/// | `dns` | DNS data or lookups: unknown domains, null MX, failing lookups, no route |
public enum SMTPCategory: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case success
    case connectivity
    case authentication
    case tls
    case policy
    case rateLimit = "rate-limit"
    case recipient
    case sender
    case reputation
    case content
    case `protocol`
    case server
    case dns

    /// One line saying what the category covers.
    public var summary: String {
        switch self {
        case .success: "The command was accepted, or the server is waiting for the next part."
        case .connectivity: "Reaching the server or keeping the connection open: timeouts, routing, dropped connections."
        case .authentication: "SMTP AUTH: the credentials, the mechanism, the account, or authentication that is required but missing."
        case .tls: "Encryption: STARTTLS required or unavailable, a mechanism that needs TLS, REQUIRETLS."
        case .policy: "The receiver's rules: relaying denied, greylisting, senders or hosts not authorised."
        case .rateLimit: "Too much or too fast: connections, messages, recipients or a sending quota over a limit."
        case .recipient: "The recipient address or mailbox: unknown, full, disabled, moved or not accepting mail."
        case .sender: "The sender address or domain: bad syntax, not verified, not owned by the account, not resolvable."
        case .reputation: "Who is sending: block lists, reverse DNS, and SPF, DKIM, DMARC or ARC results."
        case .content: "The message itself: its size, format, encoding, or what a spam or virus filter found in it."
        case .protocol: "The SMTP dialogue: a command the server does not know, bad syntax, wrong order or parameters."
        case .server: "The receiving mail system: a local error, storage, load, maintenance or its configuration."
        case .dns: "DNS data or lookups: a domain that does not exist, a null MX, failing lookups, no route."
        }
    }

    public var description: String { rawValue }
}
