import Foundation
import MailAudit
import MailAuditDNS
import MailAuditSMTP
import MailAuditTesting
import Testing

/// The full audit with the MX probe: a real NSD names MX hosts on 127.0.1.x, served by a real
/// Postfix (one listener per TLS situation) and by hostile listeners, all on one port.
@Suite(.serialized, .tags(.smtp, .nsd))
struct ProbeAuditTests {
    /// One audited domain per situation: `NAME.lab.test` has `MX 10 mx-NAME.lab.test`.
    static let hosts: [(name: String, address: String)] = [
        ("valid", "127.0.1.2"), ("expired", "127.0.1.3"), ("wrongname", "127.0.1.4"), ("selfsigned", "127.0.1.5"),
        ("incomplete", "127.0.1.6"), ("unknown", "127.0.1.7"), ("plain", "127.0.1.8"), ("busy", "127.0.1.9"),
        ("weak", "127.0.1.10"), ("tls10", "127.0.1.11"), ("expiring", "127.0.1.12"),
        ("stalled", "127.0.1.21"), ("garbage", "127.0.1.22"), ("refused", "127.0.1.30"),
        ("blocked1", "127.0.1.23"), ("blocked2", "127.0.1.24"),
    ]

    struct Lab: Sendable {
        let ca: TestCA
        let postfix: PostfixServer
        let hostile: [HostileSMTPListener]
        let nsd: NSDServer
        let port: UInt16

        func stop() async {
            postfix.stop()
            for listener in hostile { await listener.stop() }
            nsd.stop()
            ca.remove()
        }
    }

