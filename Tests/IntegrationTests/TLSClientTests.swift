import Foundation
import MailAuditCore
import MailAuditSMTP
@testable import MailAuditTLS
import MailAuditTesting
import Testing

extension Tag {
    /// The TLS client against `openssl s_server` on 127.0.0.1.
    @Tag static var tls: Self
}

/// The TLS client against `openssl s_server` on 127.0.0.1, one server and one test CA per
/// test: the chain's DER and SPKI, shared contexts, and strict mode.
@Suite(.tags(.tls))
struct TLSClientTests {
    static let name = "mail.tls.test"
    static let threads = DedicatedThreads(limit: 16)

    /// What a completed handshake leaves, copied off the client thread.
    struct Handshake: Sendable {
        var facts: TLSFacts
        var contextAddress: UInt
    }

    /// Connects, runs the handshake on a dedicated thread and closes at once.
    static func handshake(_ server: OpenSSLServer, _ configuration: TLSClientConfiguration) async -> Result<Handshake, TLSConnectError> {
        await handshake(server.endpoint, configuration)
    }

    static func handshake(_ endpoint: OpenSSLServer.Endpoint, _ configuration: TLSClientConfiguration) async -> Result<Handshake, TLSConnectError> {
        await threads.run {
            do throws(TLSConnectError) {
                let client = try TLSClient.connect(
                    to: endpoint.address, port: endpoint.port, configuration: configuration, connectTimeout: .seconds(5), deadline: .now + .seconds(10))
                defer { client.close() }
                return .success(Handshake(facts: client.facts, contextAddress: client.contextAddress))
            } catch {
                return .failure(error)
            }
        }
    }

    static func observing(_ ca: TestCA, serverName: String = name) -> TLSClientConfiguration {
        TLSClientConfiguration(serverName: serverName, trust: .caFile(ca.rootFile.path), verificationTime: TestCA.referenceTime)
    }

    static func strict(_ ca: TestCA) -> TLSClientConfiguration {
        .strict(serverName: name, trust: .caFile(ca.rootFile.path), verificationTime: TestCA.referenceTime)
    }

    /// What `openssl` itself makes of one PEM certificate: `x509 -outform DER`, or for the
    /// key `x509 -pubkey | pkey -pubin -outform DER`.
    static func opensslDER(of pem: String, ca: TestCA, subjectPublicKeyInfo: Bool) async throws -> [UInt8] {
        let directory = ca.directory.appendingPathComponent("der-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let input = directory.appendingPathComponent("in.pem")
        let output = directory.appendingPathComponent("out.der")
        try Data(pem.utf8).write(to: input)
        if subjectPublicKeyInfo {
            let key = directory.appendingPathComponent("key.pem")
            let extracted = try await runProcess(ca.openssl, ["x509", "-in", input.path, "-pubkey", "-noout", "-out", key.path])
            try #require(extracted.exitCode == 0, "\(extracted)")
            let converted = try await runProcess(ca.openssl, ["pkey", "-pubin", "-in", key.path, "-outform", "DER", "-out", output.path])
            try #require(converted.exitCode == 0, "\(converted)")
        } else {
            let converted = try await runProcess(ca.openssl, ["x509", "-in", input.path, "-outform", "DER", "-out", output.path])
            try #require(converted.exitCode == 0, "\(converted)")
        }
        return [UInt8](try Data(contentsOf: output))
    }

    static func hex(_ bytes: [UInt8]?) -> String? {
        bytes?.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    // MARK: The chain as sent

    /// SSL_get_peer_cert_chain on the client side holds the leaf first, then what the server
    /// sent after it; each certificate's DER and SPKI are what `openssl` makes of the PEM.
    @Test(arguments: [TestCA.Kind.valid, .incompleteChain, .unknownIssuer])
    func peerChainCarriesTheDERAndSPKIOfEveryCertificateSent(kind: TestCA.Kind) async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let certificate = try await ca.issue(kind, for: Self.name)
        let server = try await OpenSSLServer.start(certificate, openssl: ca.openssl)
        defer { server.stop() }

        let facts = try await Self.handshake(server, Self.observing(ca)).get().facts
        let sent = try OpenSSLServer.pemCertificates(in: certificate.chainFile)
        #expect(facts.peerChain.count == sent.count, "the leaf is the first element of the client's peer chain")
        #expect(facts.peerChain.first?.subject == "CN=\(Self.name)")
        for (depth, (received, pem)) in zip(facts.peerChain, sent).enumerated() {
            let der = try await Self.opensslDER(of: pem, ca: ca, subjectPublicKeyInfo: false)
            let spki = try await Self.opensslDER(of: pem, ca: ca, subjectPublicKeyInfo: true)
            #expect(received.der == der, "DER at depth \(depth)")
            #expect(received.subjectPublicKeyInfo == spki, "SPKI at depth \(depth)")
            #expect(spki.count == 91, "a P-256 SubjectPublicKeyInfo is 91 bytes")
            #expect(Self.hex(DigestAlgorithm.sha256.digest(of: received.der)) == received.sha256Fingerprint)
        }
    }

    // MARK: One SSL_CTX per trust configuration

    @Test func handshakesWithOneTrustConfigurationShareOneContext() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let server = try await OpenSSLServer.start(try await ca.issue(.valid, for: Self.name), openssl: ca.openssl)
        defer { server.stop() }
        let configuration = Self.observing(ca)

        let first = try await Self.handshake(server, configuration).get()
        let second = try await Self.handshake(server, configuration).get()
        #expect(first.contextAddress != 0)
        #expect(second.contextAddress == first.contextAddress)

        let endpoint = server.endpoint
        let concurrent = await withTaskGroup(of: UInt?.self) { group in
            for _ in 0..<6 { group.addTask { try? await Self.handshake(endpoint, configuration).get().contextAddress } }
            return await group.reduce(into: [UInt?]()) { $0.append($1) }
        }
        #expect(concurrent == Array(repeating: first.contextAddress, count: 6))

        // The server name and the verification time belong to the connection, not the context:
        // two years on, on the same context, the certificate has expired and the name differs.
        var perConnection = configuration
        perConnection.serverName = "other-name.test"
        perConnection.verificationTime = TestCA.referenceTime.addingTimeInterval(730 * 86_400)
        let other = try await Self.handshake(server, perConnection).get()
        #expect(other.contextAddress == first.contextAddress)
        #expect(first.facts.verification.isValid)
        #expect(other.facts.verification.hostNameMatches == false)
        #expect(other.facts.verification.errors.map(\.code).contains(.hostnameMismatch))
        #expect(other.facts.verification.hasExpiredCertificate)
    }

