import Foundation
import MailAuditCore
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS
import MailAuditTesting
import Testing

extension Tag {
    /// SMTP probes against a real Postfix and hostile listeners on 127.0.1.x.
    @Tag static var smtp: Self
}

/// The servers of the SMTP probe tests: a test CA, one Postfix with a listener per TLS
/// situation, all on one port. Started once around the suite by ``SMTPLabTrait``.
struct SMTPLab: Sendable {
    @TaskLocal static var current: SMTPLab?

    struct Host: Sendable {
        var address: IPAddress
        var hostName: String
    }

    let ca: TestCA
    let postfix: PostfixServer
    let port: UInt16

    static let valid = Host(address: .v4([127, 0, 1, 2]), hostName: "mx-valid.test")
    static let expired = Host(address: .v4([127, 0, 1, 3]), hostName: "mx-expired.test")
    static let wrongName = Host(address: .v4([127, 0, 1, 4]), hostName: "mx-wrongname.test")
    static let selfSigned = Host(address: .v4([127, 0, 1, 5]), hostName: "mx-selfsigned.test")
    static let incomplete = Host(address: .v4([127, 0, 1, 6]), hostName: "mx-incomplete.test")
    static let unknownIssuer = Host(address: .v4([127, 0, 1, 7]), hostName: "mx-unknown.test")
    static let plain = Host(address: .v4([127, 0, 1, 8]), hostName: "mx-plain.test")
    static let busy = Host(address: .v4([127, 0, 1, 9]), hostName: "mx-busy.test")
    static let weak = Host(address: .v4([127, 0, 1, 10]), hostName: "mx-weak.test")
    static let oldTLS = Host(address: .v4([127, 0, 1, 11]), hostName: "mx-valid.test")
    static let implicitTLS = Host(address: .v4([127, 0, 1, 12]), hostName: "mx-valid.test")
    static let validIPv6 = Host(address: .v6(Array(repeating: 0, count: 15) + [1]), hostName: "mx-valid.test")

    static func start() async throws -> SMTPLab {
        let ca = try await TestCA.create()
        let tlsHosts: [(String, Host, TestCA.Kind)] = [
            ("valid", valid, .valid), ("expired", expired, .expired), ("wrongname", wrongName, .wrongName),
            ("selfsigned", selfSigned, .selfSigned), ("incomplete", incomplete, .incompleteChain),
            ("unknown", unknownIssuer, .unknownIssuer), ("weak", weak, .weak),
        ]
        var listeners: [PostfixServer.Listener] = []
        var validChain: URL?
        for (name, host, kind) in tlsHosts {
            let certificate = try await ca.issue(kind, for: host.hostName)
            if kind == .valid { validChain = certificate.chainFile }
            listeners.append(.starttls(name, address: host.address.description, hostName: host.hostName, chainFile: certificate.chainFile))
        }
        listeners.append(.plain("plain", address: plain.address.description, hostName: plain.hostName))
        listeners.append(.busy("busy", address: busy.address.description, hostName: busy.hostName))
        if let validChain {
            listeners.append(.starttls("valid6", address: validIPv6.address.description, hostName: validIPv6.hostName, chainFile: validChain))
            listeners.append(.starttls(
                "tls10", address: oldTLS.address.description, hostName: oldTLS.hostName, chainFile: validChain,
                options: ["smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.1,!TLSv1.2,!TLSv1.3"]))
            listeners.append(.implicitTLS("implicit", address: implicitTLS.address.description, hostName: implicitTLS.hostName, chainFile: validChain))
        }
        let postfix = PostfixServer(listeners: listeners)
        try await postfix.start()
        return SMTPLab(ca: ca, postfix: postfix, port: try postfix.requirePort())
    }

    func stop() {
        postfix.stop()
        ca.remove()
    }

