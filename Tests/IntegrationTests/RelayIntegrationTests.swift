import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditSMTP
import MailAuditTesting
import Testing

/// `mailaudit relay` against real servers on loopback: a Postfix submission service with Cyrus
/// SASL, scripted responders, a refused port, a filtered port in a network namespace, and NSD
/// for the relay's names. Each case asserts the first failing step and its category.
@Suite(.serialized, .tags(.smtp, .nsd))
struct RelayIntegrationTests {
    /// The lab, started once for the suite.
    final class Lab: Sendable {
        let ca: TestCA
        let postfix: PostfixSubmissionServer
        let scripted: [String: ScriptedSMTPListener]
        let nsd: NSDServer

        init(ca: TestCA, postfix: PostfixSubmissionServer, scripted: [String: ScriptedSMTPListener], nsd: NSDServer) {
            self.ca = ca
            self.postfix = postfix
            self.scripted = scripted
            self.nsd = nsd
        }

        var resolver: CachingResolver {
            DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(nsd.port ?? 0))], timeout: .seconds(1), attempts: 2)
        }

        func scriptedPort(_ name: String) -> UInt16 { scripted[name]?.port ?? 0 }
    }

    static let names: [(name: String, address: String)] = [
        ("smtp", "127.0.20.1"), ("encrypt", "127.0.20.2"), ("early", "127.0.20.3"), ("tls10", "127.0.20.4"),
    ]

    static let shared = LabOnce()

    actor LabOnce {
        private var lab: Lab?
        func get() async throws -> Lab {
            if let lab { return lab }
            let started = try await RelayIntegrationTests.startLab()
            lab = started
            return started
        }
    }

    static func startLab() async throws -> Lab {
        let ca = try await TestCA.create()
        var chains: [String: URL] = [:]
        for (name, _) in names { chains[name] = try await ca.issue(.valid, for: "\(name).relay.test").chainFile }
        func chain(_ name: String) -> URL { chains[name] ?? URL(fileURLWithPath: "/nonexistent") }
        let postfix = PostfixSubmissionServer(listeners: [
            .submission("587", address: "127.0.20.1", port: 587, hostName: "smtp.relay.test", chainFile: chain("smtp")),
            .implicitTLS("465", address: "127.0.20.1", port: 465, hostName: "smtp.relay.test", chainFile: chain("smtp")),
            .tlsRequired("encrypt", address: "127.0.20.2", port: 587, hostName: "encrypt.relay.test", chainFile: chain("encrypt")),
            .authBeforeTLS("early", address: "127.0.20.3", port: 587, hostName: "early.relay.test", chainFile: chain("early")),
            .tls10Only("tls10", address: "127.0.20.4", port: 587, hostName: "tls10.relay.test", chainFile: chain("tls10")),
        ])
        try await postfix.start()
        var scripted: [String: ScriptedSMTPListener] = [:]
        let scripts: [(String, ScriptedSMTPListener.Script)] = [
            ("busy", .busy), ("badcredentials", .rejectsCredentials), ("mailauth", .mailNeedsAuthentication),
            ("toomany", .tooManyRecipients), ("greylist", .greylists),
        ]
        for (index, (name, script)) in scripts.enumerated() {
            let listener = ScriptedSMTPListener(script, address: "127.0.21.\(index + 1)")
            try await listener.start()
            scripted[name] = listener
        }
        var zone = """
            $ORIGIN relay.test.
            $TTL 300
            @ IN SOA ns.relay.test. hostmaster.relay.test. 1 3600 600 86400 300
            @ IN NS ns.relay.test.
            ns IN A 127.0.0.1
            alias IN CNAME smtp.relay.test.
            noaddress IN TXT "no address here"

            """
        for (name, address) in names { zone += "\(name) IN A \(address)\n" }
        let nsd = NSDServer(zones: [.text("relay.test", zone)])
        try await nsd.start()
        return Lab(ca: ca, postfix: postfix, scripted: scripted, nsd: nsd)
    }

    static func options(_ lab: Lab, _ host: String, port: UInt16? = nil, security: RelaySecurity = .auto) -> RelayOptions {
        var options = RelayOptions(host: host, ehloName: "client.mailaudit.test")
        options.port = port
        options.security = security
        options.caFile = lab.ca.rootFile.path
        options.verificationTime = TestCA.referenceTime
        options.timeouts = SMTPTimeouts(
            connect: .seconds(1), greeting: .seconds(2), command: .seconds(3), tlsHandshake: .seconds(3), data: .seconds(5), total: .seconds(20))
        return options
    }

    static func diagnose(_ lab: Lab, _ options: RelayOptions) async -> RelayReport {
        await RelayDiagnosis(resolver: lab.resolver, options: options).run()
    }

    static func status(_ report: RelayReport, _ step: RelayStepName) -> RelayStepStatus? {
        report.steps.first { $0.step == step }?.status
    }

    // MARK: Postfix submission with Cyrus SASL

    @Test func submissionWithSTARTTLSAndAuthWorksEndToEnd() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "smtp.relay.test", port: 587)
        options.user = lab.postfix.login
        options.password = Secret(lab.postfix.password)
        options.from = "app@relay.test"
        options.to = "someone@elsewhere.test"
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == nil, "\(report.steps.map { "\($0.step) \($0.status) \($0.summary)" })")
        #expect(report.exitCode == 0)
        #expect(report.steps.map(\.step) == RelayStepName.allCases)
        #expect(Self.status(report, .auth) == .pass)
        #expect(Self.status(report, .rcpt) == .pass)
        #expect(Self.status(report, .data) == .skipped)
        #expect(report.tls?.verification.isValid == true)
        #expect(!report.transcript.contains { $0.text.contains(lab.postfix.password) })
        #expect(report.transcript.contains { $0.text == "RSET" }, "the envelope is reset without --send-test")
    }

    @Test func noPortTriesTheFourCandidatesAndPrefers587() async throws {
        let lab = try await Self.shared.get()
        let report = await Self.diagnose(lab, Self.options(lab, "smtp.relay.test"))
        #expect(report.port == 587)
        let results = Dictionary(uniqueKeysWithValues: report.ports.map { ($0.port, $0.result) })
        #expect(results == [587: .connected, 465: .connected, 25: .refused, 2525: .refused])
        #expect(report.firstFailure == nil)
    }

    @Test func implicitTLSOn465WithAuthAndSendTestDeliversToTheMaildir() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "smtp.relay.test", port: 465)
        options.user = lab.postfix.user
        options.password = Secret(lab.postfix.password)
        options.from = "app@relay.test"
        options.to = "inbox@inbox.test"
        options.sendTest = true
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == nil, "\(report.steps.map { "\($0.step) \($0.status) \($0.summary)" })")
        #expect(Self.status(report, .tls) == .pass)
        #expect(Self.status(report, .data) == .pass)
        let delivered = await lab.postfix.waitForMessages(count: 1) { $0.contains("Subject: mailaudit relay test through smtp.relay.test") }
        #expect(!delivered.isEmpty, "the test message reached the Maildir")
    }

    @Test func wrongPasswordIsAnAuthenticationFailure() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "smtp.relay.test", port: 587)
        options.user = lab.postfix.login
        options.password = Secret("not-the-password")
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == RelayFirstFailure(step: .auth, category: .authentication))
        #expect(report.steps.first { $0.step == .auth }?.reply?.code == 535)
    }

    @Test func relayingWithoutAuthIsDeniedAndBlamedOnAuthentication() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "smtp.relay.test", port: 587)
        options.from = "app@relay.test"
        options.to = "someone@elsewhere.test"
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == RelayFirstFailure(step: .rcpt, category: .authentication))
        let reply = report.steps.first { $0.step == .rcpt }?.reply
        #expect(reply?.code == 550)
        #expect(reply?.enhancedStatusCode?.description == "5.7.1")
    }

    @Test func tlsRequiredBeforeMailIsATLSFailure() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "encrypt.relay.test", port: 587, security: .none)
        options.from = "app@relay.test"
        options.to = "inbox@inbox.test"
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == RelayFirstFailure(step: .mail, category: .tls))
        #expect(report.steps.first { $0.step == .mail }?.reply?.code == 530)
    }

    @Test func authOfferedBeforeTLSIsAWarningAndTheWalkGoesOn() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "early.relay.test", port: 587)
        options.user = lab.postfix.login
        options.password = Secret(lab.postfix.password)
        let report = await Self.diagnose(lab, options)
        #expect(Self.status(report, .ehlo) == .warning)
        #expect(Self.status(report, .auth) == .pass)
        #expect(report.firstFailure == nil)
    }

    @Test func aTLS10OnlyServerIsNamedPlainly() async throws {
        let lab = try await Self.shared.get()
        let report = await Self.diagnose(lab, Self.options(lab, "tls10.relay.test", port: 587))
        #expect(report.firstFailure == RelayFirstFailure(step: .tls, category: .tls))
        let summary = report.steps.first { $0.step == .tls }?.summary ?? ""
        #expect(summary.contains("TLS 1.0") || summary.contains("no TLS version in common"), "\(summary)")
    }

    @Test func starttlsOnAnImplicitTLSPortIsAModeMismatch() async throws {
        let lab = try await Self.shared.get()
        let started = ContinuousClock.now
        let report = await Self.diagnose(lab, Self.options(lab, "smtp.relay.test", port: 465, security: .starttls))
        #expect(report.firstFailure == RelayFirstFailure(step: .greeting, category: .tls))
        #expect(report.steps.first { $0.step == .greeting }?.summary.contains("wants TLS from the first byte") == true)
        #expect(ContinuousClock.now - started < .seconds(15), "ends after the greeting timeout and one short probe")
    }

    @Test func implicitTLSOnASTARTTLSPortIsAModeMismatch() async throws {
        let lab = try await Self.shared.get()
        let report = await Self.diagnose(lab, Self.options(lab, "smtp.relay.test", port: 587, security: .implicit))
        #expect(report.firstFailure == RelayFirstFailure(step: .tls, category: .tls))
        #expect(report.steps.first { $0.step == .tls }?.summary.contains("plain SMTP first") == true)
    }

    @Test func anUntrustedCertificateWithholdsCredentials() async throws {
        let lab = try await Self.shared.get()
        var options = Self.options(lab, "smtp.relay.test", port: 587)
        options.caFile = nil  // the system store does not know the test CA
        options.user = lab.postfix.login
        options.password = Secret(lab.postfix.password)
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == RelayFirstFailure(step: .tls, category: .tls))
        #expect(!report.transcript.contains { $0.text.hasPrefix("AUTH") }, "no AUTH over unverified TLS")
    }

    // MARK: scripted responders

    @Test(arguments: [
        ("busy", RelayStepName.greeting, RelayCategory.policy, false),
        ("badcredentials", .auth, .authentication, true),
        ("mailauth", .mail, .authentication, false),
        ("toomany", .rcpt, .policy, false),
        ("greylist", .rcpt, .policy, false),
    ] as [(String, RelayStepName, RelayCategory, Bool)])
    func scriptedResponder(name: String, step: RelayStepName, category: RelayCategory, authenticate: Bool) async throws {
        let lab = try await Self.shared.get()
        let address = lab.scripted[name]?.address ?? ""
        var options = Self.options(lab, address, port: lab.scriptedPort(name), security: .none)
        options.from = "app@relay.test"
        options.to = "b@inbox.test"
        if authenticate {
            options.user = "app"
            options.password = Secret("whatever-password")
            options.credentialPolicy = CredentialPolicy(allowPlaintext: true)
        }
        let report = await Self.diagnose(lab, options)
        #expect(report.firstFailure == RelayFirstFailure(step: step, category: category), "\(report.steps.map { "\($0.step) \($0.status) \($0.summary)" })")
        #expect(report.exitCode == 1)
    }

    // MARK: network

    @Test func aRefusedPortIsConnectivity() async throws {
        let lab = try await Self.shared.get()
        let report = await Self.diagnose(lab, Self.options(lab, "smtp.relay.test", port: 2525))
        #expect(report.firstFailure == RelayFirstFailure(step: .connect, category: .connectivity))
        #expect(report.ports.first?.result == .refused)
    }

    @Test func aFilteredPortTimesOutAtTheConfiguredLimit() async throws {
        let lab = try await Self.shared.get()
        let filtered = FilteredPort(droppedPorts: [587, 465, 25, 2525])
        try await filtered.start()
        let target = try filtered.requireAddress()
        let started = ContinuousClock.now
        let report = await Self.diagnose(lab, Self.options(lab, target.description))
        let elapsed = ContinuousClock.now - started
        await filtered.stop()
        #expect(report.firstFailure == RelayFirstFailure(step: .connect, category: .connectivity))
        #expect(report.ports.map(\.result) == [.timedOut, .timedOut, .timedOut, .timedOut])
        #expect(report.steps.first { $0.step == .connect }?.remedy?.contains("AWS") == true)
        #expect(elapsed < .seconds(5), "the four ports are tried at once, each for the 1 s connect timeout")
    }

    @Test(arguments: [
        ("nonexistent.relay.test", RelayStepStatus.fail),
        ("noaddress.relay.test", .fail),
    ])
    func relayNamesThatDoNotResolve(host: String, status: RelayStepStatus) async throws {
        let lab = try await Self.shared.get()
        let report = await Self.diagnose(lab, Self.options(lab, host))
        #expect(report.firstFailure == RelayFirstFailure(step: .dns, category: .dns))
        #expect(report.steps.dropFirst().allSatisfy { $0.status == .skipped })
    }

    @Test func aCNAMEToTheRelayIsFollowedAndShown() async throws {
        let lab = try await Self.shared.get()
        let report = await Self.diagnose(lab, Self.options(lab, "alias.relay.test", port: 587))
        let dns = report.steps.first { $0.step == .dns }
        #expect(dns?.status == .pass)
        #expect(dns?.evidence.contains("alias.relay.test. IN CNAME smtp.relay.test.") == true)
    }

    @Test func aSilentResolverIsInconclusiveNotBroken() async throws {
        let lab = try await Self.shared.get()
        let silent = SilentListener(udp: true, tcp: true)
        try await silent.start()
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try silent.requirePort()))],
                                      timeout: .milliseconds(300), attempts: 1)
        let report = await RelayDiagnosis(resolver: resolver, options: Self.options(lab, "smtp.relay.test")).run()
        await silent.stop()
        #expect(Self.status(report, .dns) == .inconclusive)
        #expect(report.firstFailure == nil)
        #expect(report.exitCode == 3)
    }
}
