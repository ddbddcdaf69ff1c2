/// What a reply answers: the greeting or one command of the dialogue (RFC 5321 §4.1, §4.3.2).
/// The same code means different things at different steps: 450 at RCPT is greylisting or a
/// busy mailbox, at MAIL a sender problem; 530 at AUTH is unlike 530 at MAIL.
public enum SMTPCommandStep: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The 220 (or 421/554) a server sends on connect (RFC 5321 §3.1).
    case greeting
    case ehlo
    case helo
    /// STARTTLS (RFC 3207 §4).
    case startTLS = "starttls"
    /// AUTH and its SASL exchange (RFC 4954 §4).
    case auth
    case mail
    case rcpt
    /// The reply to the DATA command itself, normally 354.
    case data
    /// The reply after the message's final "." (RFC 5321 §4.1.1.4).
    case message
    case rset
    case noop
    case quit

    public var description: String { rawValue }
}
