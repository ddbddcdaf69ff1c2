import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditSMTP
import MailAuditTesting
import Testing

/// DANE against real servers on loopback: a Postfix presenting a test-CA certificate, TLSA
/// records computed from that certificate at test time by the openssl command, a zone signed
/// at test time (ldns-keygen, ldns-signzone) served by NSD, validated both by Unbound (trusted
/// through --trust-resolver-ad) and by mailaudit itself, each from the zone's DS as trust anchor.
@Suite(.timeLimit(.minutes(3)), .serialized) struct DANEAuditTests {
    /// SHA-256 (hex) of the certificate's DER or of its SubjectPublicKeyInfo, by the openssl command.
    static func digest(_ pem: URL, publicKey: Bool) async throws -> String {
        let extract = publicKey
            ? "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform DER"
            : "openssl x509 -in \"$1\" -outform DER"
        let result = try await runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", "\(extract) | openssl dgst -sha256 -r", "sh", pem.path])
        #expect(result.exitCode == 0, "\(result)")
        return String(result.stdout.prefix { $0 != " " }).uppercased()
    }

    @Test func tlsaRecordsAreMatchedAgainstTheChainTheServerSends() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let certificate = try await ca.issue(.valid, for: "mx.dane.test")
        let leafKey = try await Self.digest(certificate.certificateFile, publicKey: true)
        let leafCertificate = try await Self.digest(certificate.certificateFile, publicKey: false)
        let intermediateKey = try await Self.digest(ca.directory.appendingPathComponent("intermediate/ca.pem"), publicKey: true)

        let postfix = PostfixServer(listeners: [.starttls("mx", address: "127.0.22.1", hostName: "mx.dane.test", chainFile: certificate.chainFile)])
        try await postfix.start()
        defer { postfix.stop() }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-dane-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let signed = """
            $ORIGIN dane.test.
            $TTL 300
            @ IN SOA ns.dane.test. hostmaster.dane.test. 1 3600 600 86400 300
            @ IN NS ns.dane.test.
            ns IN A 127.0.0.1
            ee-spki IN MX 10 mx1.dane.test.
            mx1 IN A 127.0.22.1
            _25._tcp.mx1 IN TLSA 3 1 1 \(leafKey)
            _25._tcp.mx1 IN TLSA 3 1 1 \(String(repeating: "5A", count: 32))
            ee-cert IN MX 10 mx2.dane.test.
            mx2 IN A 127.0.22.1
            _25._tcp.mx2 IN TLSA 3 0 1 \(leafCertificate)
            ta IN MX 10 mx3.dane.test.
            mx3 IN A 127.0.22.1
            _25._tcp.mx3 IN TLSA 2 1 1 \(intermediateKey)
            wrong IN MX 10 mx4.dane.test.
            mx4 IN A 127.0.22.1
            _25._tcp.mx4 IN TLSA 3 1 1 \(String(repeating: "00", count: 32))
            pkix IN MX 10 mx5.dane.test.
            mx5 IN A 127.0.22.1
            _25._tcp.mx5 IN TLSA 1 1 1 \(leafKey)
            none IN MX 10 mx6.dane.test.
            mx6 IN A 127.0.22.1

            """
        let zoneFile = directory.appendingPathComponent("dane.test")
        try signed.write(to: zoneFile, atomically: true, encoding: .utf8)
        let keygen = URL(fileURLWithPath: "/usr/bin/ldns-keygen")
        let ksk = try await runProcess(keygen, ["-a", "ECDSAP256SHA256", "-k", "dane.test"], currentDirectory: directory)
        let zsk = try await runProcess(keygen, ["-a", "ECDSAP256SHA256", "dane.test"], currentDirectory: directory)
        let kskBase = ksk.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let zskBase = zsk.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let sign = try await runProcess(URL(fileURLWithPath: "/usr/bin/ldns-signzone"), [zoneFile.path, zskBase, kskBase], currentDirectory: directory)
        #expect(sign.exitCode == 0, "\(sign)")
        let trustAnchor = try String(contentsOf: directory.appendingPathComponent(kskBase + ".ds"), encoding: .utf8)

        let unsigned = """
            $ORIGIN plain.test.
            $TTL 300
            @ IN SOA ns.plain.test. hostmaster.plain.test. 1 3600 600 86400 300
            @ IN NS ns.plain.test.
            ns IN A 127.0.0.1
            @ IN MX 10 mx.plain.test.
            mx IN A 127.0.22.1
            _25._tcp.mx IN TLSA 3 1 1 \(leafKey)

            """
        let nsd = NSDServer(zones: [.file("dane.test", directory.appendingPathComponent("dane.test.signed")), .text("plain.test", unsigned)])
        try await nsd.start()
        defer { nsd.stop() }
        let nsdPort = try nsd.requirePort()
        let unbound = UnboundServer(stubZones: ["dane.test": nsdPort, "plain.test": nsdPort], trustAnchors: [trustAnchor], insecureZones: ["plain.test"])
        try await unbound.start()
        defer { unbound.stop() }

        var options = AuditOptions()
        options.allowPrivateAddresses = true
        options.checks = [.mx, .probe, .dane]
        var probe = ProbeOptions(ehloName: "probe.mailaudit.test")
        probe.port = try postfix.requirePort()
        probe.caFile = ca.rootFile.path
        probe.verificationTime = TestCA.referenceTime
        options.probe = probe
        let domains = ["ee-spki.dane.test", "ee-cert.dane.test", "ta.dane.test", "wrong.dane.test", "pkix.dane.test", "none.dane.test", "plain.test"]

        // Unbound validates, trusted through its AD bit.
        var trusting = options
        trusting.trustResolverAD = true
        let unboundResolver = DNSClient.make(
            nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try unbound.requirePort()))], dnssec: .trustResolverAD)
        let reports = await Auditor(resolver: unboundResolver, options: trusting).audit(try domains.map { try DomainName(parsing: $0) })
        Self.expectVerdicts(reports, leafKey: leafKey, plainTest: ["dane.unsigned": .warning], log: unbound.log)

        // mailaudit validates, from the zone's DS, asking NSD directly. plain.test lies below no
        // anchor, so its TLSA records cannot be judged: not validated, never "unsigned".
        var validating = options
        validating.trustAnchors = try TrustAnchors(text: trustAnchor, source: "the test anchor")
        let nsdResolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(nsdPort))], dnssec: .validate)
        let own = await Auditor(resolver: nsdResolver, options: validating).audit(try domains.map { try DomainName(parsing: $0) })
        Self.expectVerdicts(own, leafKey: leafKey, plainTest: ["dane.not-validated": .inconclusive], log: "")
    }

    static func expectVerdicts(_ reports: [DomainReport], leafKey: String, plainTest: [String: Severity], log: String) {
        func verdicts(_ domain: String) -> [String: Severity] {
            let findings = reports.first { $0.domain.description == domain }?.findings.filter { $0.id.rawValue.hasPrefix("dane.") } ?? []
            return Dictionary(findings.map { ($0.id.rawValue, $0.severity) }, uniquingKeysWith: { first, _ in first })
        }
        let log = log + "\n" + reports.map { "\($0.domain): " + $0.findings.map { "\($0.id.rawValue)=\($0.severity) \($0.message)" }.joined(separator: "; ") }.joined(separator: "\n")
        #expect(verdicts("ee-spki.dane.test") == ["dane.match": .pass, "dane.rollover": .pass], "\(log.suffix(1500))")
        #expect(verdicts("ee-cert.dane.test") == ["dane.match": .pass, "dane.rollover": .info])
        #expect(verdicts("ta.dane.test") == ["dane.match": .pass, "dane.rollover": .info])
        #expect(verdicts("wrong.dane.test") == ["dane.mismatch": .failure, "dane.rollover": .info])
        #expect(verdicts("pkix.dane.test") == ["dane.pkix-usage": .warning, "dane.no-usable-record": .warning])
        #expect(verdicts("none.dane.test") == ["dane.absent": .info])
        #expect(verdicts("plain.test") == plainTest)
        let mismatch = reports.first { $0.domain.description == "wrong.dane.test" }?.findings.first { $0.id.rawValue == "dane.mismatch" }
        #expect(mismatch?.remedy?.contains("TLSA 3 1 1 \(leafKey)") == true, "the remedy gives the record to publish")
    }

    @Test func withoutValidationTLSARecordsAreNotCheckedNorTrusted() async throws {
        let zone = """
            $ORIGIN lab.test.
            $TTL 300
            @ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
            @ IN NS ns.lab.test.
            ns IN A 127.0.0.1
            @ IN MX 10 mx.lab.test.
            mx IN A 192.0.2.25
            _25._tcp.mx IN TLSA 3 1 1 \(String(repeating: "AB", count: 32))

            """
        let nsd = NSDServer(zones: [.text("lab.test", zone)])
        try await nsd.start()
        defer { nsd.stop() }
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try nsd.requirePort()))])
        var options = AuditOptions()
        options.checks = [.mx, .dane]
        let report = await Auditor(resolver: resolver, options: options).audit(try DomainName(parsing: "lab.test"))
        let dane = report.findings.filter { $0.id.rawValue.hasPrefix("dane.") }
        #expect(dane.map(\.id.rawValue) == ["dane.not-validated"])
        #expect(dane.first?.severity == .inconclusive, "could not check, never pass or fail")
    }
}
