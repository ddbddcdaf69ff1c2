import Foundation
import MailAuditTesting

#if canImport(Glibc)
import Glibc
#endif

/// Why a figure is missing, printed in its place.
struct NotMeasured: Error {
    var reason: String
}

/// The DNS queries a packet capture saw, as counted by benchmarks/count-queries.
struct CapturedQueries {
    var queries: Int
    var unique: Int
    var malformed: Int
    var tcpdump = TcpdumpCounts()
}

/// What tcpdump says when it stops; nil where it did not say.
struct TcpdumpCounts {
    var captured: Int?
    var receivedByFilter: Int?
    var droppedByKernel: Int?

    /// Set when tcpdump wrote fewer packets than its filter matched. On lo the filter matches
    /// each packet twice, as sent and as received, and tcpdump keeps one of the two.
    var unwritten: Int? {
        guard let captured, let receivedByFilter, captured * 2 < receivedByFilter else { return nil }
        return receivedByFilter / 2 - captured
    }
}

/// The benchmarks/ folder of the source tree this benchmark was built from.
let benchmarksDirectory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs `body` while tcpdump captures what is sent to `address` port `port` on lo, then counts
/// the DNS queries in the capture. When there can be no capture (no tcpdump, or it did not
/// start) `body` still runs and the count says why it is missing.
func underCapture<T>(
    address: String, port: UInt16, file: URL, _ body: () async throws -> T
) async throws -> (T, Result<CapturedQueries, NotMeasured>) {
    let capture: PacketCapture
    do {
        capture = try await PacketCapture.start(address: address, port: port, file: file)
    } catch let error as NotMeasured {
        return (try await body(), .failure(error))
    }
    let value: T
    do {
        value = try await body()
    } catch {
        _ = await capture.stop()
        throw error
    }
    let tcpdump: TcpdumpCounts
    switch await capture.stop() {
    case .failure(let error): return (value, .failure(error))
    case .success(let counts): tcpdump = counts
    }
    return (value, await countQueries(in: file, port: port).map { counted in
        var counted = counted
        counted.tcpdump = tcpdump
        return counted
    })
}

/// `tcpdump -i lo -n -w FILE 'dst host ADDRESS and dst port PORT'`, from the moment it listens
/// until `stop()`.
final class PacketCapture {
    private let tcpdump: ChildProcess
    private let stderr: URL

    private init(tcpdump: ChildProcess, stderr: URL) {
        self.tcpdump = tcpdump
        self.stderr = stderr
    }

    /// Starts tcpdump and returns once it says it is listening, so no early packet is missed.
    static func start(address: String, port: UInt16, file: URL) async throws -> PacketCapture {
        guard let path = executablePath("tcpdump") else {
            throw NotMeasured(reason: "tcpdump not found (scripts/setup installs it)")
        }
        let stderr = file.appendingPathExtension("stderr")
        let tcpdump: ChildProcess
        do {
            tcpdump = try ChildProcess(
                path, ["-i", "lo", "-n", "-w", file.path, "dst host \(address) and dst port \(port)"],
                stdout: URL(fileURLWithPath: "/dev/null"), stderr: stderr)
        } catch {
            throw NotMeasured(reason: "\(error)")
        }
        let capture = PacketCapture(tcpdump: tcpdump, stderr: stderr)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if capture.log.contains("listening on") { return capture }
            if tcpdump.hasExited { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let exit = await tcpdump.wait(timeout: .seconds(5))
        let said = capture.log.split(separator: "\n").last.map(String.init) ?? "nothing"
        throw NotMeasured(reason: "tcpdump did not start (exit \(exit.status)): \(said)")
    }

    /// Stops tcpdump with SIGINT and waits until it has exited, so the file is complete.
    func stop() async -> Result<TcpdumpCounts, NotMeasured> {
        // tcpdump reads the kernel's ring in blocks, handed over when full or after 1 s, and
        // SIGINT ends it without reading the last one: give it time to read everything first.
        try? await Task.sleep(for: .seconds(2))
        tcpdump.send(SIGINT)
        let exit = await tcpdump.wait(timeout: .seconds(10))
        guard !exit.timedOut, !exit.signalled, exit.status == 0 else {
            return .failure(NotMeasured(reason: "tcpdump did not stop cleanly (status \(exit.status)): \(log.suffix(300))"))
        }
        let lines = log.split(separator: "\n")
        func count(_ suffix: String) -> Int? {
            lines.first { $0.hasSuffix(suffix) }.flatMap { Int($0.split(separator: " ")[0]) }
        }
        return .success(TcpdumpCounts(
            captured: count("packets captured"), receivedByFilter: count("packets received by filter"),
            droppedByKernel: count("packets dropped by kernel")))
    }

    private var log: String {
        (try? Data(contentsOf: stderr)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}

/// `benchmarks/count-queries FILE PORT`: the DNS queries sent to the port, over UDP and TCP.
func countQueries(in file: URL, port: UInt16) async -> Result<CapturedQueries, NotMeasured> {
    let script = benchmarksDirectory.appendingPathComponent("count-queries")
    let result: ProcessResult
    do {
        result = try await runProcess(script, [file.path, String(port)], timeout: .seconds(600))
    } catch {
        return .failure(NotMeasured(reason: "benchmarks/count-queries: \(error)"))
    }
    guard result.exitCode == 0, !result.timedOut else {
        return .failure(NotMeasured(reason: "benchmarks/count-queries failed, \(result.description.suffix(300))"))
    }
    let counts = keyValues(result.stdout)
    guard let queries = counts["queries"].flatMap({ Int($0) }), let unique = counts["unique"].flatMap({ Int($0) }) else {
        return .failure(NotMeasured(reason: "benchmarks/count-queries printed \(result.stdout.prefix(200))"))
    }
    return .success(CapturedQueries(
        queries: queries, unique: unique, malformed: counts["malformed"].flatMap { Int($0) } ?? 0))
}

/// The `key=value` pairs of the last line of `text`, as the helper scripts print them.
func keyValues(_ text: String) -> [String: String] {
    let line = text.split(separator: "\n").last ?? ""
    var pairs: [String: String] = [:]
    for field in line.split(separator: " ") {
        let parts = field.split(separator: "=", maxSplits: 1)
        if parts.count == 2 { pairs[String(parts[0])] = String(parts[1]) }
    }
    return pairs
}
