import Foundation
import MailAuditCore
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS
import Testing

/// The session's AUTH, envelope and DATA steps over a scripted stream: what goes on the wire,
/// what the transcript keeps, and when credentials are withheld.
struct SMTPSessionTests {
    static let password = "s3cret-Pa55word!"

    func session(_ replies: [String]) -> (SMTPSession, ScriptedStream) {
        let stream = ScriptedStream(replies)
        let endpoint = SMTPEndpoint(address: IPAddress("127.0.0.1")!, port: 587, hostName: "relay.test", security: .startTLS)
        let session = SMTPSession(
            endpoint: endpoint, ehloName: "client.test", timeouts: .default, deadline: .now + .seconds(5),
            client: SMTPClient(stream: stream), tls: TLSClientConfiguration(serverName: "relay.test"))
        return (session, stream)
    }

    func leaks(_ session: SMTPSession) -> Bool {
        let forms = [Self.password, Data(Self.password.utf8).base64EncodedString(), Data("\0user\0\(Self.password)".utf8).base64EncodedString()]
        return session.client.transcript.contains { line in forms.contains { line.text.contains($0) } }
    }

    @Test func plainAuthSendsTheRFC4616ResponseAndTheTranscriptHidesIt() throws {
        let (session, stream) = session(["250-relay.test\r\n250 AUTH PLAIN LOGIN\r\n", "235 2.7.0 Authentication successful\r\n"])
        _ = try session.ehlo()
        let result = try session.authenticate(user: "user", password: Secret(Self.password), policy: CredentialPolicy(allowPlaintext: true))
        #expect(result.mechanism == .cramMD5 || result.mechanism == .plain)
        #expect(result.reply.code == 235)
        #expect(session.isAuthenticated)
        let expected = "AUTH PLAIN " + Data("\0user\0\(Self.password)".utf8).base64EncodedString() + "\r\n"
        #expect(stream.writtenText.hasSuffix(expected))
        #expect(!leaks(session))
        #expect(session.client.transcript.contains { $0.text == "AUTH PLAIN <redacted>" })
    }

    @Test func loginAuthAnswersBothPromptsAndHidesThePassword() throws {
        let (session, stream) = session([
            "250-relay.test\r\n250 AUTH LOGIN\r\n", "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", "535 5.7.8 Error: authentication failed\r\n",
        ])
        _ = try session.ehlo()
        let result = try session.authenticate(user: "user", password: Secret(Self.password), policy: CredentialPolicy(allowPlaintext: true))
        #expect(result.mechanism == .login)
        #expect(result.reply.code == 535)
        #expect(!session.isAuthenticated)
        #expect(stream.writtenText.contains(Data(Self.password.utf8).base64EncodedString() + "\r\n"))
        #expect(!leaks(session))
    }

    /// A server that echoes the AUTH line in its reply must not carry the password into the reply.
    @Test func anEchoedCredentialIsScrubbedFromTheReplyToo() throws {
        let echoed = Data("\0user\0\(Self.password)".utf8).base64EncodedString()
        let (session, _) = session(["250-relay.test\r\n250 AUTH PLAIN\r\n", "535 5.7.8 bad credentials in AUTH PLAIN \(echoed) and \(Self.password)\r\n"])
        _ = try session.ehlo()
        let result = try session.authenticate(user: "user", password: Secret(Self.password), policy: CredentialPolicy(allowPlaintext: true))
        #expect(result.reply.code == 535)
        #expect(!result.reply.text.contains(Self.password))
        #expect(!result.reply.text.contains(echoed))
        #expect(!leaks(session))
    }

    @Test func onlyXOAUTH2OfferedIsNoUsableMechanism() throws {
        let (session, stream) = session(["250-relay.test\r\n250 AUTH XOAUTH2\r\n"])
        _ = try session.ehlo()
        #expect(throws: SMTPClientError.noUsableMechanism(["XOAUTH2"])) {
            _ = try session.authenticate(user: "user", password: Secret(Self.password), policy: CredentialPolicy(allowPlaintext: true))
        }
        #expect(!stream.writtenText.contains("AUTH"))
    }

    /// RFC 2195 §2's own example.
    @Test func cramMD5MatchesTheRFC2195Example() throws {
        let (session, stream) = session([
            "250-relay.test\r\n250 AUTH CRAM-MD5\r\n",
            "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n", "235 ok\r\n",
        ])
        _ = try session.ehlo()
        _ = try session.authenticate(user: "tim", password: Secret("tanstaaftanstaaf"), policy: CredentialPolicy(allowPlaintext: true))
        #expect(stream.writtenText.contains("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"))
        #expect(!session.client.transcript.contains { $0.text.contains("dGltIGI5MTNh") })
    }

    @Test func credentialsAreWithheldWithoutTLSByDefault() throws {
        let (session, stream) = session(["250-relay.test\r\n250 AUTH PLAIN LOGIN\r\n"])
        _ = try session.ehlo()
        #expect(throws: SMTPClientError.self) {
            _ = try session.authenticate(user: "user", password: Secret(Self.password), policy: .verifiedTLS)
        }
        #expect(!stream.writtenText.contains("AUTH"), "nothing of AUTH went on the wire")
    }

    @Test(arguments: [
        (TLSFactsFixture.verified, CredentialPolicy.verifiedTLS, false),
        (TLSFactsFixture.untrusted, CredentialPolicy.verifiedTLS, true),
        (TLSFactsFixture.wrongName, CredentialPolicy.verifiedTLS, true),
        (TLSFactsFixture.untrusted, CredentialPolicy(allowUnverifiedTLS: true), false),
    ])
    func policyJudgesTheCertificate(tls: TLSFacts, policy: CredentialPolicy, refused: Bool) {
        #expect((policy.refusal(tls: tls) != nil) == refused)
    }

    @Test func envelopeAndDataGoOnTheWireDotStuffed() throws {
        let (session, stream) = session(["250 2.1.0 Ok\r\n", "250 2.1.5 Ok\r\n", "354 End data with <CR><LF>.<CR><LF>\r\n", "250 2.0.0 Ok: queued as 4B2C\r\n"])
        #expect(try session.mail(from: "a@relay.test").code == 250)
        #expect(try session.rcpt(to: "b@inbox.test").code == 250)
        let (data, final) = try session.data(try SMTPMessageData(message: "Subject: t\n\n.leading dot\nend"))
        #expect(data.code == 354)
        #expect(final?.code == 250)
        #expect(stream.writtenText.contains("MAIL FROM:<a@relay.test>\r\nRCPT TO:<b@inbox.test>\r\nDATA\r\nSubject: t\r\n\r\n..leading dot\r\nend\r\n.\r\n"))
    }
}

/// TLS facts for the credential policy.
enum TLSFactsFixture {
    static func facts(result: Int, hostNameMatches: Bool?) -> TLSFacts {
        TLSFacts(
            protocolVersion: .tls1_3, cipher: "TLS_AES_256_GCM_SHA384", peerChain: [],
            verification: ChainVerification(
                result: VerifyCode(rawValue: result), errors: [], hostNameMatches: hostNameMatches, hostName: "relay.test",
                verifiedAt: Date(timeIntervalSince1970: 0), daysUntilExpiry: 90, untrusted: nil))
    }

    static let verified = facts(result: 0, hostNameMatches: true)
    static let untrusted = facts(result: 18, hostNameMatches: true)
    static let wrongName = facts(result: 0, hostNameMatches: false)
}
