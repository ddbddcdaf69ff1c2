import Foundation
@testable import MailAudit
import MailAuditCore
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS
import Testing

/// The relay walk's verdicts from hand-made answers and replies: each row names the step's
/// status and category, never message text.
struct RelayVerdictTests {
    static let name = try! DomainName(parsing: "smtp.relay.test")
    static let verdicts = RelayVerdicts(options: RelayOptions(host: "smtp.relay.test", ehloName: "client.test"), port: 587, mode: .startTLS)

    static func answer(_ type: RRType, _ outcome: DNSOutcome, chain: [DomainName] = []) -> DNSAnswer {
        DNSAnswer(question: DNSQuestion(name, type), outcome: outcome, cnameChain: chain)
    }

    static let address = DNSRecord(name: name, type: .a, ttl: 300, data: .a(IPAddress("127.0.20.1")!))

    @Test(arguments: [
        ([answer(.a, .records([address])), answer(.aaaa, .noData)], RelayStepStatus.pass, nil as RelayCategory?, 1),
        ([answer(.a, .nxDomain), answer(.aaaa, .nxDomain)], .fail, .dns, 0),
        ([answer(.a, .noData), answer(.aaaa, .noData)], .fail, .dns, 0),
        ([answer(.a, .cnameLoop), answer(.aaaa, .cnameLoop)], .fail, .dns, 0),
        ([answer(.a, .timeout), answer(.aaaa, .timeout)], .inconclusive, nil, 0),
        ([answer(.a, .serverFailure(rcode: 2)), answer(.aaaa, .noData)], .inconclusive, nil, 0),
    ] as [([DNSAnswer], RelayStepStatus, RelayCategory?, Int)])
    func dnsStep(answers: [DNSAnswer], status: RelayStepStatus, category: RelayCategory?, addresses: Int) {
        let (step, found) = RelayVerdicts.dns(name: Self.name, answers: answers)
        #expect(step.status == status)
        #expect(step.category == category)
        #expect(found.count == addresses)
        #expect(step.evidence.first == "looked up smtp.relay.test. A and AAAA", "the step says which name was looked up")
    }

    @Test func aCNAMEChainIsShown() throws {
        let target = try DomainName(parsing: "relay.provider.test")
        let record = DNSRecord(name: target, type: .a, ttl: 300, data: .a(IPAddress("127.0.20.1")!))
        let (step, _) = RelayVerdicts.dns(name: Self.name, answers: [Self.answer(.a, .records([record]), chain: [target])])
        #expect(step.status == .pass)
        #expect(step.summary.contains("relay.provider.test."))
        #expect(step.evidence.contains("smtp.relay.test. IN CNAME relay.provider.test."))
    }

    static func attempt(_ port: UInt16, _ result: PortAttempt.Result) -> PortAttempt {
        PortAttempt(port: port, address: "127.0.20.1", result: result, detail: nil, milliseconds: 1)
    }

    @Test func filteredPortsNameTheFirewallAndTheCloudBlock() {
        let step = RelayVerdicts.connectFailure([Self.attempt(25, .timedOut)], portGiven: true)
        #expect(step.status == .fail)
        #expect(step.category == .connectivity)
        #expect(step.remedy?.contains("AWS") == true)
        #expect(step.summary.contains("filtered"))
    }

    @Test func refusedIsNotFiltered() {
        let step = RelayVerdicts.connectFailure([Self.attempt(587, .refused), Self.attempt(465, .refused)], portGiven: false)
        #expect(step.category == .connectivity)
        #expect(step.summary.contains("refused"))
        #expect(!step.summary.contains("filtered"))
    }

    static func reply(_ text: String) -> SMTPReply { try! SMTPReply(parsing: text) }

    @Test(arguments: [
        ("550 5.7.1 <b@inbox.test>: Relay access denied", RelayStepName.rcpt, true, RelayCategory.authentication),
        ("550 5.7.1 <b@inbox.test>: Relay access denied", .rcpt, false, .policy),
        ("530 5.7.0 Authentication required", .mail, true, .authentication),
        ("452 4.5.3 Error: too many recipients", .rcpt, false, .policy),
        ("451 4.7.1 Greylisted, try again later", .rcpt, false, .policy),
        ("550 5.1.1 <b@inbox.test>: Recipient address rejected: User unknown", .rcpt, true, .policy),
        ("554 5.7.1 <b@elsewhere.test>: Access denied", .rcpt, true, .authentication),
        ("553 5.7.1 <a@relay.test>: Sender address rejected: not logged in", .mail, true, .authentication),
        ("530 5.7.0 Must issue a STARTTLS command first", .mail, true, .tls),
        ("450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", .rcpt, false, .dns),
        ("504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname", .rcpt, true, .dns),
    ] as [(String, RelayStepName, Bool, RelayCategory)])
    func envelopeRefusals(text: String, step: RelayStepName, authOfferedNotUsed: Bool, category: RelayCategory) {
        let verdict = Self.verdicts.envelope(Self.reply(text), step: step, address: "b@inbox.test", authOfferedNotUsed: authOfferedNotUsed)
        #expect(verdict.status == .fail)
        #expect(verdict.category == category)
        #expect(verdict.reply?.code == Self.reply(text).code)
    }

    @Test(arguments: [
        ("535 5.7.8 Error: authentication failed", RelayCategory.authentication),
        ("534 5.7.9 Please log in with an application-specific password", .authentication),
        ("538 5.7.11 Encryption required for requested authentication mechanism", .tls),
        ("454 4.7.0 Temporary authentication failure", .authentication),
    ] as [(String, RelayCategory)])
    func authRefusals(text: String, category: RelayCategory) {
        let step = Self.verdicts.auth(SMTPAuthentication(mechanism: .plain, reply: Self.reply(text)), user: "app")
        #expect(step.status == .fail)
        #expect(step.category == category)
    }

