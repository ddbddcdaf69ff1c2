import Foundation
import MailAuditCore
import MailAuditRecords
import MailAuditTLS

/// The SASL mechanisms the session can use for AUTH (RFC 4954).
public enum SASLMechanism: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// RFC 4616: user and password in one base64 response.
    case plain = "PLAIN"
    /// The widespread unregistered mechanism: user, then password, each after a 334 prompt.
    case login = "LOGIN"
    /// RFC 2195: an HMAC-MD5 of the server's challenge; the password itself is never sent.
    case cramMD5 = "CRAM-MD5"

    public var description: String { rawValue }

    /// The mechanism to use among those offered: PLAIN, then LOGIN, then CRAM-MD5 over TLS;
    /// CRAM-MD5 first without TLS, where it at least keeps the password off the wire.
    public static func preferred(offered: [String], overTLS: Bool) -> SASLMechanism? {
        let order: [SASLMechanism] = overTLS ? [.plain, .login, .cramMD5] : [.cramMD5, .plain, .login]
        let upper = Set(offered.map { $0.uppercased() })
        return order.first { upper.contains($0.rawValue) }
    }
}

/// One AUTH exchange (RFC 4954 §4): the command, the server's 334 challenges and our
/// responses, until a final reply. Responses that carry the password are sent as secrets.
struct SASLExchange {
    let mechanism: SASLMechanism
    let user: String
    let password: Secret

    /// At most this many 334 challenges before the exchange is cancelled with "*".
    static let maximumChallenges = 4

    func run(on session: SMTPSession) throws(SMTPClientError) -> SMTPReply {
        var reply: SMTPReply
        var responses: [(text: String, secret: Bool)]
        switch mechanism {
        case .plain:
            reply = try session.command("AUTH PLAIN \(plainResponse)", secret: false)
            responses = [(plainResponse, true)]
        case .login:
            reply = try session.command("AUTH LOGIN")
            responses = [(base64(user), false), (base64(password.revealed), true)]
        case .cramMD5:
            reply = try session.command("AUTH CRAM-MD5")
            responses = []
        }
        var challenges = 0
        while reply.code == 334 {
            challenges += 1
            let response: (text: String, secret: Bool)?
            if mechanism == .cramMD5 {
                response = challenges == 1 ? cramResponse(challenge: reply.text).map { ($0, true) } : nil
            } else {
                response = responses.isEmpty ? nil : responses.removeFirst()
            }
            guard let response, challenges <= Self.maximumChallenges else {
                // RFC 4954 §4: "*" cancels the exchange; the server answers 501.
                reply = try session.command("*")
                break
            }
            reply = try session.command(response.text, secret: response.secret)
        }
        return reply
    }

    /// RFC 4616 §2: authzid (empty), NUL, authcid, NUL, password.
    private var plainResponse: String { base64("\0\(user)\0\(password.revealed)") }

    /// RFC 2195 §2: "user hex(HMAC-MD5(password, challenge))", base64-encoded.
    private func cramResponse(challenge: String) -> String? {
        guard let decoded = Data(base64Encoded: challenge.trimmingCharacters(in: .whitespaces)),
              let mac = HMACMD5.authenticationCode(key: Array(password.revealed.utf8), message: Array(decoded)) else { return nil }
        let hex = mac.map { String(format: "%02x", $0) }.joined()
        return base64("\(user) \(hex)")
    }

    private func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }
}
