public import Foundation
public import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An address whose TCP ports silently drop every SYN, as a firewall does: connecting to
/// them times out instead of being refused. For the `relay` tests of "filtered" ports.
///
/// ```swift
/// let filtered = FilteredPort(droppedPorts: [587, 465, 25])
/// try await filtered.start()
/// defer { Task { await filtered.stop() } }
/// let target = try filtered.requireAddress()          // 10.254.N.2
/// // connect to target:587 → times out; target:2526 → refused (nothing listens)
/// let open = ScriptedSMTPListener(.accepting, behind: filtered, port: 2525)
/// try await open.start()                               // target:2525 → 220 scripted.test ESMTP
/// ```
///
/// Loopback cannot drop a SYN without touching the host's firewall, so the target lives in
/// a network namespace of its own, made for the test and deleted after it:
/// `ip netns add mailaudit-PID-N`, a veth pair with 10.254.N.1/30 on the host's side and
/// 10.254.N.2/30 (the target) inside, `lo` up, and in the namespace only
/// `iptables -A INPUT -p tcp --dport PORT -j DROP` for each dropped port (every TCP port when
/// `droppedPorts` is nil). The host's own firewall and routes are not changed beyond that /30.
/// When `iptables` (nf_tables backend, as on Debian 12) fails, `iptables-legacy` and then
/// `nft` are tried; ``firewall`` tells which one worked.
///
/// It needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and iproute2; ``isSupported`` says
/// whether this process can. A shell watchdog deletes the veth pair and the namespace when
/// `stop()` or `deinit` asks, or when the test process dies first. Stop listeners started
/// ``ScriptedSMTPListener/init(_:behind:port:group:)`` before: their sockets keep the
/// namespace (not the veth pair) alive.
public final class FilteredPort: Sendable {
    /// The TCP ports whose SYNs are dropped; nil for all.
    public let droppedPorts: [UInt16]?
    /// The `ip` command.
    public let ip: URL
    private let state = RunningState<Running>()

    private struct Running {
        var namespace: String
        var hostLink: String
        var address: IPAddress
        var firewall: String
        var marker: URL
        var watchdog: Process
    }

    private static let counter = Locked(0)

    /// A target whose `droppedPorts` (nil: every TCP port) drop SYNs; the others refuse.
    public init(droppedPorts: [UInt16]? = [587, 465, 25, 2525], ip: URL = URL(fileURLWithPath: "/usr/sbin/ip")) {
        self.droppedPorts = droppedPorts
        self.ip = ip
    }

    deinit {
        // The watchdog sees the marker gone and deletes the link and the namespace.
        if let marker = state.read(\.marker) { try? FileManager.default.removeItem(at: marker) }
    }

    /// True when this process is root and `ip` exists: what `start()` needs.
    public static var isSupported: Bool {
        geteuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")
    }

    /// The target address inside the namespace, for example 10.254.7.2, or nil when not running.
    public var address: IPAddress? { state.read(\.address) }