    /// Probes a Postfix host, trusting the test root and verifying at the reference time.
    func probe(
        _ host: Host, security: SMTPSecurity = .startTLS, trustTestRoot: Bool = true, at time: Date = TestCA.referenceTime
    ) async -> ProbeResult {
        await SMTPProber.shared.probe(
            address: host.address, port: port, hostName: host.hostName, ehloName: "probe.mailaudit.test", security: security,
            timeouts: SMTPProbeTests.serverTimeouts, caFile: trustTestRoot ? ca.rootFile.path : nil, verificationTime: time)
    }
}

/// Starts the lab once around the suite and stops it after the last test.
struct SMTPLabTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let lab = try await SMTPLab.start()
        defer { lab.stop() }
        try await SMTPLab.$current.withValue(lab) { try await function() }
    }
}

extension Trait where Self == SMTPLabTrait {
    static var smtpLab: Self { SMTPLabTrait() }
}

/// The probe against a real Postfix, one listener per TLS situation, and against hostile
/// listeners. Everything listens on 127.0.1.x (and ::1) only.
@Suite(.serialized, .tags(.smtp), .smtpLab)
struct SMTPProbeTests {
    static let serverTimeouts = SMTPTimeouts(
        connect: .seconds(5), greeting: .seconds(5), command: .seconds(5), tlsHandshake: .seconds(5), total: .seconds(20))
    /// Short stage timeouts for hostile servers; every hostile test must end well within `total`.
    static let hostileTimeouts = SMTPTimeouts(
        connect: .seconds(1), greeting: .seconds(1), command: .seconds(1), tlsHandshake: .seconds(2), total: .seconds(4))

