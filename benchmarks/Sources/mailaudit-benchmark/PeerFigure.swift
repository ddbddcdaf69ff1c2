import Foundation
import MailAuditTesting

let checkdmarcName = "checkdmarc 6.0.4"

/// checkdmarc over the same list against the same server, under a capture, through
/// benchmarks/checkdmarc-peer: it installs checkdmarc from PyPI into a throwaway venv and
/// measures the checkdmarc process alone (wall, CPU, peak RSS), not the install.
func checkdmarcRow(list: URL, work: URL) async -> Result<BulkRow, NotMeasured> {
    let script = benchmarksDirectory.appendingPathComponent("checkdmarc-peer")
    let domains = (try? String(contentsOf: list, encoding: .utf8))?.split(separator: "\n").count ?? 0
    // The install, then a tool that checks one domain after another.
    let timeout = Duration.seconds(600 + domains)
    let result: ProcessResult
    let captured: Result<CapturedQueries, NotMeasured>
    do {
        (result, captured) = try await underCapture(
            address: bulkAddress, port: bulkPort, file: work.appendingPathComponent("checkdmarc-\(domains).pcap")
        ) {
            try await runProcess(script, [bulkAddress, list.path], timeout: timeout)
        }
    } catch {
        return .failure(NotMeasured(reason: "benchmarks/checkdmarc-peer did not start: \(error)"))
    }
    if result.timedOut {
        return .failure(NotMeasured(reason: "benchmarks/checkdmarc-peer did not finish within \(timeout)"))
    }
    let stderrLines = result.stderr.split(separator: "\n").map(String.init)
    let figures = keyValues(result.stdout)
    guard result.exitCode == 0, let wall = figures["wall"].flatMap({ Double($0) }), let cpu = figures["cpu"].flatMap({ Double($0) }),
          let peakRSSKiB = figures["maxrss_kib"].flatMap({ Int($0) }), let checked = figures["domains"].flatMap({ Int($0) }) else {
        if result.stderr.contains("pip install checkdmarc==6.0.4 failed") {
            let pipError = stderrLines.last { $0.hasPrefix("ERROR:") } ?? stderrLines.suffix(2).joined(separator: " ")
            return .failure(NotMeasured(reason: "pip could not install checkdmarc 6.0.4 from PyPI: \(pipError)"))
        }
        return .failure(NotMeasured(
            reason: "benchmarks/checkdmarc-peer exited with \(result.exitCode): \(stderrLines.last ?? result.stdout.prefix(200).description)"))
    }
    var notes: [String] = []
    if let status = figures["exit"], status != "0" { notes.append("checkdmarc exited with \(status)") }
    // The script says how much checkdmarc wrote to stderr (warnings, tracebacks), if anything.
    notes += stderrLines.filter { $0.hasPrefix("checkdmarc-peer: checkdmarc wrote") }
    return .success(BulkRow(
        tool: checkdmarcName, domains: checked, wallSeconds: wall, cpuSeconds: cpu, peakRSSKiB: peakRSSKiB, own: nil,
        captured: captured, notes: notes))
}