    /// The running target's address.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requireAddress() throws(HarnessError) -> IPAddress {
        guard let address else { throw .notRunning("filtered port") }
        return address
    }

    /// The network namespace's name, for example "mailaudit-4242-7", or nil when not running.
    public var namespace: String? { state.read(\.namespace) }

    /// The command whose rules drop the SYNs: "iptables", "iptables-legacy" or "nft".
    public var firewall: String? { state.read(\.firewall) }

    /// Makes the namespace, the veth pair and the firewall rules.
    ///
    /// - Throws: ``HarnessError/launchFailed(path:reason:)`` with the failing command's output
    ///   (for example when not root, or when no firewall command works in a namespace);
    ///   everything made so far is deleted first.
    public func start() async throws(HarnessError) {
        guard address == nil else { return }
        let pid = Int(getpid())
        let subnet = try await freeSubnet()
        let namespace = "mailaudit-\(pid)-\(subnet)"
        let hostLink = "ma\(pid)v\(subnet)"
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-netns-\(namespace)")
        guard FileManager.default.createFile(atPath: marker.path, contents: nil) else {
            throw .launchFailed(path: ip.path, reason: "cannot create \(marker.path)")
        }
        // The watchdog starts first, so that a test process killed half-way leaves nothing behind.
        guard let watchdog = await Self.watchdog(ip: ip, marker: marker, namespace: namespace, hostLink: hostLink) else {
            try? FileManager.default.removeItem(at: marker)
            throw .launchFailed(path: "/bin/sh", reason: "cannot start the namespace watchdog")
        }
        let running = Running(
            namespace: namespace, hostLink: hostLink, address: .v4([10, 254, UInt8(subnet), 2]), firewall: "", marker: marker,
            watchdog: watchdog)
        do {
            try await run(ip, ["netns", "add", namespace])
            try await run(ip, ["link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", namespace])
            try await run(ip, ["addr", "add", "10.254.\(subnet).1/30", "dev", hostLink])
            try await run(ip, ["link", "set", hostLink, "up"])
            try await run(ip, ["-n", namespace, "addr", "add", "10.254.\(subnet).2/30", "dev", "eth0"])
            try await run(ip, ["-n", namespace, "link", "set", "eth0", "up"])
            try await run(ip, ["-n", namespace, "link", "set", "lo", "up"])
            var started = running
            started.firewall = try await dropSYNs(in: namespace)
            state.store(started)
        } catch {
            await Self.cleanUp(running)
            throw error
        }
    }

    /// Deletes the veth pair and the namespace (through the watchdog) and waits until they are gone.
    public func stop() async {
        guard let running = state.take() else { return }
        await Self.cleanUp(running)
    }

    /// A TCP socket bound to the target address at `port` inside the namespace, listening:
    /// made on a thread of its own that enters the namespace (setns(2)) and leaves it again.
    func makeListeningSocket(port: UInt16) async throws(HarnessError) -> Int32 {
        guard let namespace, let address else { throw .notRunning("filtered port") }
        let result: Result<Int32, HarnessError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Self.listeningSocket(namespace: namespace, address: address, port: port))
            }
            thread.start()
        }
        return try result.get()
    }

    /// Runs on its own thread: enters the namespace, makes the socket, goes back.
    private static func listeningSocket(namespace: String, address: IPAddress, port: UInt16) -> Result<Int32, HarnessError> {
        // setns(2) is not in Swift's Glibc module (it needs _GNU_SOURCE); glibc has it.
        typealias SetNS = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "setns") else { return .failure(.socket("setns(2) not found")) }
        let setns = unsafeBitCast(symbol, to: SetNS.self)
        let newNet: Int32 = 0x4000_0000  // CLONE_NEWNET
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let target = open("/run/netns/\(namespace)", O_RDONLY | O_CLOEXEC)
        defer {
            if original >= 0 { close(original) }
            if target >= 0 { close(target) }
        }
        guard original >= 0, target >= 0 else { return .failure(.socket("open namespace \(namespace): \(errnoText())")) }
        guard setns(target, newNet) == 0 else { return .failure(.socket("setns \(namespace): \(errnoText())")) }
        defer { _ = setns(original, newNet) }
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failure(.socket("socket(): \(errnoText())")) }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard address.withSocketAddress(port: port, { bind(descriptor, $0, $1) }) == 0, listen(descriptor, 128) == 0 else {
            let reason = errnoText()
            close(descriptor)
            return .failure(.socket("bind(\(address) port \(port)) in \(namespace): \(reason)"))
        }
        return .success(descriptor)
    }

    /// The first N in 1…250 (starting at a per-process offset) with no 10.254.N.x address or
    /// route on this host.
    private func freeSubnet() async throws(HarnessError) -> Int {
        let addresses = try await run(ip, ["-4", "-o", "addr", "show"]).stdout
        let routes = try await run(ip, ["-4", "route", "show", "table", "all"]).stdout
        let used = Set((addresses + "\n" + routes).split(whereSeparator: { " \n/".contains($0) }).compactMap { word -> Int? in
            let octets = word.split(separator: ".")
            guard octets.count == 4, octets[0] == "10", octets[1] == "254" else { return nil }
            return Int(octets[2])
        })
        let offset = Self.counter.withLock { counter -> Int in
            counter += 1
            return counter
        }
        for step in 0..<250 {
            let candidate = (Int(getpid()) + offset + step) % 250 + 1
            if !used.contains(candidate) { return candidate }
        }
        throw .launchFailed(path: ip.path, reason: "no free 10.254.N.0/30 subnet")
    }

    /// Adds the DROP rules in the namespace with the first firewall command that works; returns its name.
    private func dropSYNs(in namespace: String) async throws(HarnessError) -> String {
        var failures: [String] = []
        for command in ["iptables", "iptables-legacy"] {
            let path = "/usr/sbin/\(command)"
            guard FileManager.default.isExecutableFile(atPath: path) else { continue }
            let rules: [[String]] = droppedPorts.map { ports in ports.map { ["--dport", String($0)] } } ?? [[]]
            var worked = true
            for rule in rules {
                let result = try await runProcess(
                    ip, ["netns", "exec", namespace, path, "-w", "-A", "INPUT", "-p", "tcp"] + rule + ["-j", "DROP"], timeout: .seconds(20))
                if result.exitCode != 0 {
                    failures.append("\(command): \(result)")
                    worked = false
                    break
                }
            }
            if worked { return command }
            _ = try? await runProcess(ip, ["netns", "exec", namespace, path, "-F", "INPUT"], timeout: .seconds(20))
        }
        let nft = "/usr/sbin/nft"
        if FileManager.default.isExecutableFile(atPath: nft) {
            let match = droppedPorts.map { "tcp dport { \($0.map(String.init).joined(separator: ", ")) }" } ?? "meta l4proto tcp"
            let ruleset = "table inet mailaudit { chain input { type filter hook input priority 0; policy accept; \(match) drop; } }\n"
            let result = try await runProcess(
                ip, ["netns", "exec", namespace, nft, "-f", "-"], standardInput: Data(ruleset.utf8), timeout: .seconds(20))
            if result.exitCode == 0 { return "nft" }
            failures.append("nft: \(result)")
        }
        throw .launchFailed(path: "iptables", reason: "no firewall command works in a namespace:\n" + failures.joined(separator: "\n"))
    }

    @discardableResult
    private func run(_ executable: URL, _ arguments: [String]) async throws(HarnessError) -> ProcessResult {
        let result = try await runProcess(executable, arguments, timeout: .seconds(20))
        guard result.exitCode == 0 else {
            throw .launchFailed(path: executable.path, reason: "\(executable.lastPathComponent) \(arguments.joined(separator: " ")): \(result)")
        }
        return result
    }

    /// Removes the marker, so the watchdog deletes the link and the namespace, and waits for it (at most 10 s).
    private static func cleanUp(_ running: Running) async {
        try? FileManager.default.removeItem(at: running.marker)
        let deadline = ContinuousClock.now + .seconds(10)
        while running.watchdog.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A shell loop that ends, deleting the veth pair and the namespace, when the marker file
    /// is removed or this process dies.
    private static func watchdog(ip: URL, marker: URL, namespace: String, hostLink: String) async -> Process? {
        await LocalServerProcess.watchdog(
            "netns-watchdog",
            script: """
                while kill -0 "$1" 2>/dev/null && [ -e "$2" ]; do sleep 0.1; done
                "$3" link del "$5" 2>/dev/null
                "$3" netns del "$4" 2>/dev/null
                rm -f "$2"
                """,
            arguments: [String(getpid()), marker.path, ip.path, namespace, hostLink])
    }
}
