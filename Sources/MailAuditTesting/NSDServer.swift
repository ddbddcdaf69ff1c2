public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private NSD instance on 127.0.0.1 (or another loopback address) serving fixture zones, for
/// integration tests and benchmarks.
///
/// ```swift
/// let nsd = try NSDServer(zoneDirectory: FixtureZones.directory(bundle: .module))
/// try await nsd.start()
/// defer { nsd.stop() }
/// // drill @127.0.0.1 -p \(nsd.port) mx1.good.test A
/// ```
///
/// It runs `/usr/sbin/nsd -d` as the current user (root in CI) with every path in its own
/// temporary directory, on a free port (or the `address` and `port` given to `init`, for clients
/// that can only ask port 53), with rate limiting off. `start()` returns once NSD
/// answers a query. A zone whose file is missing or broken is still configured: NSD answers
/// SERVFAIL for every name in it. `stop()` (or `deinit`) terminates NSD, and a small shell
/// watchdog kills it if the test process dies without stopping it.
///
/// Call `start()` and `stop()` from one task at a time. `stop()` blocks until NSD has exited
/// (about 10 ms; at most two seconds before SIGKILL).
public final class NSDServer: Sendable {
    /// One zone to serve.
    public struct Zone: Hashable, Sendable {
        public enum Source: Hashable, Sendable {
            /// A zone file on disk (read by NSD, not copied).
            case file(URL)
            /// Zone-file text, written to the server's temporary directory.
            case text(String)
            /// No zone file at all: NSD answers SERVFAIL for names in the zone.
            case missingFile
        }

        /// The zone's apex, for example `good.test` or `127.in-addr.arpa`.
        public var name: String
        public var source: Source

        public init(name: String, source: Source) {
            self.name = name.hasSuffix(".") && name != "." ? String(name.dropLast()) : name
            self.source = source
        }

        public static func file(_ name: String, _ url: URL) -> Zone { Zone(name: name, source: .file(url)) }
        public static func text(_ name: String, _ text: String) -> Zone { Zone(name: name, source: .text(text)) }
        /// A configured zone NSD cannot load, so it answers SERVFAIL for it.
        public static func broken(_ name: String) -> Zone { Zone(name: name, source: .missingFile) }
    }

    public let zones: [Zone]
    /// The NSD binary.
    public let executable: URL
    /// How long `start()` waits for the first answer before giving up.
    public let startTimeout: Duration
    /// The loopback address NSD listens on, `127.0.0.1` unless given.
    public let address: String
    /// The port asked for, or nil for a free one chosen by `start()`.
    public let fixedPort: UInt16?

    private let state = RunningState<Running>()

    private struct Running {
        var process: Process
        var watchdog: Process?
        var port: UInt16
        var directory: URL
        var stderrURL: URL
    }

    /// - Parameters:
    ///   - address: a loopback address (127.0.0.0/8 or ::1) to listen on; `start()` throws
    ///     ``HarnessError/notLoopback(_:)`` for any other.
    ///   - port: a fixed port, for example 53 on an address of its own such as `127.0.0.153`
    ///     (binding it needs root); nil picks a free one.
    public init(
        zones: [Zone], executable: URL = URL(fileURLWithPath: "/usr/sbin/nsd"), startTimeout: Duration = .seconds(10),
        address: String = Loopback.host, port: UInt16? = nil
    ) {
        self.zones = zones
        self.executable = executable
        self.startTimeout = startTimeout
        self.address = address
        self.fixedPort = port
    }

    /// Serves every `*.zone` file in `zoneDirectory`; the zone name is the file name without
    /// `.zone` (`good.test.zone` → `good.test`, `127.in-addr.arpa.zone` → `127.in-addr.arpa`).
    ///
    /// - Throws: ``HarnessError/zoneDirectory(_:)`` when it cannot be read or has no zone file.
    public convenience init(zoneDirectory: URL, executable: URL = URL(fileURLWithPath: "/usr/sbin/nsd")) throws(HarnessError) {
        self.init(zones: try FixtureZones.zones(in: zoneDirectory), executable: executable)
    }

    deinit { stop() }

    /// The port NSD listens on (UDP and TCP), or nil when it is not running.
    public var port: UInt16? { state.read(\.port) }

    /// What NSD wrote to stderr so far (its log, with zone load errors).
    public var log: String {
        guard let url = state.read(\.stderrURL), let data = try? Data(contentsOf: url) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The running server's port, for call sites that need one.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("NSD") }
        return port
    }

