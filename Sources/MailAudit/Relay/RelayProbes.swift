import Foundation
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS

/// Second looks that tell a TLS-mode mismatch from a silent or broken server, each on a new
/// connection to the same address and port, bounded by a few seconds and the session's deadline.
enum RelayProbes {
    static let timeout: Duration = .seconds(5)

    /// True when the port completes a TLS handshake from the first byte: the server that
    /// stayed silent was waiting for a ClientHello (implicit TLS, RFC 8314 §3.3).
    static func speaksTLSFirst(_ session: SMTPSession) -> Bool {
        let deadline = min(session.deadline, .now + timeout)
        guard deadline > .now else { return false }
        do {
            let client = try TLSClient.connect(
                to: session.endpoint.address, port: session.endpoint.port,
                configuration: TLSClientConfiguration(serverName: session.endpoint.hostName), connectTimeout: timeout, deadline: deadline)
            client.close()
            session.client.note("a second connection completed a TLS handshake at once: this port speaks implicit TLS")
            return true
        } catch {
            return false
        }
    }

    /// The plain-text greeting of the port, when a new connection gets one: the server that
    /// refused our ClientHello speaks plain SMTP first (STARTTLS, RFC 3207).
    static func plainGreeting(of session: SMTPSession) -> SMTPReply? {
        let deadline = min(session.deadline, .now + timeout)
        guard deadline > .now, let connection = try? TCPConnection.connect(
            to: session.endpoint.address, port: session.endpoint.port, timeout: min(timeout, deadline - .now)) else { return nil }
        let client = SMTPClient(stream: connection)
        defer { client.close() }
        guard let reply = try? client.readReply(deadline: deadline) else { return nil }
        session.client.note("a second connection in plain text got: \(reply.code) \(reply.text)")
        return reply
    }
}
