import Foundation
import MailAudit
import MailAuditDNS
import MailAuditRecords
import MailAuditTesting
import Testing

/// SPF against the real NSD serving `spf.test`: the audit's findings, check_host(), and the
/// `mailaudit spf` command.
@Suite(.serialized, .tags(.nsd))
struct SPFIntegrationTests {
    func spfFindings(_ domain: String, through nameserver: Nameserver? = nil, timeout: Duration = .seconds(2)) async throws -> [Finding] {
        let server: Nameserver
        if let nameserver { server = nameserver } else { server = try await FixtureNSD.shared.nameserver() }
        let resolver = DNSClient.make(nameservers: [server], timeout: timeout, attempts: 2)
        let report = await Auditor(resolver: resolver).audit(try name(domain))
        return report.findings.filter { $0.id.area == "spf" }
    }

    static let scenarios: [(String, String, Severity)] = [
        ("ten.spf.test", "spf.lookups-near-limit", .info),
        ("eleven.spf.test", "spf.too-many-lookups", .failure),
        ("voids.spf.test", "spf.too-many-void-lookups", .failure),
        ("two.spf.test", "spf.multiple-records", .failure),
        ("loop.spf.test", "spf.include-loop", .failure),
        ("missing.spf.test", "spf.include-missing", .failure),
        ("plusall.spf.test", "spf.all-pass", .failure),
        ("long.spf.test", "spf.record-too-long", .warning),
        ("ptr.spf.test", "spf.ptr-mechanism", .warning),
        ("neutral.spf.test", "spf.all-neutral", .warning),
        ("soft.spf.test", "spf.all-softfail", .info),
        ("noall.spf.test", "spf.no-all", .warning),
        ("redirect.spf.test", "spf.redirect-missing", .failure),
        ("manymx.spf.test", "spf.mx-too-many-records", .failure),
        ("unknown.spf.test", "spf.unknown-mechanism", .failure),
        ("badcidr.spf.test", "spf.bad-cidr", .failure),
        ("badmacro.spf.test", "spf.bad-macro", .failure),
        ("good.test", "spf.all-fail", .pass),
        ("good.test", "spf.lookup-count", .pass),
        ("nonexistent.test", "spf.none", .warning),
        ("servfail.test", "spf.lookup-failed", .inconclusive),
    ]