    func lab() throws -> SMTPLab { try #require(SMTPLab.current) }

    /// Lines mailaudit sent, without the "C: " prefix.
    func clientLines(_ result: ProbeResult) -> [String] {
        result.transcript.filter { $0.direction == .client }.map(\.text)
    }

    // MARK: Postfix: the TLS situations

    @Test func validCertificate() async throws {
        let result = try await lab().probe(SMTPLab.valid)
        #expect(result.outcome == .completed, "\(result.transcript)")
        #expect(result.stage == .done)
        #expect(result.greeting?.code == 220)
        #expect(result.greeting?.text.contains("mx-valid.test") == true)
        #expect(result.offersSTARTTLS)
        #expect(result.capabilities?.domain == "mx-valid.test")
        #expect(result.capabilities?.supportsPipelining == true)
        #expect(result.capabilities?.size == 10_240_000)
        // RFC 3207 §4.2: asked again over TLS; Postfix no longer offers STARTTLS then.
        let after = try #require(result.capabilitiesAfterTLS)
        #expect(!after.supportsSTARTTLS)
        let tls = try #require(result.tls)
        #expect(tls.protocolVersion >= .tls1_2)
        #expect(!tls.protocolVersion.isDeprecated)
        #expect(!tls.cipher.isEmpty)
        #expect(tls.peerChain.count == 2)
        let leaf = try #require(tls.leaf)
        #expect(leaf.subject == "CN=mx-valid.test")
        #expect(leaf.issuer == "CN=mailaudit Test Intermediate")
        #expect(leaf.dnsNames == ["mx-valid.test"])
        #expect(leaf.publicKey == PublicKeyFacts(algorithm: "EC", bits: 256, curve: "prime256v1"))
        #expect(leaf.signatureAlgorithm == "ecdsa-with-SHA256")
        #expect(leaf.signatureDigest == "SHA256")
        #expect(!leaf.hasWeakSignatureDigest)
        #expect(!leaf.isSelfSigned && !leaf.isCA)
        #expect(leaf.sha256Fingerprint.count == 64)
        #expect(tls.peerChain[1].isCA)
        #expect(tls.verification.result == .ok)
        #expect(tls.verification.errors.isEmpty)
        #expect(tls.verification.isValid)
        #expect(tls.verification.hostNameMatches == true)
        #expect(tls.verification.untrusted == nil)
        #expect(tls.verification.verifiedAt == TestCA.referenceTime)
        #expect(tls.verification.daysUntilExpiry == 365)
        #expect(clientLines(result) == ["EHLO probe.mailaudit.test", "STARTTLS", "EHLO probe.mailaudit.test", "QUIT"])
    }

    @Test func validCertificateOverIPv6() async throws {
        let result = try await lab().probe(SMTPLab.validIPv6)
        #expect(result.outcome == .completed, "\(result.transcript)")
        #expect(result.address.isIPv6)
        #expect(result.tls?.verification.isValid == true)
    }

    /// The expiry is counted at the injected time, never at the wall clock.
    @Test(arguments: [
        (TestCA.referenceTime, 365),
        (TestCA.referenceTime.addingTimeInterval(355 * 86_400), 10),
        (TestCA.referenceTime.addingTimeInterval(364 * 86_400 + 3600), 0),
        (TestCA.referenceTime.addingTimeInterval(400 * 86_400), -35),
    ])
    func expiryDaysAtInjectedTime(time: Date, days: Int) async throws {
        let result = try await lab().probe(SMTPLab.valid, at: time)
        let verification = try #require(result.tls?.verification)
        #expect(verification.daysUntilExpiry == days)
        #expect(verification.hasExpiredCertificate == (days < 0))
        #expect(verification.result == (days < 0 ? .certificateHasExpired : .ok))
    }

    @Test func expiredCertificate() async throws {
        let result = try await lab().probe(SMTPLab.expired)
        #expect(result.outcome == .completed, "handshake completes: verification is deferred")
        let verification = try #require(result.tls?.verification)
        #expect(verification.result == .certificateHasExpired)
        #expect(verification.result.text == "certificate has expired")
        #expect(verification.hasExpiredCertificate)
        #expect(verification.daysUntilExpiry == -365)
        #expect(verification.hostNameMatches == true)
        #expect(verification.untrusted == nil)
    }

    @Test func wrongName() async throws {
        let result = try await lab().probe(SMTPLab.wrongName)
        #expect(result.outcome == .completed)
        let tls = try #require(result.tls)
        #expect(tls.leaf?.dnsNames == ["other-name.test"])
        #expect(tls.verification.hostNameMatches == false)
        #expect(tls.verification.hostName == "mx-wrongname.test")
        #expect(tls.verification.result == .hostnameMismatch)
        #expect(tls.verification.untrusted == nil)
    }

    @Test func selfSigned() async throws {
        let result = try await lab().probe(SMTPLab.selfSigned)
        #expect(result.outcome == .completed)
        let tls = try #require(result.tls)
        #expect(tls.peerChain.count == 1)
        #expect(tls.leaf?.isSelfSigned == true)
        #expect(tls.verification.result == .depthZeroSelfSignedCertificate)
        #expect(tls.verification.untrusted == .selfSigned)
        #expect(tls.verification.hostNameMatches == true)
    }

    @Test func incompleteChain() async throws {
        let result = try await lab().probe(SMTPLab.incomplete)
        let tls = try #require(result.tls)
        #expect(tls.peerChain.count == 1, "the intermediate is not sent")
        #expect(tls.verification.errors.first?.code == .unableToGetIssuerCertificateLocally)
        #expect(tls.verification.errors.first?.depth == 0)
        #expect(tls.verification.untrusted == .incompleteChain(missingIssuer: "CN=mailaudit Test Intermediate"))
    }

    @Test func unknownIssuer() async throws {
        let result = try await lab().probe(SMTPLab.unknownIssuer)
        let tls = try #require(result.tls)
        #expect(tls.peerChain.count == 2)
        #expect(tls.verification.untrusted == .unknownIssuer(issuer: "CN=mailaudit Rogue Root"))
    }

    /// The test root is not in the system store: the valid chain is then an unknown issuer.
    @Test func systemTrustStoreDoesNotKnowTheTestRoot() async throws {
        let result = try await lab().probe(SMTPLab.valid, trustTestRoot: false)
        let verification = try #require(result.tls?.verification)
        #expect(verification.untrusted == .unknownIssuer(issuer: "CN=mailaudit Test Root"))
        #expect(verification.hostNameMatches == true)
    }

    /// A 1024-bit RSA key and a SHA-1 signature still complete the handshake, and show in the facts.
    @Test func weakKeyAndSHA1Signature() async throws {
        let result = try await lab().probe(SMTPLab.weak)
        #expect(result.outcome == .completed)
        let leaf = try #require(result.tls?.leaf)
        #expect(leaf.publicKey.algorithm == "RSA")
        #expect(leaf.publicKey.bits == 1024)
        #expect(leaf.publicKey.curve == nil)
        #expect(leaf.signatureDigest == "SHA1")
        #expect(leaf.signatureAlgorithm == "ecdsa-with-SHA1")
        #expect(leaf.hasWeakSignatureDigest)
    }

    /// RFC 8996: the probe still connects to a server stuck at TLS 1.0, and says so.
    @Test func tls10IsObservedNotRefused() async throws {
        let result = try await lab().probe(SMTPLab.oldTLS)
        #expect(result.outcome == .completed, "\(result.transcript)")
        let tls = try #require(result.tls)
        #expect(tls.protocolVersion == .tls1_0)
        #expect(tls.protocolVersion.isDeprecated)
        #expect(tls.verification.isValid)
    }

    /// RFC 8314 §3.3 (port 465): TLS first, then the greeting, over the same client.
    @Test func implicitTLS() async throws {
        let result = try await lab().probe(SMTPLab.implicitTLS, security: .implicitTLS)
        #expect(result.outcome == .completed, "\(result.transcript)")
        #expect(result.tls?.verification.isValid == true)
        #expect(result.greeting?.code == 220)
        #expect(result.startTLSReply == nil)
        #expect(clientLines(result) == ["EHLO probe.mailaudit.test", "QUIT"])
    }

    /// STARTTLS mode against an implicit-TLS port: the server waits for a ClientHello.
    @Test func plainClientOnAnImplicitTLSPortTimesOut() async throws {
        let lab = try lab()
        let result = await SMTPProber.shared.probe(
            address: SMTPLab.implicitTLS.address, port: lab.port, hostName: "mx-valid.test", ehloName: "probe.mailaudit.test",
            timeouts: Self.hostileTimeouts)
        #expect(result.outcome == .timeout(.greeting))
    }

    /// Plain mode never starts TLS, even when offered.
    @Test func plainModeSkipsSTARTTLS() async throws {
        let result = try await lab().probe(SMTPLab.valid, security: .plain)
        #expect(result.outcome == .completed)
        #expect(result.offersSTARTTLS)
        #expect(result.tls == nil)
    }

    @Test func startTLSNotOffered() async throws {
        let result = try await lab().probe(SMTPLab.plain)
        #expect(result.outcome == .completed)
        #expect(result.stage == .done)
        #expect(!result.offersSTARTTLS)
        #expect(result.capabilities?.domain == "mx-plain.test")
        #expect(result.tls == nil)
        #expect(result.startTLSReply == nil)
        #expect(clientLines(result) == ["EHLO probe.mailaudit.test", "QUIT"])
    }

    @Test func busyGreetingIsRateLimitedNotFailed() async throws {
        let result = try await lab().probe(SMTPLab.busy)
        guard case .rateLimited(let reply) = result.outcome else {
            Issue.record("expected rate-limited, got \(result.outcome)")
            return
        }
        #expect(reply.code == 421)
        #expect(reply.text.contains("Too many connections"))
        #expect(result.outcome.isInconclusive)
        #expect(result.stage == .greeting)
        #expect(clientLines(result).isEmpty, "no QUIT after 421: the server closes the channel")
    }

    @Test func manyConcurrentProbesOfOneServer() async throws {
        let lab = try lab()
        let outcomes = await withTaskGroup(of: ProbeOutcome.self) { group in
            for _ in 0..<12 { group.addTask { await lab.probe(SMTPLab.valid).outcome } }
            return await group.reduce(into: [ProbeOutcome]()) { $0.append($1) }
        }
        #expect(outcomes == Array(repeating: .completed, count: 12))
    }

    // MARK: Connections

    @Test func refusedIsNotATimeout() async throws {
        let address = IPAddress.v4([127, 0, 1, 30])
        let port = try LoopbackPorts.freeTCPPort(on: [address])
        let result = await SMTPProber.shared.probe(
            address: address, port: port, hostName: "mx.test", ehloName: "probe.test", timeouts: Self.hostileTimeouts)
        #expect(result.outcome == .refused)
        #expect(result.stage == .connect)
        #expect(!result.outcome.isInconclusive)
        #expect(result.duration < .seconds(1))
    }

    @Test func connectTimeout() async throws {
        let listener = HostileSMTPListener(.acceptQueueFull, address: "127.0.1.31")
        try await listener.start()
        let result = await probe(listener)
        await listener.stop()
        #expect(result.outcome == .timeout(.connect))
        #expect(result.outcome.isInconclusive)
        #expect(result.duration >= .milliseconds(900) && result.duration < .seconds(3))
    }

    // MARK: Hostile servers

    func probe(_ listener: HostileSMTPListener, timeouts: SMTPTimeouts = hostileTimeouts) async -> ProbeResult {
        await SMTPProber.shared.probe(
            address: listener.ipAddress ?? .v4([127, 0, 0, 1]), port: listener.port ?? 1, hostName: "hostile.test",
            ehloName: "probe.mailaudit.test", timeouts: timeouts)
    }

    struct HostileCase: Sendable, CustomTestStringConvertible {
        var behavior: HostileSMTPListener.Behavior
        var outcome: @Sendable (ProbeOutcome) -> Bool
        var stage: ProbeStage
        var testDescription: String { "\(behavior)" }
    }

    static let hostileCases: [HostileCase] = [
        HostileCase(behavior: .neverGreets, outcome: { $0 == .timeout(.greeting) }, stage: .greeting),
        HostileCase(behavior: .dripsGreeting(every: .milliseconds(50)), outcome: { $0 == .timeout(.greeting) }, stage: .greeting),
        HostileCase(behavior: .endlessLine, outcome: {
            if case .protocolError(let reason) = $0 { reason.contains("longer than the limit") } else { false }
        }, stage: .greeting),
        HostileCase(behavior: .garbageAfterSTARTTLS, outcome: {
            if case .tlsFailed(let reason) = $0 { reason.contains("SSL routines") } else { false }
        }, stage: .tlsHandshake),
        HostileCase(behavior: .closesDuringHandshake, outcome: { $0 == .closed(.tlsHandshake) }, stage: .tlsHandshake),
        HostileCase(behavior: .greeting("421 4.7.0 hostile.test too busy"), outcome: {
            if case .rateLimited(let reply) = $0 { reply.code == 421 } else { false }
        }, stage: .greeting),
        HostileCase(behavior: .greeting("554 5.3.2 hostile.test no SMTP service here"), outcome: {
            if case .rejected(let reply) = $0 { reply.code == 554 } else { false }
        }, stage: .greeting),
        HostileCase(behavior: .greeting("220-hostile.test first\r\n220-second\r\n220 third"), outcome: { $0 == .completed }, stage: .done),
        HostileCase(behavior: .ehloReply("451 4.7.1 slow down"), outcome: {
            if case .rateLimited(let reply) = $0 { reply.code == 451 } else { false }
        }, stage: .ehlo),
        HostileCase(behavior: .ehloReply("554 5.7.1 Too many connections from your network"), outcome: {
            if case .rateLimited(let reply) = $0 { reply.code == 554 } else { false }
        }, stage: .ehlo),
        HostileCase(behavior: .ehloReply("502 5.5.2 EHLO not implemented"), outcome: {
            if case .rejected(let reply) = $0 { reply.code == 502 } else { false }
        }, stage: .ehlo),
    ]

    @Test(arguments: hostileCases)
    func hostileServerEndsInBoundedTime(_ scenario: HostileCase) async throws {
        let listener = HostileSMTPListener(scenario.behavior, address: "127.0.1.20")
        try await listener.start()
        let result = await probe(listener)
        await listener.stop()
        #expect(scenario.outcome(result.outcome), "\(result.outcome)\n\(result.transcript.map(\.description).joined(separator: "\n"))")
        #expect(result.stage == scenario.stage)
        #expect(result.duration < Self.hostileTimeouts.total + .milliseconds(500))
        #expect(result.transcript.count < 250)
        #expect(!listener.commandsReceived.contains { ["MAIL", "RCPT", "DATA"].contains($0.prefix(4).uppercased()) })
    }

    @Test func dripKeepsTheTranscriptSmall() async throws {
        let listener = HostileSMTPListener(.dripsGreeting(every: .milliseconds(5)), address: "127.0.1.21")
        try await listener.start()
        let result = await probe(listener)
        await listener.stop()
        #expect(result.outcome == .timeout(.greeting))
        let greetingLines = result.transcript.filter { $0.direction == .server }
        #expect(greetingLines.count <= SMTPLimits().maximumReplyLines)
    }

    @Test func manyLinesInOneReplyAreAProtocolError() async throws {
        let lines = String(repeating: "220-hostile.test more\r\n", count: 150) + "220 end"
        let listener = HostileSMTPListener(.greeting(lines), address: "127.0.1.22")
        try await listener.start()
        let result = await probe(listener)
        await listener.stop()
        #expect(result.outcome == .protocolError(SMTPReplyError.tooManyLines(101).description))
        #expect(result.stage == .greeting)
    }

    /// The whole probe's deadline wins over a longer stage timeout.
    @Test func totalDeadlineCutsAStage() async throws {
        let listener = HostileSMTPListener(.dripsGreeting(every: .milliseconds(100)), address: "127.0.1.23")
        try await listener.start()
        let timeouts = SMTPTimeouts(connect: .seconds(1), greeting: .seconds(30), command: .seconds(30), tlsHandshake: .seconds(30), total: .seconds(1))
        let result = await probe(listener, timeouts: timeouts)
        await listener.stop()
        #expect(result.outcome == .timeout(.greeting))
        #expect(result.duration < .milliseconds(1500))
    }

    // MARK: Concurrency

    /// Prints the wall time of three hosts that each delay their greeting by one second,
    /// probed concurrently, against one such host alone. Not asserted: a figure for the notes.
    @Test func concurrentSlowHostsTakeAsLongAsTheSlowest() async throws {
        let listeners = (0..<3).map { HostileSMTPListener(.slowGreeting(after: .seconds(1)), address: "127.0.1.\(24 + $0)") }
        for listener in listeners { try await listener.start() }
        let timeouts = SMTPTimeouts(connect: .seconds(2), greeting: .seconds(3), command: .seconds(2), tlsHandshake: .seconds(2), total: .seconds(6))
        let clock = ContinuousClock()
        let alone = await clock.measure {
            let result = await probe(listeners[0], timeouts: timeouts)
            #expect(result.outcome == .completed)
        }
        let together = await clock.measure {
            let outcomes = await withTaskGroup(of: ProbeOutcome.self) { group in
                for listener in listeners { group.addTask { await probe(listener, timeouts: timeouts).outcome } }
                return await group.reduce(into: [ProbeOutcome]()) { $0.append($1) }
            }
            #expect(outcomes == [.completed, .completed, .completed])
        }
        for listener in listeners { await listener.stop() }
        print("SMTP probe figure: 3 hosts each greeting after 1 s, concurrently: \(together.formatted(.units(allowed: [.milliseconds]))); one host alone: \(alone.formatted(.units(allowed: [.milliseconds])))")
    }
}