    /// Starts NSD and returns once it answers a query over UDP.
    ///
    /// Retries on a new port when the chosen one was taken in the meantime (not with a fixed port).
    /// - Throws: ``HarnessError/nsdDidNotStart(reason:log:)`` with NSD's stderr when it exits
    ///   or stays silent past `startTimeout`.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        var lastError = HarnessError.nsdDidNotStart(reason: "not tried", log: "")
        for _ in 0..<3 {
            let running = try await launch()
            state.store(running)
            do {
                try await waitUntilAnswering(running)
                return
            } catch {
                lastError = error
                stop()
                guard fixedPort == nil, case .nsdDidNotStart(_, let log) = error,
                      log.contains("bind") || log.contains("in use") else { throw error }
            }
        }
        throw lastError
    }

    /// Terminates NSD (SIGTERM, then SIGKILL after two seconds) and removes its directory.
    /// Safe to call more than once.
    public func stop() {
        guard let running = state.take() else { return }
        LocalServerProcess.stopServer(running.process, watchdog: running.watchdog, directory: running.directory)
    }

    private func launch() async throws(HarnessError) -> Running {
        let fileManager = FileManager.default
        _ = try Loopback.checkedAddress(address)
        let port = if let fixedPort { fixedPort } else { try Loopback.freePort() }
        let directory = LocalServerProcess.temporaryDirectory("nsd")
        let configURL = directory.appendingPathComponent("nsd.conf")
        let stdoutURL = directory.appendingPathComponent("stdout.log")
        let stderrURL = directory.appendingPathComponent("stderr.log")
        let process = Process()
        do {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
            var zoneLines: [String] = []
            for zone in zones {
                let path: String
                switch zone.source {
                case .file(let url): path = url.path
                case .text(let text):
                    let url = directory.appendingPathComponent("\(zone.name).zone")
                    try Data(text.utf8).write(to: url)
                    path = url.path
                case .missingFile: path = directory.appendingPathComponent("missing-\(zone.name).zone").path
                }
                zoneLines += ["zone:", "  name: \(Self.quoted(zone.name))", "  zonefile: \(Self.quoted(path))"]
            }
            let config = Self.serverConfig(directory: directory, address: address, port: port) + zoneLines.joined(separator: "\n") + "\n"
            try Data(config.utf8).write(to: configURL)
            _ = fileManager.createFile(atPath: stdoutURL.path, contents: nil)
            _ = fileManager.createFile(atPath: stderrURL.path, contents: nil)
            process.executableURL = executable
            process.arguments = ["-d", "-c", configURL.path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
        } catch {
            try? fileManager.removeItem(at: directory)
            throw .launchFailed(path: executable.path, reason: "\(error)")
        }
        do {
            try await launchWithDefaultSignalMask(process)
        } catch {
            try? fileManager.removeItem(at: directory)
            throw error
        }
        // NSD has its own copies; ours would leak two descriptors per start.
        try? (process.standardOutput as? FileHandle)?.close()
        try? (process.standardError as? FileHandle)?.close()
        return Running(
            process: process, watchdog: await LocalServerProcess.serverWatchdog("nsd-watchdog", server: process, directory: directory), port: port,
            directory: directory, stderrURL: stderrURL)
    }

    /// Polls with an SOA query until any reply comes, NSD exits, or the timeout passes.
    private func waitUntilAnswering(_ running: Running) async throws(HarnessError) {
        let probeName = zones.first?.name ?? "."
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if !running.process.isRunning {
                throw .nsdDidNotStart(reason: "nsd exited with status \(running.process.terminationStatus)", log: log)
            }
            if try await DNSProbe.query(probeName, .soa, host: address, port: running.port, timeout: .milliseconds(200)) != nil {
                return
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        throw .nsdDidNotStart(reason: "no answer on \(address) port \(running.port) within \(startTimeout)", log: log)
    }

    private static func serverConfig(directory: URL, address: String, port: UInt16) -> String {
        let path = { (name: String) in quoted(directory.appendingPathComponent(name).path) }
        let ipv6 = address.contains(":")
        return """
            server:
              ip-address: \(address)@\(port)
              do-ip4: \(ipv6 ? "no" : "yes")
              do-ip6: \(ipv6 ? "yes" : "no")
              username: ""
              chroot: ""
              zonesdir: \(quoted(directory.path))
              pidfile: \(path("nsd.pid"))
              xfrdfile: \(path("xfrd.state"))
              zonelistfile: \(path("zone.list"))
              xfrdir: \(quoted(directory.path))
              database: ""
              verbosity: 0
              server-count: 1
              tcp-count: 256
              hide-version: yes
              round-robin: no
              rrl-ratelimit: 0
              rrl-whitelist-ratelimit: 0
              zonefiles-check: no
            remote-control:
              control-enable: no

            """
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