    @Test func differentTrustConfigurationsDoNotShareAContext() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let server = try await OpenSSLServer.start(try await ca.issue(.valid, for: Self.name), openssl: ca.openssl)
        defer { server.stop() }
        let copy = ca.directory.appendingPathComponent("root-copy.pem")
        try FileManager.default.copyItem(at: ca.rootFile, to: copy)

        let base = Self.observing(ca)
        var otherFile = base
        otherFile.trust = .caFile(copy.path)
        var otherFloor = base
        otherFloor.minimumVersion = .tls1_2
        var addresses: [UInt] = []
        for configuration in [base, otherFile, otherFloor, Self.strict(ca)] {
            addresses.append(try await Self.handshake(server, configuration).get().contextAddress)
        }
        #expect(Set(addresses).count == 4, "\(addresses)")
    }

    // MARK: Strict mode

    @Test func strictModeAcceptsAValidCertificateForItsName() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let server = try await OpenSSLServer.start(try await ca.issue(.valid, for: Self.name), openssl: ca.openssl)
        defer { server.stop() }

        let facts = try await Self.handshake(server, Self.strict(ca)).get().facts
        #expect(facts.verification.isValid)
        #expect(facts.verification.hostNameMatches == true)
        #expect(facts.protocolVersion >= .tls1_2)
        #expect(facts.peerChain.count == 2)
    }

    static let refusals: [(TestCA.Kind, VerifyCode, Int)] = [
        (.expired, .certificateHasExpired, 0),
        (.wrongName, .hostnameMismatch, 0),
        (.unknownIssuer, .unableToGetIssuerCertificateLocally, 1),
        (.selfSigned, .depthZeroSelfSignedCertificate, 0),
        (.incompleteChain, .unableToGetIssuerCertificateLocally, 0),
    ]

    /// The observing client completes against the same server and sees the same error, so
    /// the abort comes from strict mode alone.
    @Test(arguments: refusals)
    func strictModeAbortsOnACertificateThatFailsVerification(kind: TestCA.Kind, code: VerifyCode, depth: Int) async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let server = try await OpenSSLServer.start(try await ca.issue(kind, for: Self.name), openssl: ca.openssl)
        defer { server.stop() }

        let observed = try await Self.handshake(server, Self.observing(ca)).get().facts
        #expect(observed.verification.errors.contains { $0.code == code })

        let strict = await Self.handshake(server, Self.strict(ca))
        guard case .failure(.tls(.verificationFailed(let error))) = strict else {
            Issue.record("expected a verification failure, got \(strict)")
            return
        }
        #expect(error.code == code)
        #expect(error.depth == depth)
        #expect(TLSFailure.verificationFailed(error).description.contains(code.text))
    }

    /// `s_server -tls1` and `-tls1_1` need security level 0 for their SHA-1 handshake
    /// signatures; the observing client proves the server speaks that version only.
    @Test(arguments: [("-tls1", TLSProtocolVersion.tls1_0), ("-tls1_1", .tls1_1)])
    func strictModeRefusesAServerBelowTLS12(option: String, version: TLSProtocolVersion) async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let server = try await OpenSSLServer.start(
            try await ca.issue(.valid, for: Self.name), openssl: ca.openssl, options: [option, "-cipher", "DEFAULT@SECLEVEL=0"])
        defer { server.stop() }

        let observed = try await Self.handshake(server, Self.observing(ca)).get().facts
        #expect(observed.protocolVersion == version)

        var lowFloor = Self.strict(ca)
        lowFloor.minimumVersion = .tls1_0
        for configuration in [Self.strict(ca), lowFloor] {
            let strict = await Self.handshake(server, configuration)
            guard case .failure(.tls(.protocolVersionRefused)) = strict else {
                Issue.record("expected the version to be refused, got \(strict)")
                continue
            }
        }
    }

    @Test func strictModeNeedsAServerName() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let server = try await OpenSSLServer.start(try await ca.issue(.valid, for: Self.name), openssl: ca.openssl)
        defer { server.stop() }

        let configuration = TLSClientConfiguration(serverName: nil, trust: .caFile(ca.rootFile.path), mode: .strict)
        let result = await Self.handshake(server, configuration)
        guard case .failure(.tls(.configuration)) = result else {
            Issue.record("expected a configuration error, got \(result)")
            return
        }
    }
}