    @Test func busyGreetingIsAPolicyFailureWithTheReply() {
        let step = Self.verdicts.greeting(Self.reply("421 4.7.0 Too many connections, try again later"))
        #expect(step.status == .fail)
        #expect(step.category == .policy)
        #expect(step.summary.hasPrefix("421 4.7.0 Too many connections"))
    }

    @Test func silenceOnAnImplicitTLSPortIsATLSModeMismatch() {
        let step = Self.verdicts.greetingFailure(.timedOut, portWantsTLS: true)
        #expect(step.category == .tls)
        #expect(step.summary.contains("wants TLS from the first byte"))
        #expect(Self.verdicts.greetingFailure(.timedOut, portWantsTLS: false).category == .connectivity)
    }

    @Test func authBeforeTLSIsAWarningAndMissingSTARTTLSAFailure() {
        let offersAuth = SMTPCapabilities(ehloReply: Self.reply("250-relay.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN"))
        let ehlo = Self.verdicts.ehlo(Self.reply("250-relay.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN"), capabilities: offersAuth, encrypted: false)
        #expect(ehlo.status == .warning)
        let plain = SMTPCapabilities(ehloReply: Self.reply("250-relay.test\r\n250 8BITMIME"))
        let missing = Self.verdicts.ehlo(Self.reply("250-relay.test\r\n250 8BITMIME"), capabilities: plain, encrypted: false)
        #expect(missing.status == .fail)
        #expect(missing.category == .tls)
    }

    @Test func aServerWithoutEHLOCannotOfferSTARTTLS() {
        let step = Self.verdicts.heloOnly(ehlo: Self.reply("502 5.5.2 Error: command not recognized"), helo: Self.reply("250 relay.test"))
        #expect(step.status == .fail)
        #expect(step.category == .tls)
        let plain = RelayVerdicts(options: RelayOptions(host: "relay.test", ehloName: "client.test"), port: 25, mode: .plain)
        #expect(plain.heloOnly(ehlo: Self.reply("502 no"), helo: Self.reply("250 relay.test")).status == .warning)
    }

    @Test func authAfterSTARTTLSSkippedUnderSecurityNoneIsTLS() {
        let plain = RelayVerdicts(options: RelayOptions(host: "relay.test", ehloName: "client.test"), port: 587, mode: .plain)
        #expect(plain.authNotOffered(before: nil, startTLSOffered: true).category == .tls)
        #expect(Self.verdicts.authNotOffered(before: nil, startTLSOffered: false).category == .authentication)
    }

    @Test func withheldCredentialsAreATLSProblemAndNoMechanismAnAuthenticationOne() {
        #expect(Self.verdicts.authFailure(.credentialsWithheld("no TLS"), encrypted: false).category == .tls)
        #expect(Self.verdicts.authFailure(.noUsableMechanism(["XOAUTH2"]), encrypted: true).category == .authentication)
    }

    @Test func tls10IsSaidPlainly() {
        var facts = TLSFactsFixture.verified
        facts.protocolVersion = .tls1_0
        let step = Self.verdicts.tls(facts, how: "STARTTLS")
        #expect(step.status == .fail)
        #expect(step.category == .tls)
        #expect(step.summary == "the server offers only TLS 1.0; current clients require TLS 1.2 or later")
    }

    @Test func theFirstFailingStepIsTheRootCause() {
        let report = RelayReport(
            host: "h", port: 587, security: .auto, address: nil,
            steps: [RelayStep(.dns, .pass, ""), RelayStep(.connect, .pass, ""), RelayStep(.greeting, .warning, "", category: .policy),
                    RelayStep(.ehlo, .fail, "", category: .tls), RelayStep(.tls, .fail, "", category: .connectivity)],
            ports: [], capabilities: nil, tls: nil, authMechanism: nil, providerHints: [], transcript: [], startedAt: Date(), duration: .zero)
        #expect(report.firstFailure == RelayFirstFailure(step: .ehlo, category: .tls))
        #expect(report.exitCode == 1)
    }
}

/// Secrets print, interpolate, dump and encode as `<redacted>`.
struct SecretTests {
    @Test func aSecretNeverShowsItsValue() throws {
        let secret = Secret("hunter2-value")
        #expect("\(secret)" == "<redacted>")
        #expect(String(describing: secret) == "<redacted>")
        #expect(String(reflecting: secret) == "Secret(<redacted>)")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        let json = String(decoding: try JSONEncoder().encode(["password": secret]), as: UTF8.self)
        #expect(!json.contains("hunter2"))
    }
}

/// DATA encoding: CRLF, dot-stuffing, the 998-octet limit.
struct SMTPMessageDataTests {
    @Test(arguments: [
        ("a\nb", "a\r\nb\r\n.\r\n"),
        ("a\r\nb\r\n", "a\r\nb\r\n.\r\n"),
        ("a\rb", "a\r\nb\r\n.\r\n"),
        (".\n..x\nx.", "..\r\n...x\r\nx.\r\n.\r\n"),
        ("", ".\r\n"),
    ])
    func encodes(message: String, wire: String) throws {
        #expect(String(decoding: try SMTPMessageData(message: message).bytes, as: UTF8.self) == wire)
    }

    @Test func linesOver998OctetsAreRefused() throws {
        #expect(throws: SMTPMessageDataError.lineTooLong(line: 2, length: 999)) {
            try SMTPMessageData(message: "ok\n" + String(repeating: "x", count: 999))
        }
        #expect(try SMTPMessageData(message: String(repeating: "x", count: 998)).lineCount == 1)
    }
}
