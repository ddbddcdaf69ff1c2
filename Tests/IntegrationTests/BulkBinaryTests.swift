import Foundation
import MailAuditTesting
import Testing

/// `--domains-file`, `--format jsonl|csv`, `--checks` and `--shard` through the built binary,
/// against the fixture zones on a real NSD.
@Suite(.serialized, .tags(.nsd))
struct BulkBinaryTests {
    func run(_ arguments: [String], stdin: Data? = nil) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), arguments, standardInput: stdin, timeout: .seconds(120))
    }

    func resolver() async throws -> String { "127.0.0.1:\(try await FixtureNSD.shared.port())" }

    func listFile(_ lines: [String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("domains-\(UUID().uuidString.prefix(8)).txt")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return url
    }

    static let domains = ["good.test", "nullmx.test", "implicit.test", "nomail.test", "spf.test", "nonexistent.test"]

    @Test func jsonlHasOneLineADomainThenASummaryAndReportsBadLines() async throws {
        let file = try listFile(["# a list", "good.test", "", "bad name.test", "nullmx.test  # trailing comment", "-x-.test", "nonexistent.test"])
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await run(["--resolver", try await resolver(), "--no-probe", "--allow-private-addresses", "--format", "jsonl",
                                    "--checks", "mx,spf,dmarc", "--domains-file", file.path])
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "three domains and the summary: \(result.stdout)")
        let objects = try lines.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(objects.dropLast().allSatisfy { $0["type"] as? String == "domain" && $0["findings"] is [Any] })
        #expect(Set(objects.dropLast().compactMap { $0["domain"] as? String }) == ["good.test", "nullmx.test", "nonexistent.test"])
        let ids = objects.dropLast().flatMap { ($0["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }
        #expect(!ids.contains { $0.hasPrefix("dkim.") || $0.hasPrefix("rdns.") }, "--checks leaves out dkim and rdns")
        let summary = try #require(objects.last)
        #expect(summary["type"] as? String == "summary")
        #expect(summary["domains"] as? Int == 3)
        #expect(summary["badLineCount"] as? Int == 2)
        #expect((summary["badLines"] as? [[String: Any]])?.compactMap { $0["line"] as? Int } == [4, 6])
        #expect(result.stderr.contains(":4: \"bad name.test\""), "\(result.stderr)")
        #expect(result.exitCode == 1, "nonexistent.test is a failure")
    }

    @Test func csvHasAHeaderAndOneRowADomain() async throws {
        let result = try await run(["--resolver", try await resolver(), "--no-probe", "--allow-private-addresses", "--format", "csv",
                                    "--domains-file", "-"], stdin: Data(Self.domains.joined(separator: "\n").utf8))
        let rows = result.stdout.split(separator: "\n").map(String.init)
        #expect(rows.first == "domain,pass,info,warning,failure,inconclusive,worst_severity,worst_id,worst_subject,worst_message")
        #expect(rows.count == Self.domains.count + 1, "\(result.stdout)")
        let missing = try #require(rows.first { $0.hasPrefix("nonexistent.test,") })
        #expect(missing.contains(",failure,mx.domain-nxdomain,"))
    }

    @Test func shardsTogetherCoverEveryDomainOnce() async throws {
        let file = try listFile(Self.domains)
        defer { try? FileManager.default.removeItem(at: file) }
        var seen: [String] = []
        for index in 0..<3 {
            let result = try await run(["--resolver", try await resolver(), "--no-probe", "--format", "csv", "--checks", "mx",
                                        "--domains-file", file.path, "--shard", "\(index)/3"])
            seen += result.stdout.split(separator: "\n").dropFirst().map { String($0.prefix { $0 != "," }) }
        }
        #expect(seen.sorted() == Self.domains.sorted())
    }

    @Test(arguments: [
        (["--shard", "3/3", "good.test"], "--shard"),
        (["--shard", "x", "good.test"], "--shard"),
        (["--checks", "mx,bogus", "good.test"], "bogus"),
        (["--concurrency", "0", "good.test"], "--concurrency"),
        (["--domains-file", "/nonexistent/list"], "cannot be read"),
    ])
    func badBulkFlagsExitTwo(arguments: [String], fragment: String) async throws {
        let result = try await run(arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains(fragment), "\(result.stderr)")
    }
}
