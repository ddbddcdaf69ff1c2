import Foundation
import MailAuditCore
import MailAuditDNS
import MailAuditTesting
import Testing

/// The DNSSEC record types read off the wire from a real NSD serving zones signed here, at
/// test time, with ldns-keygen and ldns-signzone (no key is ever committed): typed values,
/// RRSIGs beside the records they cover, NSEC and NSEC3 proofs in the authority section.
@Suite(.timeLimit(.minutes(2))) struct DNSSECRecordTests {
    struct SignedZones {
        let nsd: NSDServer
        let directory: URL
        /// The key-signing key as ldns-keygen wrote it: "owner IN DNSKEY flags 3 alg key".
        let keyLine: String
        /// The DS of the key-signing key.
        let dsLine: String
        let tlsaHex: String

        var nameserver: Nameserver { Nameserver(address: .v4([127, 0, 0, 1]), port: Int(nsd.port ?? 0)) }
    }

    static func signedZones() async throws -> SignedZones {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-dnssec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keygen = URL(fileURLWithPath: "/usr/bin/ldns-keygen"), signzone = URL(fileURLWithPath: "/usr/bin/ldns-signzone")
        let tlsaHex = String(repeating: "AB", count: 32)
        var zones: [NSDServer.Zone] = []
        var keyLine = "", dsLine = ""
        for (origin, nsec3) in [("nsec.test", false), ("nsec3.test", true)] {
            let ksk = try await runProcess(keygen, ["-a", "ED25519", "-k", origin], currentDirectory: directory)
            let zsk = try await runProcess(keygen, ["-a", "ED25519", origin], currentDirectory: directory)
            #expect(ksk.exitCode == 0 && zsk.exitCode == 0, "\(ksk)\n\(zsk)")
            let kskBase = ksk.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let zskBase = zsk.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if origin == "nsec.test" {
                keyLine = try String(contentsOf: directory.appendingPathComponent(kskBase + ".key"), encoding: .utf8)
                dsLine = try String(contentsOf: directory.appendingPathComponent(kskBase + ".ds"), encoding: .utf8)
            }
            let zone = """
                $ORIGIN \(origin).
                $TTL 300
                @ IN SOA ns.\(origin). hostmaster.\(origin). 1 3600 600 86400 300
                @ IN NS ns.\(origin).
                ns IN A 127.0.0.1
                @ IN MX 10 mx.\(origin).
                mx IN A 192.0.2.25
                _25._tcp.mx IN TLSA 3 1 1 \(tlsaHex)
                child IN NS ns.elsewhere.example.
                child IN DS 12345 15 2 \(String(repeating: "0F", count: 32))

                """
            let file = directory.appendingPathComponent(origin)
            try zone.write(to: file, atomically: true, encoding: .utf8)
            // -n: NSEC3 (RFC 5155) instead of NSEC; the signed zone is written beside as FILE.signed.
            let signed = try await runProcess(signzone, (nsec3 ? ["-n"] : []) + [file.path, zskBase, kskBase], currentDirectory: directory)
            #expect(signed.exitCode == 0, "\(signed)")
            zones.append(.file(origin, directory.appendingPathComponent(origin + ".signed")))
        }
        let nsd = NSDServer(zones: zones)
        try await nsd.start()
        return SignedZones(nsd: nsd, directory: directory, keyLine: keyLine, dsLine: dsLine, tlsaHex: tlsaHex)
    }

    private func resolve(_ zones: SignedZones, _ name: String, _ type: RRType) async throws -> DNSAnswer {
        let resolver = NetworkResolver(nameservers: [zones.nameserver], timeout: .seconds(2), attempts: 2, dnssec: .trustResolverAD)
        return await resolver.resolve(DNSQuestion(try DomainName(parsing: name), type))
    }

    /// The rdata fields of a zone-file line, after owner, class and type.
    private func rdataFields(_ line: String, after type: String) -> [String] {
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard let index = tokens.firstIndex(of: type) else { return [] }
        return Array(tokens[(index + 1)...].prefix { !$0.hasPrefix(";") })
    }

    @Test func typedRecordsSignaturesAndProofs() async throws {
        let zones = try await Self.signedZones()
        defer {
            zones.nsd.stop()
            try? FileManager.default.removeItem(at: zones.directory)
        }

        // DNSKEY: typed, and the same fields as the key file ldns-keygen wrote.
        let keys = try await resolve(zones, "nsec.test", .dnskey)
        let typedKeys = keys.records.compactMap { if case .dnskey(let key) = $0.data { key } else { nil } }
        #expect(typedKeys.count == 2)
        #expect(typedKeys.filter(\.isSecureEntryPoint).count == 1)
        let kskRecord = try #require(keys.records.first { if case .dnskey(let key) = $0.data { key.isSecureEntryPoint } else { false } })
        #expect(rdataFields(kskRecord.description, after: "DNSKEY") == rdataFields(zones.keyLine, after: "DNSKEY"))

        // The RRSIG over the DNSKEY set comes along, signed by the zone, covering DNSKEY.
        let signatures = keys.signatures.compactMap { if case .rrsig(let signature) = $0.data { signature } else { nil } }
        #expect(!signatures.isEmpty)
        #expect(signatures.allSatisfy { $0.typeCovered == .dnskey && $0.signerName == (try? DomainName(parsing: "nsec.test")) })
        #expect(signatures.allSatisfy { $0.expiration > $0.inception && $0.algorithm == 15 })

        // DS at a delegation (asked of the parent's server), and TLSA, typed.
        let ds = try await resolve(zones, "child.nsec.test", .ds)
        #expect(ds.records.map(\.data) == [.ds(DelegationSigner(keyTag: 12345, algorithm: 15, digestType: 2, digest: Array(repeating: 0x0F, count: 32)))])
        let tlsa = try await resolve(zones, "_25._tcp.mx.nsec.test", .tlsa)
        #expect(tlsa.records.map(\.data) == [.tlsa(TLSAData(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0xAB, count: 32)))])
        #expect(tlsa.records.first?.description.hasSuffix("TLSA 3 1 1 \(zones.tlsaHex)") == true)
        #expect(!tlsa.signatures.isEmpty, "the TLSA set is signed")

        // NXDOMAIN: the authority section holds the SOA and NSEC proofs with their RRSIGs.
        let missing = try await resolve(zones, "nope.nsec.test", .a)
        #expect(missing.outcome == .nxDomain)
        #expect(missing.authority.contains { $0.type == .soa })
        let nsecs = missing.authority.compactMap { record -> [RRType]? in
            if case .nsec(_, let types) = record.data { types } else { nil }
        }
        #expect(!nsecs.isEmpty && nsecs.allSatisfy { $0.contains(.nsec) && $0.contains(.rrsig) })
        #expect(missing.authority.contains { if case .rrsig(let signature) = $0.data { signature.typeCovered == .nsec } else { false } })

        // NSEC3 in the other zone, with a base32hex next owner of a SHA-1 hash (20 octets).
        let missing3 = try await resolve(zones, "nope.nsec3.test", .a)
        #expect(missing3.outcome == .nxDomain)
        let nsec3s = missing3.authority.compactMap { if case .nsec3(let data) = $0.data { data } else { nil } }
        #expect(!nsec3s.isEmpty && nsec3s.allSatisfy { $0.hashAlgorithm == 1 && $0.nextHashedOwner.count == 20 })
        #expect(missing3.authority.contains { $0.type == .nsec3 && $0.description.split(separator: " ").count >= 9 })

        // NSD is authoritative, not a validator: it never sets AD, so a trusting resolver says insecure.
        #expect(keys.dnssec == .insecure)
    }

    @Test func withoutDNSSECNoSignaturesAndNothingKnown() async throws {
        let zones = try await Self.signedZones()
        defer {
            zones.nsd.stop()
            try? FileManager.default.removeItem(at: zones.directory)
        }
        let resolver = NetworkResolver(nameservers: [zones.nameserver], timeout: .seconds(2), attempts: 2)
        let answer = await resolver.resolve(DNSQuestion(try DomainName(parsing: "mx.nsec.test"), .a))
        #expect(answer.records.count == 1)
        #expect(answer.signatures.isEmpty, "no DO bit, no RRSIG")
        #expect(answer.dnssec == .indeterminate)
    }
}
