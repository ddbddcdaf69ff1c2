import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditTesting
import Testing

/// DNSSEC verdicts from a real validating resolver: zones signed here at test time with
/// ldns-keygen and ldns-signzone (no key is committed), served by NSD, validated by Unbound
/// against trust anchors made from their own keys; mailaudit trusts Unbound's AD bit.
@Suite(.timeLimit(.minutes(3))) struct DNSSECAuditTests {
    /// Signs `zone` for `origin` in `directory`; returns the signed file and the DS of its key-signing key.
    static func sign(_ origin: String, _ zone: String, in directory: URL, extra: [String] = []) async throws -> (URL, String) {
        let file = directory.appendingPathComponent(origin)
        try zone.write(to: file, atomically: true, encoding: .utf8)
        let keygen = URL(fileURLWithPath: "/usr/bin/ldns-keygen")
        let ksk = try await runProcess(keygen, ["-a", "ECDSAP256SHA256", "-k", origin], currentDirectory: directory)
        let zsk = try await runProcess(keygen, ["-a", "ECDSAP256SHA256", origin], currentDirectory: directory)
        let kskBase = ksk.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let zskBase = zsk.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let signed = try await runProcess(
            URL(fileURLWithPath: "/usr/bin/ldns-signzone"), extra + [file.path, zskBase, kskBase], currentDirectory: directory)
        #expect(signed.exitCode == 0, "\(signed)")
        let ds = try String(contentsOf: directory.appendingPathComponent(kskBase + ".ds"), encoding: .utf8)
        return (directory.appendingPathComponent(origin + ".signed"), ds.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func zone(_ origin: String, extra: String = "") -> String {
        """
        $ORIGIN \(origin).
        $TTL 300
        @ IN SOA ns.\(origin). hostmaster.\(origin). 1 3600 600 86400 300
        @ IN NS ns.\(origin).
        ns IN A 127.0.0.1
        @ IN MX 10 mx.\(origin).
        mx IN A 192.0.2.25
        \(extra)

        """
    }

    /// The test zones, signed here and served by NSD: secure.test (with an insecure delegation to
    /// child.secure.test), expired.test, missingkey.test (its DS names a key of another signing)
    /// and corrupted.test (a corrupted signature over the MX set); and the DS records to trust.
    struct SignedZones {
        let nsd: NSDServer
        let trustedDS: [String]
        let domains = ["secure.test", "child.secure.test", "expired.test", "missingkey.test", "corrupted.test"]
    }

    static func signedZones(in directory: URL) async throws -> SignedZones {
        let (secure, secureDS) = try await Self.sign(
            "secure.test", Self.zone("secure.test", extra: "child IN NS ns.child.secure.test.\nns.child IN A 127.0.0.1"), in: directory)
        let (expired, expiredDS) = try await Self.sign(
            "expired.test", Self.zone("expired.test"), in: directory, extra: ["-i", "20190101000000", "-e", "20200101000000"])
        let (missingKey, _) = try await Self.sign("missingkey.test", Self.zone("missingkey.test"), in: directory)
        let (_, otherDS) = try await Self.sign("missingkey.test", Self.zone("missingkey.test"), in: directory.appendingPathComponent("other", isDirectory: true).creating())
        let (corrupted, corruptedDS) = try await Self.sign("corrupted.test", Self.zone("corrupted.test"), in: directory)
        try Self.corruptMXSignature(in: corrupted)
        let nsd = NSDServer(zones: [
            .file("secure.test", secure), .file("expired.test", expired), .file("missingkey.test", missingKey),
            .file("corrupted.test", corrupted), .text("child.secure.test", Self.zone("child.secure.test")),
        ])
        try await nsd.start()
        return SignedZones(nsd: nsd, trustedDS: [secureDS, expiredDS, otherDS.replacingOccurrences(of: "\n", with: " "), corruptedDS])
    }

    static func verdicts(_ reports: [DomainReport]) -> [String: String] {
        var verdicts: [String: String] = [:]
        for report in reports {
            let finding = report.findings.first { $0.id.rawValue.hasPrefix("dnssec.") && $0.subject.host == nil }
            verdicts[report.domain.description] = "\(finding?.id.rawValue ?? "none") \(finding?.severity.rawValue ?? "")"
        }
        return verdicts
    }

    static let expectedVerdicts = [
        "secure.test": "dnssec.secure pass",
        // An insecure delegation is unsigned, not bogus.
        "child.secure.test": "dnssec.unsigned warning",
        "expired.test": "dnssec.bogus failure",
        "missingkey.test": "dnssec.bogus failure",
        "corrupted.test": "dnssec.bogus failure",
    ]

    @Test func secureUnsignedAndBogusAreToldApart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-dnssec-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let zones = try await Self.signedZones(in: directory)
        defer { zones.nsd.stop() }
        let port = try zones.nsd.requirePort()
        let unbound = UnboundServer(stubZones: Dictionary(uniqueKeysWithValues: zones.domains.map { ($0, port) }), trustAnchors: zones.trustedDS)
        try await unbound.start()
        defer { unbound.stop() }

        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try unbound.requirePort()))], dnssec: .trustResolverAD)
        var options = AuditOptions()
        options.checks = [.mx, .dnssec]
        options.trustResolverAD = true
        options.allowPrivateAddresses = true
        let reports = await Auditor(resolver: resolver, options: options).audit(try zones.domains.map { try DomainName(parsing: $0) })
        #expect(Self.verdicts(reports) == Self.expectedVerdicts, "\(unbound.log.suffix(3000))")
        // The MX answer of a bogus domain still shows its records, read with checking disabled.
        let corruptedReport = reports.first { $0.domain.description == "corrupted.test" }
        #expect(corruptedReport?.findings.contains { $0.id.rawValue == "mx.present" } == true)
        // The MX host of the secure domain lives in the same signed zone.
        let host = reports.first { $0.domain.description == "secure.test" }?.findings.first { $0.id.rawValue.hasPrefix("dnssec.") && $0.subject.host != nil }
        #expect(host?.id.rawValue == "dnssec.secure")
    }

    /// The same zones, validated by mailaudit itself from a trust-anchor file, asking NSD directly.
    @Test func validatesFromATrustAnchorFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-dnssec-anchor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let zones = try await Self.signedZones(in: directory)
        defer { zones.nsd.stop() }
        let anchorFile = directory.appendingPathComponent("anchors.ds")
        try ("; test anchors\n" + zones.trustedDS.joined(separator: "\n") + "\n").write(to: anchorFile, atomically: true, encoding: .utf8)

        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try zones.nsd.requirePort()))], dnssec: .validate)
        var options = AuditOptions()
        options.checks = [.mx, .dnssec]
        options.trustAnchors = try TrustAnchors(contentsOf: anchorFile.path)
        options.allowPrivateAddresses = true
        let reports = await Auditor(resolver: resolver, options: options).audit(try zones.domains.map { try DomainName(parsing: $0) })
        #expect(Self.verdicts(reports) == Self.expectedVerdicts)
        func evidence(_ domain: String) -> String {
            reports.first { $0.domain.description == domain }?.findings.first { $0.id.rawValue.hasPrefix("dnssec.") }?.evidence.joined(separator: "\n") ?? ""
        }
        // The reasons name what failed, and the evidence says how DNSSEC was judged.
        #expect(evidence("expired.test").contains("expired"), "\(evidence("expired.test"))")
        #expect(evidence("missingkey.test").contains("matches"), "\(evidence("missingkey.test"))")
        #expect(evidence("corrupted.test").contains("MX"), "\(evidence("corrupted.test"))")
        #expect(evidence("child.secure.test").contains("insecure delegation"), "\(evidence("child.secure.test"))")
        #expect(evidence("secure.test").contains("validated by mailaudit from the trust anchor \(anchorFile.path)"))
        // A zone below no anchor cannot be judged: "could not check", never "unsigned".
        var outside = options
        outside.trustAnchors = try TrustAnchors(text: zones.trustedDS[0], source: "secure.test only")
        let other = await Auditor(resolver: resolver, options: outside).audit(try DomainName(parsing: "expired.test"))
        #expect(Self.verdicts([other])["expired.test"] == "dnssec.lookup-failed inconclusive")
    }

    @Test func withoutATrustedResolverNothingIsClaimed() async throws {
        let nsd = NSDServer(zones: [.text("plain.test", Self.zone("plain.test"))])
        try await nsd.start()
        defer { nsd.stop() }
        var options = AuditOptions()
        options.checks = [.mx, .dnssec]
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try nsd.requirePort()))])
        let report = await Auditor(resolver: resolver, options: options).audit(try DomainName(parsing: "plain.test"))
        #expect(report.findings.filter { $0.id.rawValue.hasPrefix("dnssec.") }.map(\.id.rawValue) == ["dnssec.not-validated"])
    }

    /// Changes one character of the base64 signature of the RRSIG covering the apex MX set.
    static func corruptMXSignature(in file: URL) throws {
        var lines = try String(contentsOf: file, encoding: .utf8).components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.contains("RRSIG\tMX") || $0.contains("RRSIG MX") }) else {
            Issue.record("no RRSIG over MX in the signed zone")
            return
        }
        // The signature is the last field; a letter in its middle keeps the base64 well formed.
        var fields = lines[index].split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var signature = Array(fields[fields.count - 1])
        let middle = signature.count / 2
        signature[middle] = signature[middle] == "A" ? "B" : "A"
        fields[fields.count - 1] = String(signature)
        lines[index] = fields.joined(separator: " ")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
    }
}

private extension URL {
    func creating() throws -> URL {
        try FileManager.default.createDirectory(at: self, withIntermediateDirectories: true)
        return self
    }
}
