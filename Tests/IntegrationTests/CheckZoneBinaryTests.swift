import Foundation
import MailAuditTesting
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// `mailaudit check-zone` on zone files written at test time: exit codes, the SARIF line of
/// each broken record, --offline, and an SPF include outside the zone looked up from NSD.
@Suite(.serialized, .tags(.nsd))
struct CheckZoneBinaryTests {
    static let head = """
        $ORIGIN shop.test.
        $TTL 300
        @        IN SOA ns.shop.test. hostmaster.shop.test. ( 1 3600 900
                                                              604800 300 )
        @        IN NS  ns.provider.test.
        @        IN MX  10 mail
        mail     IN A   127.0.0.25

        """

    /// A directory of its own, removed when the test ends.
    final class Directory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("check-zone-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
        func write(_ name: String, _ text: String) throws -> String {
            let file = url.appendingPathComponent(name)
            try text.write(to: file, atomically: true, encoding: .utf8)
            return file.path
        }
    }

    func run(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), ["check-zone"] + arguments, timeout: .seconds(60))
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func findings(_ document: [String: Any]) -> [[String: Any]] {
        (document["domains"] as? [[String: Any]] ?? []).flatMap { $0["findings"] as? [[String: Any]] ?? [] }
    }

    func results(_ sarif: [String: Any]) -> [[String: Any]] {
        ((sarif["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]) ?? []
    }

    func startLine(_ result: [String: Any]) -> Int? {
        let physical = (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any]
        return (physical?["region"] as? [String: Any])?["startLine"] as? Int
    }

    /// One broken record each, appended after `head`, and the finding it must give at its own line.
    static let broken: [(record: String, id: String)] = [
        (#"@ IN TXT "v=spf1 a:: -all""#, "spf.syntax-error"),
        (#"@ IN TXT "v=spf1 mx -all""# + "\n" + #"@ IN TXT "v=spf1 a -all""#, "spf.multiple-records"),
        (#"_dmarc IN TXT "v=DMARC1; p=none; rua=mailto:dmarc@shop.test""#, "dmarc.policy-none"),
        ("@ IN MX 20 alias\nalias IN CNAME mail", "mx.target-cname"),
    ]

    @Test(arguments: broken)
    func aBrokenRecordIsReportedAtItsLine(record: String, id: String) async throws {
        let directory = try Directory()
        let text = Self.head + "; the record under test\n" + record + "\n"
        let path = try directory.write("shop.test.zone", text)
        let expectedLine = Self.head.split(separator: "\n", omittingEmptySubsequences: false).count + 1
        let result = try await run([path, "--offline", "--allow-private-addresses", "--fail-on", "warning", "--format", "sarif"])
        #expect(result.exitCode == 1, "\(result)")
        let located = results(try json(result.stdout)).filter { $0["ruleId"] as? String == id }
        #expect(!located.isEmpty, "\(result.stdout)")
        for result in located {
            #expect(startLine(result) == expectedLine, "\(id) at the line of the broken record")
            let uri = ((result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
                .flatMap { ($0["artifactLocation"] as? [String: Any])?["uri"] as? String }
            #expect(uri?.hasSuffix("/shop.test.zone") == true)
        }
    }

    @Test func aSyntaxErrorInTheZoneExitsTwoWithItsLine() async throws {
        let directory = try Directory()
        let path = try directory.write("bad.zone", Self.head + "www IN A 300.1.2.3\n")
        let line = Self.head.split(separator: "\n", omittingEmptySubsequences: false).count
        let result = try await run([path, "--offline"])
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains("bad.zone:\(line): "), "\(result.stderr)")
        #expect(!result.terminatedBySignal)
        let missing = try await run([directory.url.appendingPathComponent("absent.zone").path, "--offline"])
        #expect(missing.exitCode == 2 && missing.stderr.contains("cannot be read"), "\(missing)")
        let noOrigin = try await run([try directory.write("bare.zone", "www.x.test. IN A 192.0.2.1\n"), "--offline"])
        #expect(noOrigin.exitCode == 2 && noOrigin.stderr.contains("--origin"), "\(noOrigin)")
    }

    /// shop.test's SPF includes a provider's record that is not in the zone file: NSD serves it.
    static let good = head + """
        @        IN TXT "v=spf1 mx include:_spf.provider.test -all"
        _dmarc   IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@shop.test"

        """

    @Test func anIncludeOutsideTheZoneIsLookedUpLive() async throws {
        let provider = """
            $ORIGIN provider.test.
            @ IN SOA ns.provider.test. h.provider.test. 1 3600 600 86400 300
            @ IN NS ns.provider.test.
            ns IN A 127.0.0.1
            _spf IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
            """
        let nsd = NSDServer(zones: [.text("provider.test", provider)])
        try await nsd.start()
        defer { nsd.stop() }
        let resolver = "127.0.0.1:\(try nsd.requirePort())"
        let directory = try Directory()
        let path = try directory.write("shop.test.zone", Self.good)
        let base = [path, "--resolver", resolver, "--timeout", "1", "--attempts", "1", "--allow-private-addresses", "--checks", "mx,spf,dmarc"]

        let live = try await run(base + ["--format", "json"])
        #expect(live.exitCode == 0, "\(live)")
        let ids = findings(try json(live.stdout)).compactMap { $0["id"] as? String }
        #expect(ids.contains("spf.record") && ids.contains("spf.all-fail") && ids.contains("dmarc.record"), "\(ids)")
        #expect(!ids.contains("spf.lookup-failed") && !ids.contains("spf.include-missing") && !ids.contains("zone.not-looked-up"))

        let missing = try directory.write("missing.zone", Self.good.replacingOccurrences(of: "_spf.provider.test", with: "_gone.provider.test"))
        let broken = try await run([missing] + base.dropFirst() + ["--format", "json"])
        #expect(broken.exitCode == 1, "\(broken)")
        #expect(findings(try json(broken.stdout)).contains { $0["id"] as? String == "spf.include-missing" }, "it was really asked of NSD")
    }

    @Test func offlineSaysWhatCouldNotBeChecked() async throws {
        let directory = try Directory()
        let path = try directory.write("shop.test.zone", Self.good + "_mta-sts IN TXT \"v=STSv1; id=1\"\nmta-sts IN A 127.0.0.1\n")
        let result = try await run([path, "--offline", "--allow-private-addresses", "--format", "json"])
        #expect(result.exitCode == 0, "inconclusive is not broken: \(result)")
        let all = findings(try json(result.stdout))
        let skipped = try #require(all.first { $0["id"] as? String == "zone.not-looked-up" })
        let evidence = skipped["evidence"] as? [String] ?? []
        #expect(evidence.contains("_spf.provider.test. TXT"), "\(evidence)")
        let spf = all.filter { ($0["area"] as? String) == "spf" && ($0["severity"] as? String) == "inconclusive" }
        #expect(!spf.isEmpty, "the include could not be checked")
        #expect(all.contains { ($0["evidence"] as? [String] ?? []).contains { $0.contains("not looked up: --offline") } })
        #expect(!all.contains { ($0["area"] as? String) == "smtp" }, "no probe unless --probe")
        let policy = all.filter { ($0["area"] as? String) == "mta-sts" && ($0["evidence"] as? [String] ?? []).contains { $0.contains("not fetched: --offline") } }
        #expect(!policy.isEmpty, "no HTTPS fetch offline: \(all.filter { ($0["area"] as? String) == "mta-sts" })")
        let failOnInconclusive = try await run([path, "--offline", "--allow-private-addresses", "--fail-on", "inconclusive"])
        #expect(failOnInconclusive.exitCode == 1)
    }

    @Test func junitIsWellFormed() async throws {
        let directory = try Directory()
        let path = try directory.write("shop.test.zone", Self.head + #"@ IN TXT "v=spf1 a:: -all""# + "\n")
        let result = try await run([path, "--offline", "--allow-private-addresses", "--format", "junit"])
        #expect(result.exitCode == 1, "\(result)")
        let parser = XMLParser(data: Data(result.stdout.utf8))
        #expect(parser.parse(), "\(result.stdout)")
        #expect(result.stdout.contains(#"<testcase name="spf" classname="shop.test">"#))
        #expect(result.stdout.contains(#"type="spf.syntax-error""#))
    }

    @Test func thePlainAuditWritesJUnitAndSARIFWithLogicalLocations() async throws {
        let resolver = "127.0.0.1:\(try await FixtureNSD.shared.port())"
        let audit = ["--no-probe", "--resolver", resolver, "--allow-private-addresses", "good.test", "cname-mx.test"]
        let sarif = try await runProcess(try builtProductPath("mailaudit"), audit + ["--format", "sarif"], timeout: .seconds(60))
        #expect(sarif.exitCode == 1, "\(sarif)")
        let document = try json(sarif.stdout)
        #expect(document["version"] as? String == "2.1.0")
        let cname = try #require(results(document).first { $0["ruleId"] as? String == "mx.target-cname" })
        let location = try #require((cname["locations"] as? [[String: Any]])?.first)
        #expect(location["physicalLocation"] == nil)
        #expect((location["logicalLocations"] as? [[String: Any]])?.first?["fullyQualifiedName"] as? String == "cname-mx.test. MX")
        let junit = try await runProcess(try builtProductPath("mailaudit"), audit + ["--format", "junit"], timeout: .seconds(60))
        #expect(junit.exitCode == 1)
        #expect(XMLParser(data: Data(junit.stdout.utf8)).parse(), "\(junit.stdout)")
        #expect(junit.stdout.components(separatedBy: "<testsuite ").count == 3, "one document, a suite per domain")
    }

    @Test(arguments: [
        (["--origin", "bad..name"], "empty label"),
        (["--format", "csv"], "check-zone audits one"),
        (["--offline", "--probe"], "--probe needs the network"),
    ])
    func badArgumentsExitTwo(arguments: [String], message: String) async throws {
        let directory = try Directory()
        let path = try directory.write("shop.test.zone", Self.good)
        let result = try await run([path] + arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
