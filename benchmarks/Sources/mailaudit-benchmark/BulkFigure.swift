import Foundation
import MailAuditTesting

#if canImport(Glibc)
import Glibc
#endif

/// Where the bulk zone is served: port 53 on an address of its own, because checkdmarc's -n
/// takes an address but no port.
let bulkAddress = "127.0.0.153"
let bulkPort: UInt16 = 53

/// The bulk figure (`--bulk N[,M…]`): N generated domains served by NSD, audited by the real
/// binary with `--domains-file --format jsonl --no-probe`. Domains share providers as real
/// ones do (common SPF includes and MX hosts, DKIM CNAMEs), with a self-hosted tail and about
/// 5% over the SPF lookup limit. For each size prints wall time, domains/s, the queries a packet
/// capture saw beside the ones the binary reports, CPU per domain and the peak RSS of the
/// mailaudit process; at `peerSize` also checkdmarc 6.0.4 over the same list on the same server.
func bulkFigure(sizes: [Int], peerSize: Int) async throws {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-bulk-\(getpid())")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    print("\nbulk: DNS only (--no-probe), jsonl, the mailaudit binary built beside this benchmark (release under benchmarks/run), against NSD on \(bulkAddress):\(bulkPort), --concurrency 256")
    BulkRow.printHeader()
    var mailauditRows: [BulkRow] = []
    for size in sizes {
        let nsd = NSDServer(zones: BulkZone.zones(domains: size), address: bulkAddress, port: bulkPort)
        try await nsd.start()
        defer { nsd.stop() }
        let list = work.appendingPathComponent("domains-\(size).txt")
        try Data((0..<size).map { "d\($0).bulk.test" }.joined(separator: "\n").utf8).write(to: list)
        let mailaudit = try await mailauditRow(list: list, size: size, work: work)
        mailaudit.print()
        mailauditRows.append(mailaudit)
        guard size == peerSize else { continue }
        switch await checkdmarcRow(list: list, work: work) {
        case .success(let checkdmarc):
            checkdmarc.print()
            print("  mailaudit / checkdmarc domains/s at \(size) domains: "
                + String(format: "%.1f", mailaudit.domainsPerSecond / checkdmarc.domainsPerSecond))
        case .failure(let missing):
            print(BulkRow.line([checkdmarcName, "not measured: \(missing.reason)"]))
        }
    }
    if let first = mailauditRows.first, let last = mailauditRows.last, mailauditRows.count > 1 {
        print("  mailaudit peak RSS at \(last.domains) / at \(first.domains) domains: "
            + String(format: "%.2f", Double(last.peakRSSKiB) / Double(max(1, first.peakRSSKiB))))
    }
    print("  (queries: captured by tcpdump on lo, dst \(bulkAddress) port \(bulkPort), counted by benchmarks/count-queries over UDP and TCP;")
    print("   own: mailaudit's summary line, dns.queriesSent, dns.uniqueQuestions, dns.repeatedQueries;")
    print("   CPU and peak RSS: of the tool's process alone, from wait4; checkdmarc: benchmarks/checkdmarc-peer, installed from PyPI into a throwaway venv)")
}

/// The mailaudit binary over `list`, under a capture.
private func mailauditRow(list: URL, size: Int, work: URL) async throws -> BulkRow {
    let mailaudit = try builtProductPath("mailaudit")
    let stdout = work.appendingPathComponent("mailaudit-\(size).jsonl")
    let stderr = work.appendingPathComponent("mailaudit-\(size).stderr")
    let ((exit, wall), captured) = try await underCapture(
        address: bulkAddress, port: bulkPort, file: work.appendingPathComponent("mailaudit-\(size).pcap")
    ) {
        let started = ContinuousClock.now
        let child = try ChildProcess(mailaudit.path, [
            "--domains-file", list.path, "--format", "jsonl", "--no-probe", "--resolver", "\(bulkAddress):\(bulkPort)",
            "--concurrency", "256", "--deadline", "30",
        ], stdout: stdout, stderr: stderr)
        let exit = await child.wait(timeout: .seconds(3600))
        return (exit, ContinuousClock.now - started)
    }
    let output = String(decoding: (try? Data(contentsOf: stdout)) ?? Data(), as: UTF8.self)
    guard !exit.timedOut, let summaryLine = output.split(separator: "\n").last,
          let summary = try JSONSerialization.jsonObject(with: Data(summaryLine.utf8)) as? [String: Any] else {
        let said = (try? String(contentsOf: stderr, encoding: .utf8)) ?? ""
        fail("no summary line from mailaudit (status \(exit.status)\(exit.timedOut ? ", timed out" : "")): \(said.prefix(500))")
    }
    let dns = summary["dns"] as? [String: Any] ?? [:]
    return BulkRow(
        tool: "mailaudit", domains: summary["domains"] as? Int ?? 0, wallSeconds: milliseconds(wall) / 1000,
        cpuSeconds: exit.cpuSeconds, peakRSSKiB: exit.peakRSSKiB,
        own: (dns["queriesSent"] as? Int ?? 0, dns["uniqueQuestions"] as? Int ?? 0, dns["repeatedQueries"] as? Int ?? 0),
        captured: captured)
}