    static func startLab() async throws -> Lab {
        let ca = try await TestCA.create()
        let reference = TestCA.referenceTime
        var listeners: [PostfixServer.Listener] = []
        let kinds: [(String, TestCA.Kind)] = [
            ("valid", .valid), ("expired", .expired), ("wrongname", .wrongName), ("selfsigned", .selfSigned),
            ("incomplete", .incompleteChain), ("unknown", .unknownIssuer), ("weak", .weak), ("tls10", .valid),
        ]
        let address = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0.address) })
        for (name, kind) in kinds {
            let certificate = try await ca.issue(kind, for: "mx-\(name).lab.test")
            listeners.append(.starttls(
                name, address: address[name] ?? "", hostName: "mx-\(name).lab.test", chainFile: certificate.chainFile,
                options: name == "tls10" ? ["smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.1,!TLSv1.2,!TLSv1.3"] : []))
        }
        let expiring = try await ca.issue(
            .valid, for: "mx-expiring.lab.test",
            validity: (reference.addingTimeInterval(-30 * 86_400), reference.addingTimeInterval(5 * 86_400 + 3_600)))
        listeners.append(.starttls("expiring", address: address["expiring"] ?? "", hostName: "mx-expiring.lab.test", chainFile: expiring.chainFile))
        listeners.append(.plain("plain", address: address["plain"] ?? "", hostName: "mx-plain.lab.test"))
        listeners.append(.busy("busy", address: address["busy"] ?? "", hostName: "mx-busy.lab.test"))
        let postfix = PostfixServer(listeners: listeners)
        try await postfix.start()
        let port = try postfix.requirePort()

        let hostile = [
            HostileSMTPListener(.neverGreets, address: address["stalled"] ?? "", port: port),
            HostileSMTPListener(.garbageAfterSTARTTLS, address: address["garbage"] ?? "", port: port),
            HostileSMTPListener(.acceptQueueFull, address: address["blocked1"] ?? "", port: port),
            HostileSMTPListener(.acceptQueueFull, address: address["blocked2"] ?? "", port: port),
        ]
        for listener in hostile { try await listener.start() }

        var zone = """
            $ORIGIN lab.test.
            $TTL 300
            @ IN SOA ns.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
            @ IN NS ns.lab.test.
            ns IN A 127.0.0.1
            ; Two MX names on one address: it is probed once, and the certificate names only the first.
            alias IN MX 10 mx-valid.lab.test.
            alias IN MX 20 mx-valid2.lab.test.
            mx-valid2 IN A 127.0.1.2
            ; Every MX address times out on connect.
            blocked IN MX 10 mx-blocked1.lab.test.
            blocked IN MX 20 mx-blocked2.lab.test.

            """
        for (name, ip) in hosts {
            zone += "\(name) IN MX 10 mx-\(name).lab.test.\nmx-\(name) IN A \(ip)\n"
        }
        let nsd = NSDServer(zones: [.text("lab.test", zone)])
        try await nsd.start()
        return Lab(ca: ca, postfix: postfix, hostile: hostile, nsd: nsd, port: port)
    }

    static func probeOptions(_ lab: Lab) -> ProbeOptions {
        var options = ProbeOptions(ehloName: "probe.mailaudit.test")
        options.port = lab.port
        options.caFile = lab.ca.rootFile.path
        options.verificationTime = TestCA.referenceTime
        options.timeouts = SMTPTimeouts(connect: .seconds(1), greeting: .seconds(2), command: .seconds(3), tlsHandshake: .seconds(3), total: .seconds(10))
        return options
    }

    static func audit(_ lab: Lab, _ domains: [String]) async throws -> [DomainReport] {
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try lab.nsd.requirePort()))])
        var options = AuditOptions()
        options.allowPrivateAddresses = true
        options.probe = probeOptions(lab)
        return await Auditor(resolver: resolver, options: options).audit(try domains.map { try DomainName(parsing: $0) })
    }

    static let expectations: [(domain: String, id: String, severity: Severity)] = [
        ("valid", "smtp.starttls", .pass), ("valid", "smtp.certificate-valid", .pass),
        ("expired", "smtp.certificate-expired", .failure),
        ("wrongname", "smtp.certificate-name-mismatch", .failure),
        ("selfsigned", "smtp.certificate-self-signed", .failure),
        ("incomplete", "smtp.certificate-incomplete-chain", .failure),
        ("unknown", "smtp.certificate-unknown-issuer", .failure),
        ("plain", "smtp.no-starttls", .failure),
        ("busy", "smtp.rate-limited", .inconclusive),
        ("weak", "smtp.certificate-weak-key", .warning), ("weak", "smtp.certificate-sha1", .failure),
        ("tls10", "smtp.tls-version-deprecated", .failure),
        ("expiring", "smtp.certificate-expiring", .warning),
        ("stalled", "smtp.stalled", .inconclusive),
        ("garbage", "smtp.tls-handshake-failed", .failure),
        ("refused", "smtp.connection-refused", .failure),
        ("blocked", "smtp.port-blocked", .inconclusive), ("blocked", "smtp.connect-timeout", .inconclusive),
        ("alias", "smtp.certificate-name-mismatch", .failure),
    ]

    @Test func everySituationGivesItsFinding() async throws {
        let lab = try await Self.startLab()
        let domains = Set(Self.expectations.map(\.domain)).sorted()
        let reports = try await Self.audit(lab, domains.map { "\($0).lab.test" })
        await lab.stop()
        let byDomain = Dictionary(uniqueKeysWithValues: reports.map { ($0.domain.labels[0], $0.findings.filter { $0.id.area == "smtp" }) })
        for (domain, id, severity) in Self.expectations {
            let findings = byDomain[domain] ?? []
            #expect(findings.filter { $0.id.rawValue == id }.map(\.severity).contains(severity),
                    "\(domain): expected \(id) \(severity); got \(findings.map { "\($0.id) \($0.severity)" })")
        }
        // The valid host has nothing wrong.
        let valid = byDomain["valid"] ?? []
        #expect(!valid.contains { $0.severity == .failure || $0.severity == .warning }, "\(valid.map(\.id))")
        // Two MX names on one address: one probe, and the name check is made for each name.
        let alias = byDomain["alias"] ?? []
        #expect(alias.filter { $0.id == "smtp.starttls" }.map(\.subject.description) == ["mx-valid.lab.test, mx-valid2.lab.test [127.0.1.2]"])
        #expect(alias.first { $0.id == "smtp.certificate-name-mismatch" }?.message.contains("not valid for mx-valid2.lab.test;") == true)
        // The certificate facts are in the evidence.
        let chain = valid.first { $0.id == "smtp.starttls" }?.evidence.joined(separator: "\n") ?? ""
        #expect(chain.contains("names mx-valid.lab.test"), "\(chain)")
        #expect(chain.contains("TLSv1."), "\(chain)")
        // A rate limit, a stall and a blocked port are never failures.
        for domain in ["busy", "stalled", "blocked"] {
            #expect(!(byDomain[domain] ?? []).contains { $0.severity == .failure }, "\(domain)")
        }
    }

    @Test func anAddressSharedByDomainsIsProbedOnce() async throws {
        let lab = try await Self.startLab()
        let counter = HostileSMTPListener(.greeting("220 mx-counted.lab.test ESMTP"), address: "127.0.1.40", port: lab.port)
        try await counter.start()
        var zone = "$ORIGIN shared.test.\n$TTL 300\n@ IN SOA ns.shared.test. h.shared.test. 1 3600 600 86400 300\n@ IN NS ns.shared.test.\nns IN A 127.0.0.1\n"
        for index in 1...3 { zone += "d\(index) IN MX 10 mx\(index).shared.test.\nmx\(index) IN A 127.0.1.40\n" }
        let nsd = NSDServer(zones: [.text("shared.test", zone)])
        try await nsd.start()
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try nsd.requirePort()))])
        var options = AuditOptions()
        options.allowPrivateAddresses = true
        options.probe = Self.probeOptions(lab)
        let reports = await Auditor(resolver: resolver, options: options).audit(
            try ["d1.shared.test", "d2.shared.test", "d3.shared.test"].map { try DomainName(parsing: $0) })
        let connections = counter.connectionsAccepted
        await counter.stop()
        nsd.stop()
        await lab.stop()
        #expect(connections == 1, "three domains whose MX share one address: one connection")
        #expect(reports.allSatisfy { $0.findings.contains { $0.id == "smtp.no-starttls" } })
    }

    @Test func privateAddressesAreNotProbedUnlessAllowed() async throws {
        let lab = try await Self.startLab()
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try lab.nsd.requirePort()))])
        var options = AuditOptions()
        options.probe = Self.probeOptions(lab)
        let report = await Auditor(resolver: resolver, options: options).audit(try DomainName(parsing: "valid.lab.test"))
        await lab.stop()
        let smtp = report.findings.filter { $0.id.area == "smtp" }
        #expect(smtp.map(\.id) == ["smtp.not-probed"], "127.0.1.2 is loopback: not probed without --allow-private-addresses")
    }

    @Test func theBinaryReportsProbeFindingsAndSkipsThemUnderNoProbe() async throws {
        let lab = try await Self.startLab()
        let common = ["--resolver", "127.0.0.1:\(try lab.nsd.requirePort())", "--smtp-port", "\(lab.port)",
                      "--ca-file", lab.ca.rootFile.path, "--verification-time", "2030-01-01T00:00:00Z",
                      "--connect-timeout", "1", "--greeting-timeout", "2", "--allow-private-addresses", "--format", "json"]
        let binary = try builtProductPath("mailaudit")
        let expired = try await runProcess(binary, common + ["expired.lab.test"], timeout: .seconds(60))
        let skipped = try await runProcess(binary, common + ["--no-probe", "expired.lab.test"], timeout: .seconds(60))
        let badFlag = try await runProcess(binary, common + ["--smtp-port", "70000", "expired.lab.test"], timeout: .seconds(60))
        await lab.stop()
        #expect(expired.exitCode == 1, "\(expired)")
        #expect(expired.stdout.contains("\"smtp.certificate-expired\""))
        // The JSON carries each probe's facts beside the findings.
        let document = try #require(try JSONSerialization.jsonObject(with: Data(expired.stdout.utf8)) as? [String: Any])
        let probe = try #require(((document["domains"] as? [[String: Any]])?.first?["probes"] as? [[String: Any]])?.first)
        #expect(probe["address"] as? String == "127.0.1.3")
        #expect(probe["outcome"] as? String == "completed")
        #expect(probe["offersSTARTTLS"] as? Bool == true)
        let tls = try #require(probe["tls"] as? [String: Any])
        let chain = try #require(tls["peerChain"] as? [[String: Any]])
        #expect((chain.first?["dnsNames"] as? [String]) == ["mx-expired.lab.test"])
        #expect(((tls["verification"] as? [String: Any])?["daysUntilExpiry"] as? Int ?? 0) < 0)
        #expect(!skipped.stdout.contains("\"smtp."), "--no-probe makes no connection")
        #expect(badFlag.exitCode == 2)
        #expect(badFlag.stderr.contains("--smtp-port"))
    }
}
