import Foundation
import MailAudit
import MailAuditDNS
import MailAuditTesting
import Testing

/// DMARC and DKIM against a real NSD. The DKIM keys are made with the `openssl` command when the
/// suite starts, never committed, so the zone text is built then and served by an NSD of its own.
/// The whole tree lives in one zone, `test`, so the tree walk's last query (`_dmarc.test`) gets
/// a real NXDOMAIN.
@Suite(.serialized, .tags(.nsd))
struct DMARCDKIMIntegrationTests {
    /// A private key file and the base64 that a DKIM record publishes for it.
    struct Key: Sendable {
        var privateKeyPath: String
        var published: String
    }

    /// The keys, the zone and the server, made once for the suite.
    struct Fixture: Sendable {
        var server: NSDServer
        var directory: URL
        var keys: [String: Key]

        var nameserver: Nameserver {
            get throws { Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try server.requirePort())) }
        }
    }

    actor Shared {
        static let shared = Shared()
        private var starting: Task<Fixture, any Error>?

        func fixture() async throws -> Fixture {
            let task = starting ?? Task { try await DMARCDKIMIntegrationTests.makeFixture() }
            starting = task
            return try await task.value
        }
    }

    static func openssl(_ arguments: [String]) async throws {
        let result = try await runProcess(URL(fileURLWithPath: "/usr/bin/openssl"), arguments, timeout: .seconds(60))
        #expect(result.exitCode == 0, "openssl \(arguments.joined(separator: " ")): \(result)")
        if result.exitCode != 0 { throw HarnessError.launchFailed(path: "/usr/bin/openssl", reason: result.stderr) }
    }

    /// `genpkey` then the public half in DER: the SPKI for RSA, the raw last 32 bytes for Ed25519.
    static func makeKey(_ name: String, algorithm: [String], in directory: URL) async throws -> Key {
        let key = directory.appendingPathComponent("\(name).pem").path
        let der = directory.appendingPathComponent("\(name).der").path
        try await openssl(["genpkey"] + algorithm + ["-out", key])
        try await openssl(["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", der])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: der))
        if algorithm.contains("ed25519") { bytes = bytes.suffix(32) }
        return Key(privateKeyPath: key, published: bytes.base64EncodedString())
    }

    /// A TXT record's text as zone-file strings of at most 200 characters.
    static func strings(_ text: String) -> String {
        var parts: [String] = []
        var rest = Substring(text)
        while !rest.isEmpty {
            parts.append("\"\(rest.prefix(200))\"")
            rest = rest.dropFirst(200)
        }
        return parts.joined(separator: " ")
    }

    static func makeFixture() async throws -> Fixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-dkim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var keys: [String: Key] = [:]
        for (name, algorithm) in [
            ("rsa512", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:512"]),
            ("rsa1024", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"]),
            ("rsa2048", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
            ("other2048", ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]),
            ("ed", ["-algorithm", "ed25519"]),
        ] {
            keys[name] = try await makeKey(name, algorithm: algorithm, in: directory)
        }
        func key(_ name: String) -> String { keys[name]?.published ?? "" }
        let zone = """
            $ORIGIN test.
            $TTL 300
            @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
            @ NS ns.test.
            ns A 127.0.0.1
            ; A subdomain governed by its Organizational Domain through the tree walk.
            _dmarc.org TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:dmarc@org.test"
            mail.org A 127.0.0.1
            ; External aggregate report addresses, with and without authorisation.
            _dmarc.ext-ok TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
            ext-ok.test._report._dmarc.reports TXT "v=DMARC1"
            _dmarc.ext-missing TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
            _dmarc.ext-wild TXT "v=DMARC1; p=reject; rua=mailto:agg@wild.test"
            *._report._dmarc.wild TXT "v=DMARC1"
            ; Two records; a bad p.
            _dmarc.two TXT "v=DMARC1; p=reject"
            _dmarc.two TXT "v=DMARC1; p=none"
            _dmarc.badp TXT "v=DMARC1; p=block; rua=mailto:d@badp.test"
            ; DKIM keys at named selectors.
            rsa512._domainkey.keys TXT \(strings("v=DKIM1; k=rsa; p=\(key("rsa512"))"))
            rsa1024._domainkey.keys TXT \(strings("v=DKIM1; k=rsa; p=\(key("rsa1024"))"))
            rsa2048._domainkey.keys TXT \(strings("v=DKIM1; k=rsa; p=\(key("rsa2048"))"))
            ed._domainkey.keys TXT \(strings("v=DKIM1; k=ed25519; p=\(key("ed"))"))
            revoked._domainkey.keys TXT "v=DKIM1; p="
            testing._domainkey.keys TXT \(strings("v=DKIM1; t=y; p=\(key("rsa2048"))"))
            badb64._domainkey.keys TXT "v=DKIM1; p=MIIBIjANBgkqhkiG9w0B!!!notbase64"
            ; Selectors found by discovery, one of them a CNAME to a provider.
            selector1._domainkey.found TXT \(strings("v=DKIM1; p=\(key("rsa2048"))"))
            selector2._domainkey.found CNAME found-test.dkim.provider.test.
            found-test.dkim.provider TXT \(strings("v=DKIM1; p=\(key("rsa1024"))"))

            """
        let server = NSDServer(zones: [.text("test", zone)])
        try await server.start()
        return Fixture(server: server, directory: directory, keys: keys)
    }

    func resolver() async throws -> CachingResolver {
        DNSClient.make(nameservers: [try await Shared.shared.fixture().nameserver], timeout: .seconds(2), attempts: 2)
    }

    func dmarc(_ domain: String) async throws -> [Finding] {
        let result = await DMARCLookup(resolver: try await resolver()).run(for: try DomainName(parsing: domain))
        return result.findings
    }

    func dkim(_ domain: String, selectors: [String] = []) async throws -> (DKIMResult, [Finding]) {
        let result = await DKIMLookup(resolver: try await resolver(), selectors: selectors).run(for: try DomainName(parsing: domain))
        return (result, result.findings)
    }

    func severities(_ findings: [Finding], _ id: String, subject: String? = nil) -> [Severity] {
        findings.filter { $0.id.rawValue == id && (subject == nil || $0.subject.description == subject) }.map(\.severity)
    }

    @Test func aSubdomainIsGovernedByItsOrganizationalDomainThroughTheTreeWalk() async throws {
        let findings = try await dmarc("mail.org.test")
        let record = try #require(findings.first { $0.id == "dmarc.record" }, "\(findings.map(\.id))")
        #expect(record.message.contains("the record at _dmarc.org.test governs it, inherited by the DNS tree walk"))
        #expect(record.message.contains("sp=quarantine"))
        #expect(record.evidence.first == "_dmarc.mail.org.test. TXT: NXDOMAIN (the name does not exist)")
        #expect(record.evidence.contains("Organizational Domain of mail.org.test: org.test (RFC 9989 §4.10.2)"))
        #expect(!findings.contains { $0.severity == .failure || $0.severity == .inconclusive }, "\(findings.map(\.id))")
    }

    @Test(arguments: [
        ("ext-ok.test", "dmarc.external-report-authorised", Severity.pass),
        ("ext-wild.test", "dmarc.external-report-authorised", .pass),
        ("ext-missing.test", "dmarc.external-report-unauthorised", .failure),
        ("two.test", "dmarc.multiple-records", .failure),
        ("badp.test", "dmarc.syntax-error", .failure),
        ("nothing.test", "dmarc.none", .warning),
    ])
    func dmarcScenario(domain: String, id: String, severity: Severity) async throws {
        let findings = try await dmarc(domain)
        #expect(severities(findings, id) == [severity], "got \(findings.map { "\($0.id) \($0.severity)" })")
    }

    @Test func theUnauthorisedDestinationGetsTheRecordToPublish() async throws {
        let findings = try await dmarc("ext-missing.test")
        let finding = try #require(findings.first { $0.id == "dmarc.external-report-unauthorised" })
        #expect(finding.remedy?.contains("ext-missing.test._report._dmarc.reports.test. IN TXT \"v=DMARC1\"") == true)
    }

    @Test(arguments: [
        ("rsa512", "dkim.key-too-short", Severity.failure),
        ("rsa1024", "dkim.key-weak", .warning),
        ("rsa2048", "dkim.key", .pass),
        ("ed", "dkim.key", .pass),
        ("revoked", "dkim.key-revoked", .info),
        ("testing", "dkim.testing", .warning),
        ("badb64", "dkim.bad-key", .failure),
        ("absent", "dkim.selector-missing", .failure),
    ])
    func dkimKey(selector: String, id: String, severity: Severity) async throws {
        let (_, findings) = try await dkim("keys.test", selectors: [selector])
        #expect(severities(findings, id, subject: "\(selector)._domainkey.keys.test") == [severity],
                "got \(findings.map { "\($0.id) \($0.severity) \($0.subject)" })")
    }

    @Test func discoveryFindsSelectorsAndShowsTheCNAMETarget() async throws {
        let (result, findings) = try await dkim("found.test")
        #expect(result.usableKeys.map(\.selector) == ["selector1", "selector2"])
        let summary = try #require(findings.first { $0.id == "dkim.selectors" })
        #expect(summary.message.contains("selector1, selector2 (CNAME to found-test.dkim.provider.test)"))
        #expect(summary.evidence.contains { $0.hasPrefix("not found: google, default") })
        #expect(severities(findings, "dkim.key-weak", subject: "selector2._domainkey.found.test") == [.warning])
        let (none, noneFindings) = try await dkim("org.test")
        #expect(none.found.isEmpty && none.isComplete)
        #expect(noneFindings.map(\.id) == ["dkim.no-key-found"], "tried and not found is not \"no DKIM\"")
    }

    @Test func theAuditorCanApplyTheCrossRuleAfterAllThreeRan() async throws {
        let resolver = try await resolver()
        let domain = try DomainName(parsing: "ext-ok.test")
        async let dmarc = DMARCLookup(resolver: resolver).run(for: domain)
        async let dkim = DKIMLookup(resolver: resolver).run(for: domain)
        let dkimResult = await dkim
        let context = DMARCContext(spfPublished: false, spfBroken: false, dkimKeysFound: dkimResult.usableKeys.count,
                                   dkimSelectorsTried: dkimResult.selectors.count)
        let findings = await dmarc.findings(context: context)
        #expect(severities(findings, "dmarc.enforcing-without-authentication") == [.warning])
    }

    // MARK: The binary

    func runBinary(_ arguments: [String]) async throws -> ProcessResult {
        let port = try await Shared.shared.fixture().server.requirePort()
        return try await runProcess(try builtProductPath("mailaudit"), ["dkim"] + arguments + ["--resolver", "127.0.0.1:\(port)"],
                                    timeout: .seconds(60))
    }

    @Test func theBinaryMatchesThePrivateKey() async throws {
        let fixture = try await Shared.shared.fixture()
        let key = try #require(fixture.keys["rsa2048"])
        let result = try await runBinary(["keys.test", "--selector", "rsa2048", "--private-key", key.privateKeyPath, "--format", "json"])
        #expect(result.exitCode == 0, "\(result)")
        #expect(result.stdout.contains("\"dkim.private-key-match\""), "\(result)")
        let privateKey = try String(contentsOfFile: key.privateKeyPath, encoding: .utf8)
        let body = privateKey.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
        #expect(!result.stdout.contains(body) && !result.stderr.contains(body), "the private key is never printed")
    }

    @Test func theBinaryReportsAMismatch() async throws {
        let fixture = try await Shared.shared.fixture()
        let other = try #require(fixture.keys["other2048"])
        let result = try await runBinary(["keys.test", "--selector", "rsa2048", "--private-key", other.privateKeyPath])
        #expect(result.exitCode == 1, "\(result)")
        #expect(result.stdout.contains("dkim.private-key-mismatch"), "\(result)")
    }

    @Test func theBinaryRefusesBadInput() async throws {
        let missing = try await runBinary(["keys.test", "--selector", "rsa2048", "--private-key", "/nonexistent/key.pem"])
        #expect(missing.exitCode == 2, "\(missing)")
        #expect(missing.stderr.contains("cannot be read"), "\(missing)")
        let fixture = try await Shared.shared.fixture()
        let twoSelectors = try await runBinary(["keys.test", "--selector", "a", "--selector", "b",
                                                "--private-key", try #require(fixture.keys["ed"]).privateKeyPath])
        #expect(twoSelectors.exitCode == 2, "\(twoSelectors)")
        #expect(twoSelectors.stderr.contains("exactly one --selector"), "\(twoSelectors)")
    }
}