/// One tool's line in the bulk table, with notes under it for what is odd or missing.
struct BulkRow {
    var tool: String
    var domains: Int
    var wallSeconds: Double
    var cpuSeconds: Double
    var peakRSSKiB: Int
    /// mailaudit's own counters (its summary line); nil for checkdmarc, which has none.
    var own: (sent: Int, unique: Int, repeated: Int)?
    var captured: Result<CapturedQueries, NotMeasured>
    var notes: [String] = []

    var domainsPerSecond: Double { Double(domains) / wallSeconds }

    private static let headings = [
        "tool", "domains", "wall s", "domains/s", "queries", "unique", "own sent", "own unique", "own repeated",
        "CPU ms/domain", "peak RSS MiB",
    ]

    static func printHeader() {
        Swift.print(line(headings))
    }

    func print() {
        let capturedCounts = try? captured.get()
        Swift.print(Self.line([
            tool, "\(domains)", String(format: "%.1f", wallSeconds), String(format: "%.0f", domainsPerSecond),
            capturedCounts.map { "\($0.queries)" } ?? "-", capturedCounts.map { "\($0.unique)" } ?? "-",
            own.map { "\($0.sent)" } ?? "-", own.map { "\($0.unique)" } ?? "-", own.map { "\($0.repeated)" } ?? "-",
            String(format: "%.2f", cpuSeconds * 1000 / Double(max(1, domains))), String(format: "%.0f", Double(peakRSSKiB) / 1024),
        ]))
        var notes = notes
        switch captured {
        case .failure(let missing): notes.append("captured queries not measured: \(missing.reason)")
        case .success(let counts):
            if let dropped = counts.tcpdump.droppedByKernel, dropped > 0 {
                notes.append("tcpdump: \(dropped) packets dropped by the kernel")
            }
            if let unwritten = counts.tcpdump.unwritten { notes.append("tcpdump: \(unwritten) packets matched but not written") }
            if counts.malformed > 0 { notes.append("count-queries: \(counts.malformed) malformed packets or streams skipped") }
        }
        for note in notes { Swift.print("      \(tool): \(note)") }
    }

    /// The cells under the headings: the tool's name left-aligned, figures right-aligned.
    static func line(_ cells: [String]) -> String {
        let tool = cells[0].padding(toLength: max(18, cells[0].count), withPad: " ", startingAt: 0)
        let figures = zip(cells.dropFirst(), headings.dropFirst()).map { cell, heading in
            String(repeating: " ", count: max(0, heading.count - cell.count)) + cell
        }
        return "  " + ([tool] + figures).joined(separator: "   ")
    }
}

/// For profiling (`--serve-bulk N`): serves the generated zone from NSD, writes the domain list,
/// prints both and waits until interrupted.
func serveBulk(size: Int) async throws -> Never {
    let nsd = NSDServer(zones: BulkZone.zones(domains: size))
    try await nsd.start()
    let list = FileManager.default.temporaryDirectory.appendingPathComponent("bulk-\(size).txt")
    try Data((0..<size).map { "d\($0).bulk.test" }.joined(separator: "\n").utf8).write(to: list)
    print("serving \(size) domains on 127.0.0.1:\(try nsd.requirePort()); list in \(list.path); interrupt to stop")
    while true { try await Task.sleep(for: .seconds(3600)) }
}

/// The generated zone: providers shared by many domains, a self-hosted tail.
enum BulkZone {
    /// The domains' zone, with its parent `test` (so the DMARC walk's last step gets NXDOMAIN,
    /// not REFUSED) and the reverse zone of every MX address (each with a forward-confirming PTR).
    static func zones(domains: Int) -> [NSDServer.Zone] {
        let soa = { (origin: String) in ["$ORIGIN \(origin).", "$TTL 3600", "@ IN SOA ns.bulk.test. h.bulk.test. 1 3600 600 86400 300", "@ IN NS ns.bulk.test."] }
        var reverse = soa("2.0.192.in-addr.arpa")
        for provider in 0..<5 {
            reverse += ["\(10 + provider) IN PTR mx1.p\(provider).bulk.test.", "\(20 + provider) IN PTR mx2.p\(provider).bulk.test."]
        }
        // Self-hosted domains (every tenth) share ten addresses; each PTR names the first host on it.
        for index in stride(from: 9, to: min(100, domains), by: 10) {
            reverse.append("\(100 + index) IN PTR mail.d\(index).bulk.test.")
        }
        return [
            .text("bulk.test", text(domains: domains)),
            .text("test", soa("test").joined(separator: "\n") + "\n"),
            .text("2.0.192.in-addr.arpa", reverse.joined(separator: "\n") + "\n"),
        ]
    }

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
