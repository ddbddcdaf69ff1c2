import Foundation
import MailAuditTesting

#if canImport(Glibc)
import Glibc
#endif

/// The bulk figure (`--bulk N[,M…]`): N generated domains served by NSD, audited by the real
/// binary with `--domains-file --format jsonl --no-probe`. Domains share providers as real
/// ones do (common SPF includes and MX hosts, DKIM CNAMEs), with a self-hosted tail and about
/// 5% over the SPF lookup limit. Prints wall time, domains/s, the queries the binary reports,
/// CPU per domain and the peak RSS of the mailaudit process.
func bulkFigure(sizes: [Int]) async throws {
    let mailaudit = try builtProductPath("mailaudit")
    print("\nbulk: DNS only (--no-probe), jsonl, the mailaudit binary built beside this benchmark (release under benchmarks/run), against NSD on 127.0.0.1, --concurrency 256")
    print("  domains    wall s   domains/s   queries   unique   repeated   CPU ms/domain   peak RSS MiB")
    for size in sizes {
        let zone = BulkZone.text(domains: size)
        let nsd = NSDServer(zones: [.text("bulk.test", zone)])
        try await nsd.start()
        defer { nsd.stop() }
        let list = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-\(size)-\(getpid()).txt")
        try Data((0..<size).map { "d\($0).bulk.test" }.joined(separator: "\n").utf8).write(to: list)
        defer { try? FileManager.default.removeItem(at: list) }
        var before = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &before)
        let started = ContinuousClock.now
        let result = try await runProcess(mailaudit, [
            "--domains-file", list.path, "--format", "jsonl", "--no-probe", "--resolver", "127.0.0.1:\(try nsd.requirePort())",
            "--concurrency", "256", "--deadline", "30",
        ], timeout: .seconds(3600))
        let wall = ContinuousClock.now - started
        var after = rusage()
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &after)
        guard let summaryLine = result.stdout.split(separator: "\n").last,
              let summary = try JSONSerialization.jsonObject(with: Data(summaryLine.utf8)) as? [String: Any] else {
            fail("no summary line from mailaudit: \(result.stderr.prefix(500))")
        }
        let cpu = seconds(after.ru_utime) + seconds(after.ru_stime) - seconds(before.ru_utime) - seconds(before.ru_stime)
        let wallSeconds = milliseconds(wall) / 1000
        let domains = summary["domains"] as? Int ?? 0
        let dns = summary["dns"] as? [String: Any] ?? [:]
        let figures = (sent: "\(dns["queriesSent"] as? Int ?? 0)", unique: "\(dns["uniqueQuestions"] as? Int ?? 0)",
                       repeated: "\(dns["repeatedQueries"] as? Int ?? 0)")
        print(String(format: "  %7d   %6.1f   %9.0f   %7@   %6@   %8@   %13.2f   %12.0f", domains, wallSeconds, Double(domains) / wallSeconds,
                     "\(figures.sent)" as NSString, "\(figures.unique)" as NSString, "\(figures.repeated)" as NSString,
                     cpu * 1000 / Double(max(1, domains)), Double(after.ru_maxrss) / 1024))
    }
    print("  (peak RSS: the largest mailaudit process so far, from getrusage(RUSAGE_CHILDREN); queries: the binary's own counters)")
}

/// For profiling (`--serve-bulk N`): serves the generated zone from NSD, writes the domain list,
/// prints both and waits until interrupted.
func serveBulk(size: Int) async throws -> Never {
    let nsd = NSDServer(zones: [.text("bulk.test", BulkZone.text(domains: size))])
    try await nsd.start()
    let list = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-\(size).txt")
    try Data((0..<size).map { "d\($0).bulk.test" }.joined(separator: "\n").utf8).write(to: list)
    print("serving \(size) domains on 127.0.0.1:\(try nsd.requirePort()); list in \(list.path); interrupt to stop")
    while true { try await Task.sleep(for: .seconds(3600)) }
}

private func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }

/// The generated zone: providers shared by many domains, a self-hosted tail.
enum BulkZone {
    static func text(domains: Int) -> String {
        var lines = [
            "$ORIGIN bulk.test.", "$TTL 3600", "@ IN SOA ns.bulk.test. h.bulk.test. 1 3600 600 86400 300", "@ IN NS ns.bulk.test.",
            "ns IN A 127.0.0.1",
        ]
        // Five mail providers: MX hosts, an SPF include each (one nests another), DKIM keys.
        for provider in 0..<5 {
            lines += [
                "mx1.p\(provider) IN A 192.0.2.\(10 + provider)", "mx2.p\(provider) IN A 192.0.2.\(20 + provider)",
                "_spf.p\(provider) IN TXT \"v=spf1 ip4:198.51.100.\(provider * 16)/28 include:_spf2.p\(provider).bulk.test -all\"",
                "_spf2.p\(provider) IN TXT \"v=spf1 ip4:203.0.113.\(provider * 16)/28 -all\"",
                "key.p\(provider) IN TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"",
            ]
        }
        for index in 0..<domains {
            let name = "d\(index)"
            if index % 10 == 9 {
                // Self-hosted: its own MX and address.
                lines += ["\(name) IN MX 10 mail.\(name).bulk.test.", "mail.\(name) IN A 192.0.2.\(100 + index % 100)",
                          "\(name) IN TXT \"v=spf1 mx -all\""]
            } else {
                let provider = index % 5
                lines += ["\(name) IN MX 10 mx1.p\(provider).bulk.test.", "\(name) IN MX 20 mx2.p\(provider).bulk.test."]
                if index % 20 == 3 {
                    // About 5% over the lookup limit: eleven includes.
                    let includes = (0..<11).map { "include:_spf\($0 % 2 == 0 ? "" : "2").p\($0 % 5).bulk.test" }
                    lines.append("\(name) IN TXT \"v=spf1 " + includes.prefix(6).joined(separator: " ") + "\" \" " + includes.dropFirst(6).joined(separator: " ") + " -all\"")
                } else {
                    lines.append("\(name) IN TXT \"v=spf1 include:_spf.p\(provider).bulk.test -all\"")
                }
                lines.append("selector1._domainkey.\(name) IN CNAME key.p\(provider).bulk.test.")
            }
            lines.append("_dmarc.\(name) IN TXT \"v=DMARC1; p=\(["none", "quarantine", "reject"][index % 3]); rua=mailto:d@\(name).bulk.test\"")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
