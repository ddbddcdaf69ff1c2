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

    @Test func secureUnsignedAndBogusAreToldApart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-dnssec-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // secure.test delegates child.secure.test without a DS: an insecure delegation.
        let (secure, secureDS) = try await Self.sign(
            "secure.test", Self.zone("secure.test", extra: "child IN NS ns.child.secure.test.\nns.child IN A 127.0.0.1"), in: directory)
        // Signatures that expired in 2020.
        let (expired, expiredDS) = try await Self.sign(
            "expired.test", Self.zone("expired.test"), in: directory, extra: ["-i", "20190101000000", "-e", "20200101000000"])
        // A DS (trust anchor) naming a key the zone does not publish: that of another signing.
        let (missingKey, _) = try await Self.sign("missingkey.test", Self.zone("missingkey.test"), in: directory)
        let (_, otherDS) = try await Self.sign("missingkey.test", Self.zone("missingkey.test"), in: directory.appendingPathComponent("other", isDirectory: true).creating())
        // A corrupted signature over the MX set.
        let (corrupted, corruptedDS) = try await Self.sign("corrupted.test", Self.zone("corrupted.test"), in: directory)
        try Self.corruptMXSignature(in: corrupted)

        let child = Self.zone("child.secure.test")
        let nsd = NSDServer(zones: [
            .file("secure.test", secure), .file("expired.test", expired), .file("missingkey.test", missingKey),
            .file("corrupted.test", corrupted), .text("child.secure.test", child),
        ])
        try await nsd.start()
        defer { nsd.stop() }
        let port = try nsd.requirePort()
        let unbound = UnboundServer(
            stubZones: ["secure.test": port, "child.secure.test": port, "expired.test": port, "missingkey.test": port, "corrupted.test": port],
            trustAnchors: [secureDS, expiredDS, otherDS.replacingOccurrences(of: "\n", with: " "), corruptedDS])
        try await unbound.start()
        defer { unbound.stop() }

        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try unbound.requirePort()))], dnssec: .trustResolverAD)
        var options = AuditOptions()
        options.checks = [.mx, .dnssec]
        options.trustResolverAD = true
        options.allowPrivateAddresses = true
        let domains = ["secure.test", "child.secure.test", "expired.test", "missingkey.test", "corrupted.test"]
        let reports = await Auditor(resolver: resolver, options: options).audit(try domains.map { try DomainName(parsing: $0) })
        func verdict(_ domain: String) -> String {
            let finding = reports.first { $0.domain.description == domain }?.findings.first {
                $0.id.rawValue.hasPrefix("dnssec.") && $0.subject.host == nil
            }
            return "\(finding?.id.rawValue ?? "none") \(finding?.severity.rawValue ?? "")"
        }
        let log = unbound.log.suffix(3000)
        #expect(verdict("secure.test") == "dnssec.secure pass", "\(log)")
        #expect(verdict("child.secure.test") == "dnssec.unsigned warning", "an insecure delegation is unsigned, not bogus")
        #expect(verdict("expired.test") == "dnssec.bogus failure", "\(log)")
        #expect(verdict("missingkey.test") == "dnssec.bogus failure")
        #expect(verdict("corrupted.test") == "dnssec.bogus failure")
        // The MX answer of a bogus domain still shows its records, read with checking disabled.
        let corruptedReport = reports.first { $0.domain.description == "corrupted.test" }
        #expect(corruptedReport?.findings.contains { $0.id.rawValue == "mx.present" } == true)
        // The MX host of the secure domain lives in the same signed zone.
        let host = reports.first { $0.domain.description == "secure.test" }?.findings.first { $0.id.rawValue.hasPrefix("dnssec.") && $0.subject.host != nil }
        #expect(host?.id.rawValue == "dnssec.secure")
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
