import Foundation
import MailAuditTesting
import Testing

/// The built `mailaudit` binary against the real NSD: exit codes, JSON, colour, bad input.
@Suite(.serialized, .tags(.nsd))
struct BinaryTests {
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), arguments, environment: environment, timeout: .seconds(60))
    }

    func resolver() async throws -> String { "127.0.0.1:\(try await FixtureNSD.shared.port())" }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func ids(_ document: [String: Any]) -> [String] {
        let domains = document["domains"] as? [[String: Any]] ?? []
        return domains.flatMap { ($0["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
    }

    @Test func healthyDomainExitsZeroWithVersionedJSON() async throws {
        let result = try await run(["--no-probe", "--resolver", try await resolver(), "--allow-private-addresses", "--format", "json", "good.test"])
        #expect(result.exitCode == 0, "\(result)")
        let document = try json(result.stdout)
        #expect(document["schemaVersion"] as? Int == 1)
        #expect(document["exitCode"] as? Int == 0)
        #expect(ids(document).contains("mx.present"))
        #expect(ids(document).contains("rdns.fcrdns"))
        let statistics = (document["dns"] as? [String: Any])?["statistics"] as? [String: Any]
        #expect(statistics?["repeatedQueries"] as? Int == 0)
        #expect((statistics?["queriesSent"] as? Int ?? 0) > 0)
        let finding = try #require(((document["domains"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]])?.first)
        for key in ["id", "area", "severity", "subject", "message", "evidence", "remedy", "reference"] {
            #expect(finding.keys.contains(key), "every finding carries \(key)")
        }
    }

    @Test(arguments: [
        ("nullmx-mixed.test", "mx.null-mx-with-other-mx"), ("cname-mx.test", "mx.target-cname"),
        ("ipliteral.test", "mx.target-ip-literal"), ("dangling.test", "mx.target-unresolvable"),
        ("fcrdns-mismatch.test", "rdns.fcrdns-mismatch"), ("cname-loop.test", "mx.target-cname-loop"),
        ("nomail.test", "mx.no-mail-route"),
    ])
    func failuresExitOneWithTheirId(domain: String, id: String) async throws {
        let result = try await run(["--no-probe", "--resolver", try await resolver(), "--allow-private-addresses", "--format", "json", domain])
        #expect(result.exitCode == 1, "\(result)")
        #expect(ids(try json(result.stdout)).contains(id))
    }

    @Test func warningsFailOnlyUnderFailOnWarning() async throws {
        let base = ["--no-probe", "--resolver", try await resolver(), "--allow-private-addresses", "implicit.test"]
        #expect(try await run(base).exitCode == 0)
        #expect(try await run(base + ["--fail-on", "warning"]).exitCode == 1)
    }

    @Test func inconclusiveIsNotAFailure() async throws {
        let base = ["--no-probe", "--resolver", try await resolver(), "servfail.test"]
        #expect(try await run(base).exitCode == 0)
        #expect(try await run(base + ["--fail-on", "inconclusive"]).exitCode == 1)
    }

    @Test func trustAnchorFileIsReadOrRefused() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-anchor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        try "signed.test. IN DS 12345 13 2 \(String(repeating: "AB", count: 32))\n".write(to: file, atomically: true, encoding: .utf8)
        let base = ["--no-probe", "--resolver", try await resolver(), "--allow-private-addresses", "--format", "json", "--checks", "mx,dnssec"]
        let result = try await run(base + ["--trust-anchor", file.path, "good.test"])
        let findings = ((try json(result.stdout)["domains"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]]) ?? []
        let dnssec = try #require(findings.first { ($0["id"] as? String)?.hasPrefix("dnssec.") == true }, "\(result)")
        // good.test lies below no anchor of the file: could not check, and the evidence says how it was judged.
        #expect(dnssec["id"] as? String == "dnssec.lookup-failed")
        #expect((dnssec["evidence"] as? [String])?.contains { $0.contains("trust anchor \(file.path)") } == true, "\(dnssec)")

        try "signed.test. IN A 192.0.2.1\n".write(to: file, atomically: true, encoding: .utf8)
        let refused = try await run(base + ["--trust-anchor", file.path, "good.test"])
        #expect(refused.exitCode == 2, "\(refused)")
        #expect(refused.stderr.contains("line 1: not a DS or DNSKEY record"), "\(refused.stderr)")
        let both = try await run(base + ["--trust-anchor", "/nonexistent", "--trust-resolver-ad", "good.test"])
        #expect(both.stderr.contains("either --trust-anchor or --trust-resolver-ad"), "\(both.stderr)")
    }

    @Test func noResolverAnsweringExitsThree() async throws {
        let silent = SilentListener()
        try await silent.start()
        let result = try await run(["--no-probe", "--resolver", "127.0.0.1:\(try silent.requirePort())", "--timeout", "0.2", "--attempts", "1", "good.test"])
        await silent.stop()
        #expect(result.exitCode == 3, "\(result)")
        #expect(result.stderr.contains("no DNS resolver answered"))
    }

    @Test(arguments: [
        (["192.0.2.1"], "is an IP address"),
        (["exa$mple.com"], "cannot hold"),
        ([String(repeating: "a", count: 64) + ".com"], "at most 63"),
        (["example..com"], "empty label"),
        ([""], "empty"),
        (["good.test", "--timeout", "-1"], "--timeout"),
        (["good.test", "--ip", "not-an-ip"], "not an IPv4 or IPv6 address"),
        (["good.test", "--resolver", "dns.example.com"], "IP literal"),
        (["good.test", "--format", "xml"], "xml"),
        (["good.test", "--no-such-flag"], "no-such-flag"),
        ([], "at least one domain"),
    ])
    func badInputExitsTwoWithAMessage(arguments: [String], message: String) async throws {
        let result = try await run(["--resolver", "127.0.0.1:9"] + arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!result.terminatedBySignal)
    }

    @Test func unicodeDomainsAreAuditedAsALabels() async throws {
        let result = try await run(["--no-probe", "--resolver", try await resolver(), "--format", "json", "GOOD.test.", "bücher.test"])
        let domains = (try json(result.stdout)["domains"] as? [[String: Any]])?.compactMap { $0["domain"] as? String }
        #expect(domains == ["good.test", "xn--bcher-kva.test"])
    }

    @Test func colourOnlyWhenAskedOrOnATerminal() async throws {
        let base = ["--no-probe", "--resolver", try await resolver(), "--allow-private-addresses", "good.test"]
        let piped = try await run(base)
        #expect(!piped.stdout.contains("\u{1B}["), "no colour when piped")
        #expect(piped.stdout.contains("Summary:"))
        #expect(piped.stdout.contains("DNS queries"))
        #expect(try await run(base + ["--color", "always"]).stdout.contains("\u{1B}["))
        #expect(!(try await run(base + ["--color", "auto"], environment: ["NO_COLOR": "1"]).stdout.contains("\u{1B}[")))
    }

    @Test func versionAndLibraries() async throws {
        let version = try await run(["--version"])
        #expect(version.exitCode == 0)
        #expect(version.stdout.hasPrefix("mailaudit "))
        let libraries = try await run(["--show-libraries"])
        #expect(libraries.stdout.contains("ldns 1."))
        #expect(libraries.stdout.contains("OpenSSL 3."))
    }
}
