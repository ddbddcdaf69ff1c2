public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A validating recursive resolver (Unbound) on 127.0.0.1 and a free port, for tests that need
/// real DNSSEC verdicts: it sends the queries for each stub zone to a local NSD, validates them
/// against the trust anchors given, and sets AD on secure answers (SERVFAIL on bogus ones).
///
/// ```swift
/// let unbound = UnboundServer(stubZones: ["dane.test": nsdPort], trustAnchors: [dsLine], insecureZones: ["plain.test"])
/// try await unbound.start()
/// defer { unbound.stop() }
/// // ask 127.0.0.1:\(unbound.port!) with the DO bit …
/// ```
public final class UnboundServer: Sendable {
    public let stubZones: [String: UInt16]
    /// DS or DNSKEY records in zone-file form, one per anchor.
    public let trustAnchors: [String]
    /// Zones validated as insecure on purpose (`domain-insecure`).
    public let insecureZones: [String]
    public let executable: URL

    private struct Running {
        var process: Process
        var watchdog: Process?
        var port: UInt16
        var directory: URL
    }

    private let state = RunningState<Running>()

    public init(stubZones: [String: UInt16], trustAnchors: [String], insecureZones: [String] = [],
                executable: URL = URL(fileURLWithPath: "/usr/sbin/unbound")) {
        self.stubZones = stubZones
        self.trustAnchors = trustAnchors
        self.insecureZones = insecureZones
        self.executable = executable
    }

    public var port: UInt16? { state.read(\.port) }

    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("Unbound") }
        return port
    }

    /// What Unbound logged so far (validation failures say why).
    public var log: String {
        guard let directory = state.read(\.directory),
              let data = try? Data(contentsOf: directory.appendingPathComponent("unbound.log")) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts Unbound and returns once it answers.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let port = try Loopback.freePort()
        let directory = LocalServerProcess.temporaryDirectory("unbound")
        let process = Process()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(config(directory: directory, port: port).utf8).write(to: directory.appendingPathComponent("unbound.conf"))
            process.executableURL = executable
            process.arguments = ["-d", "-c", directory.appendingPathComponent("unbound.conf").path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        } catch {
            throw .launchFailed(path: executable.path, reason: "\(error)")
        }
        try await launchWithDefaultSignalMask(process)
        let watchdog = await LocalServerProcess.serverWatchdog("unbound-watchdog", server: process, directory: directory)
        state.store(Running(process: process, watchdog: watchdog, port: port, directory: directory))
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !process.isRunning { break }
            let probeName = stubZones.keys.sorted().first ?? "."
            if (try? await DNSProbe.query(probeName, .soa, port: port, timeout: .milliseconds(300))) != nil { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let log = self.log
        stop()
        throw .launchFailed(path: executable.path, reason: "Unbound did not answer on 127.0.0.1:\(port): \(log.suffix(2000))")
    }

    /// Terminates Unbound and removes its directory. Safe to call more than once.
    public func stop() {
        guard let running = state.take() else { return }
        LocalServerProcess.stopServer(running.process, watchdog: running.watchdog, directory: running.directory)
    }

    private func config(directory: URL, port: UInt16) -> String {
        var lines = [
            "server:",
            "  interface: 127.0.0.1", "  port: \(port)", "  do-daemonize: no", "  username: \"\"", "  chroot: \"\"",
            "  directory: \"\(directory.path)\"", "  pidfile: \"\(directory.path)/unbound.pid\"",
            "  use-syslog: no", "  logfile: \"\(directory.path)/unbound.log\"", "  verbosity: 1", "  val-log-level: 2",
            "  do-not-query-localhost: no", "  access-control: 127.0.0.0/8 allow", "  module-config: \"validator iterator\"",
            "  qname-minimisation: no", "  harden-referral-path: no", "  num-threads: 1",
            // No root hints are reachable: names outside the stub zones fail fast.
            "  root-hints: \"\(directory.path)/no-root.hints\"",
        ]
        // Unbound answers NXDOMAIN itself for special-use names such as test. (RFC 6761) unless told not to.
        lines += ["  local-zone: \"test.\" nodefault"] + stubZones.keys.sorted().map { "  local-zone: \"\($0).\" transparent" }
        lines += trustAnchors.map { "  trust-anchor: \"\($0.trimmingCharacters(in: .whitespacesAndNewlines))\"" }
        lines += insecureZones.map { "  domain-insecure: \"\($0)\"" }
        for (zone, nsdPort) in stubZones.sorted(by: { $0.key < $1.key }) {
            lines += ["stub-zone:", "  name: \"\(zone)\"", "  stub-addr: 127.0.0.1@\(nsdPort)"]
        }
        try? Data("".utf8).write(to: directory.appendingPathComponent("no-root.hints"))
        return lines.joined(separator: "\n") + "\n"
    }
}