    @Test(arguments: scenarios)
    func scenario(domain: String, id: String, severity: Severity) async throws {
        let findings = try await spfFindings(domain)
        #expect(findings.filter { $0.id.rawValue == id }.map(\.severity) == [severity],
                "got: \(findings.map { "\($0.id) \($0.severity)" })")
    }

    @Test func exactlyTenLookupsIsNotAFailure() async throws {
        let findings = try await spfFindings("ten.spf.test")
        #expect(!findings.contains { $0.id == "spf.too-many-lookups" })
        let budget = try #require(findings.first { $0.id == "spf.lookups-near-limit" })
        #expect(budget.message.contains("needs 10 of the 10"))
    }

    @Test func elevenLookupsShowTheTreeAndWhatToDrop() async throws {
        let finding = try #require(try await spfFindings("eleven.spf.test").first { $0.id == "spf.too-many-lookups" })
        #expect(finding.message.contains("needs 11"))
        let tree = finding.evidence.joined(separator: "\n")
        #expect(tree.contains("include:t1.spf.test costs 4"), "\(tree)")
        #expect(tree.contains("include:t2.spf.test costs 4"), "\(tree)")
        #expect(tree.contains("a:host2.spf.test costs 1, running total 11  ← over the limit"), "\(tree)")
        #expect(tree.contains("drop or flatten: include:t1.spf.test (−4)"), "\(tree)")
        #expect(finding.remedy?.contains("include:t1.spf.test (saves 4)") == true)
    }

    @Test func aSplitRecordIsJoinedWithoutSeparator() async throws {
        let findings = try await spfFindings("long.spf.test")
        let record = try #require(findings.first { $0.id == "spf.record" }?.evidence.first)
        #expect(record.contains("ip4:192.0.2.20 ip4:192.0.2.21"), "the strings are joined exactly, with no added space")
        let ranges = try #require(findings.first { $0.id == "spf.authorised-ranges" })
        #expect(ranges.evidence.count == 40)
    }

    @Test func anIncludeThatTimesOutIsInconclusiveNotMissing() async throws {
        let proxy = try DNSProxy(upstreamPort: try await FixtureNSD.shared.port(), dropping: [try name("dropped.spf.test")])
        try await proxy.start()
        let findings = try await spfFindings(
            "timeout.spf.test", through: Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try proxy.requirePort())),
            timeout: .milliseconds(300))
        await proxy.stop()
        #expect(findings.filter { $0.id == "spf.target-lookup-failed" }.map(\.severity) == [.inconclusive])
        #expect(!findings.contains { $0.id == "spf.include-missing" })
    }

    @Test func checkHostCountsTheSameWayAsTheAudit() async throws {
        let resolver = DNSClient.make(nameservers: [try await FixtureNSD.shared.nameserver()], timeout: .seconds(2), attempts: 2)
        let evaluator = SPFEvaluator(resolver: resolver)
        let outsider = try #require(IPAddress("198.51.100.1"))
        let ten = await evaluator.checkHost(ip: outsider, domain: try name("ten.spf.test"), sender: "a@ten.spf.test", helo: nil)
        #expect(ten.result == .fail)
        #expect(ten.lookupTerms == 10)
        let eleven = await evaluator.checkHost(ip: outsider, domain: try name("eleven.spf.test"), sender: "a@eleven.spf.test", helo: nil)
        #expect(eleven.result == .permerror)
        let inside = await evaluator.checkHost(ip: try #require(IPAddress("127.0.20.2")), domain: try name("ten.spf.test"), sender: "a@ten.spf.test", helo: nil)
        #expect(inside.result == .pass)
    }

    @Test func sendingAddressesAreEvaluatedInTheAudit() async throws {
        let resolver = DNSClient.make(nameservers: [try await FixtureNSD.shared.nameserver()], timeout: .seconds(2), attempts: 2)
        var options = AuditOptions()
        options.sendingAddresses = [try #require(IPAddress("127.0.2.1")), try #require(IPAddress("198.51.100.7"))]
        let report = await Auditor(resolver: resolver, options: options).audit(try name("good.test"))
        let verdicts = report.findings.filter { $0.id.rawValue.hasPrefix("spf.sender") }
        #expect(verdicts.map(\.id.rawValue) == ["spf.sender-pass", "spf.sender-not-authorised"])
        #expect(verdicts.map(\.subject.description) == ["127.0.2.1", "198.51.100.7"])
        #expect(verdicts.last?.severity == .failure)
    }

    // MARK: The binary

    func run(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), arguments, timeout: .seconds(60))
    }

    @Test func spfCommandGivesTheResultInJSON() async throws {
        let resolver = "127.0.0.1:\(try await FixtureNSD.shared.port())"
        let pass = try await run(["spf", "good.test", "--ip", "127.0.2.1", "--resolver", resolver, "--format", "json"])
        #expect(pass.exitCode == 0, "\(pass)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(pass.stdout.utf8)) as? [String: Any])
        #expect(document["result"] as? String == "pass")
        #expect((document["decidingSteps"] as? [String])?.first?.contains("mx matched") == true)

        let fail = try await run(["spf", "good.test", "--ip", "198.51.100.7", "--resolver", resolver])
        #expect(fail.exitCode == 1)
        #expect(fail.stdout.contains("= fail"))
        #expect(fail.stdout.contains("-all matched"))

        let permerror = try await run(["spf", "eleven.spf.test", "--ip", "198.51.100.7", "--resolver", resolver, "--format", "json"])
        #expect(permerror.exitCode == 1)
        #expect(permerror.stdout.contains("\"result\" : \"permerror\""))
    }

    @Test func spfCommandSaysTemperrorWhenDNSFails() async throws {
        let resolver = "127.0.0.1:\(try await FixtureNSD.shared.port())"
        let result = try await run(["spf", "servfail.test", "--ip", "127.0.2.1", "--resolver", resolver, "--format", "json"])
        #expect(result.exitCode == 3, "\(result)")
        #expect(result.stdout.contains("\"result\" : \"temperror\""))
    }

    @Test func theTextReportShowsTheIncludeTreeForAnOverBudgetRecord() async throws {
        let resolver = "127.0.0.1:\(try await FixtureNSD.shared.port())"
        let result = try await run(["--no-probe", "--resolver", resolver, "eleven.spf.test"])
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("spf.too-many-lookups"))
        #expect(result.stdout.contains("include:t1.spf.test costs 4, running total 1"), "\(result.stdout)")
        #expect(result.stdout.contains("include:t2.spf.test costs 4, running total 5"), "\(result.stdout)")
    }
}
