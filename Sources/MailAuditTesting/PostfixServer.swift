public import Foundation
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private Postfix instance for integration tests: one smtpd listener per TLS situation,
/// each on its own loopback address, all on one port.
///
/// ```swift
/// let ca = try await TestCA.create()
/// let valid = try await ca.issue(.valid, for: "mx-valid.test")
/// let postfix = PostfixServer(listeners: [
///     .starttls("valid", address: "127.0.1.2", hostName: "mx-valid.test", chainFile: valid.chainFile),
///     .plain("plain", address: "127.0.1.7", hostName: "mx-plain.test"),
///     .busy("busy", address: "127.0.1.8", hostName: "mx-busy.test"),
/// ])
/// try await postfix.start()
/// defer { postfix.stop() }
/// // swaks/openssl s_client -starttls smtp -connect 127.0.1.2:\(postfix.port!)
/// ```
///
/// It runs `postfix -c DIR start` (as root in CI) with main.cf and master.cf in its own
/// temporary directory, its own queue and data directories, `smtpd_peername_lookup = no`
/// (no DNS), its log in DIR/maillog, and relaying and delivery refused. `start()` returns
/// once every listener sends its first line (or, for implicit TLS, accepts). `stop()` (or `deinit`) does what `postfix stop`
/// does (SIGTERM to the master, SIGKILL to its process group after three seconds), and a
/// shell watchdog stops it if the test process dies first.
///
/// The 421 listener is plain Postfix: `smtpd_delay_reject = no` makes smtpd evaluate
/// `smtpd_client_restrictions` at connect time, and a `check_client_access` CIDR table
/// answers every client "421 4.7.0 … Too many connections, try again later"; Postfix then
/// sends that instead of its 220 banner and disconnects (access(5): "421 text").
public final class PostfixServer: Sendable {
    /// One `ADDRESS:PORT inet … smtpd` line of master.cf.
    public struct Listener: Hashable, Sendable {
        public enum Mode: Hashable, Sendable {
            /// STARTTLS offered with this `smtpd_tls_chain_files` file (key, leaf, chain).
            case starttls(chainFile: URL)
            /// TLS from the first byte, as on port 465 (RFC 8314 §3.3; `smtpd_tls_wrappermode`).
            case implicitTLS(chainFile: URL)
            /// No TLS: STARTTLS is not offered (`smtpd_tls_security_level = none`).
            case plain
            /// Every connection is greeted with 421 and closed.
            case busy
        }

        /// A label for messages, for example "expired".
        public var name: String
        /// A loopback address, for example "127.0.1.2" or "::1".
        public var address: String
        /// `myhostname`: the name in the banner and the EHLO reply.
        public var hostName: String
        public var mode: Mode
        /// More `-o name=value` smtpd options (no whitespace), for example
        /// "smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.2,!TLSv1.3" for a server stuck at TLS 1.0/1.1.
        public var options: [String]

        public init(name: String, address: String, hostName: String, mode: Mode, options: [String] = []) {
            self.name = name
            self.address = address
            self.hostName = hostName
            self.mode = mode
            self.options = options
        }

        public static func starttls(_ name: String, address: String, hostName: String, chainFile: URL, options: [String] = []) -> Listener {
            Listener(name: name, address: address, hostName: hostName, mode: .starttls(chainFile: chainFile), options: options)
        }

        public static func implicitTLS(_ name: String, address: String, hostName: String, chainFile: URL) -> Listener {
            Listener(name: name, address: address, hostName: hostName, mode: .implicitTLS(chainFile: chainFile))
        }

        public static func plain(_ name: String, address: String, hostName: String) -> Listener {
            Listener(name: name, address: address, hostName: hostName, mode: .plain)
        }

        public static func busy(_ name: String, address: String, hostName: String) -> Listener {
            Listener(name: name, address: address, hostName: hostName, mode: .busy)
        }
    }

    public let listeners: [Listener]
    /// The `postfix` command.
    public let executable: URL
    /// How long `start()` waits for every listener's first line.
    public let startTimeout: Duration

    private let state = RunningState<Running>()

    private struct Running {
        var masterPID: Int32
        var watchdog: Process?
        var port: UInt16
        var directory: URL
    }

    public init(listeners: [Listener], executable: URL = URL(fileURLWithPath: "/usr/sbin/postfix"), startTimeout: Duration = .seconds(20)) {
        self.listeners = listeners
        self.executable = executable
        self.startTimeout = startTimeout
    }

    deinit { stop() }

    /// The port every listener listens on, or nil when it is not running.
    public var port: UInt16? { state.read(\.port) }

    /// The running server's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("Postfix") }
        return port
    }

    /// What Postfix logged so far (DIR/maillog).
    public var log: String {
        guard let directory = state.read(\.directory) else { return "" }
        return Self.readLog(directory)
    }

    /// Writes the configuration, starts Postfix and waits until each listener sends its
    /// first line (220, or 421 for a busy listener).
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` for a listener off loopback,
    ///   ``HarnessError/launchFailed(path:reason:)`` with Postfix's log when it does not start
    ///   or a listener stays silent past `startTimeout`.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let addresses = try listeners.map { listener throws(HarnessError) in try Loopback.checkedAddress(listener.address) }
        var lastError = HarnessError.launchFailed(path: executable.path, reason: "not tried")
        for _ in 0..<3 {
            let port = try LoopbackPorts.freeTCPPort(on: addresses)
            let directory = LocalServerProcess.temporaryDirectory("postfix")
            do {
                try writeConfiguration(in: directory, port: port)
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw .launchFailed(path: executable.path, reason: "cannot write the configuration: \(error)")
            }
            // The watchdog starts first, so that a test process killed during `postfix start` leaves nothing behind.
            let watchdog = await Self.watchdog(directory: directory)
            let result: ProcessResult
            do {
                result = try await runProcess(executable, ["-c", directory.path, "start"], timeout: .seconds(30))
            } catch {
                try? FileManager.default.removeItem(at: directory)
                watchdog?.terminate()
                throw error
            }
            guard result.exitCode == 0, let pid = Self.masterPID(directory) else {
                let log = Self.readLog(directory)
                Self.terminate(directory: directory, masterPID: Self.masterPID(directory))
                watchdog?.terminate()
                lastError = .launchFailed(path: executable.path, reason: "postfix start: \(result)\n--- maillog ---\n\(log)")
                if log.contains("in use") || log.contains("bind") { continue }
                throw lastError
            }
            state.store(Running(masterPID: pid, watchdog: watchdog, port: port, directory: directory))
            do {
                try await waitUntilGreeting(addresses: addresses, port: port)
                return
            } catch {
                let log = self.log
                stop()
                lastError = .launchFailed(path: executable.path, reason: "\(error)\n--- maillog ---\n\(log)")
                if log.contains("in use") { continue }
                throw lastError
            }
        }
        throw lastError
    }

    /// Stops Postfix as `postfix stop` does and removes its directory. Safe to call more than once.
    public func stop() {
        guard let running = state.take() else { return }
        Self.terminate(directory: running.directory, masterPID: running.masterPID)
        if let watchdog = running.watchdog, watchdog.isRunning { watchdog.terminate() }
    }

    private func waitUntilGreeting(addresses: [IPAddress], port: UInt16) async throws(HarnessError) {
        let deadline = ContinuousClock.now + startTimeout
        for (listener, address) in zip(listeners, addresses) {
            while true {
                if case .implicitTLS = listener.mode {
                    // It greets only after a TLS handshake: accepting the connection is enough.
                    if await LoopbackPorts.accepts(address, port: port) { break }
                } else if let line = await LoopbackPorts.firstLine(from: address, port: port, timeout: .seconds(2)),
                          line.hasPrefix("220") || line.hasPrefix("421") { break }
                guard ContinuousClock.now < deadline else {
                    throw .launchFailed(path: executable.path, reason: "listener \(listener.name) on \(listener.address) port \(port) never greeted")
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private func writeConfiguration(in directory: URL, port: UInt16) throws {
        let fileManager = FileManager.default
        let queue = directory.appendingPathComponent("queue")
        let data = directory.appendingPathComponent("data")
        try fileManager.createDirectory(at: queue, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: data, withIntermediateDirectories: true)
        // The queue directory belongs to root; Postfix creates its subdirectories for mail_owner.
        // The data directory belongs to mail_owner.
        if let owner = getpwnam("postfix") { chown(data.path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
        let usesIPv6 = listeners.contains { $0.address.contains(":") }
        let main = """
            # A private test instance of mailaudit's harness: loopback only, no DNS, no mail accepted.
            compatibility_level = 3.6
            queue_directory = \(queue.path)
            data_directory = \(data.path)
            mail_owner = postfix
            setgid_group = postdrop
            inet_interfaces = loopback-only
            inet_protocols = \(usesIPv6 ? "all" : "ipv4")
            smtpd_peername_lookup = no
            maillog_file = \(directory.path)/maillog
            maillog_file_prefixes = \(directory.path)
            myhostname = mailaudit-postfix.test
            mydestination =
            mynetworks = 127.0.0.0/8
            alias_maps =
            alias_database =
            local_recipient_maps =
            smtpd_banner = $myhostname ESMTP mailaudit test instance
            smtpd_relay_restrictions = reject
            smtpd_recipient_restrictions = reject
            smtpd_tls_security_level = none
            biff = no

            """
        var master = [
            "# service type private unpriv chroot wakeup maxproc command",
            "postlog unix-dgram n - n - 1 postlogd",
            "tlsmgr unix - - n 1000? 1 tlsmgr",
            "anvil unix - - n - 1 anvil",
        ]
        for listener in listeners {
            let endpoint = listener.address.contains(":") ? "[\(listener.address)]:\(port)" : "\(listener.address):\(port)"
            var options = ["-o myhostname=\(listener.hostName)", "-o syslog_name=postfix-\(listener.name)"]
            switch listener.mode {
            case .starttls(let chainFile):
                options += ["-o smtpd_tls_security_level=may", "-o smtpd_tls_chain_files=\(chainFile.path)"]
            case .implicitTLS(let chainFile):
                options += [
                    "-o smtpd_tls_wrappermode=yes", "-o smtpd_tls_security_level=encrypt", "-o smtpd_tls_chain_files=\(chainFile.path)",
                ]
            case .plain:
                options += ["-o smtpd_tls_security_level=none"]
            case .busy:
                options += [
                    "-o smtpd_tls_security_level=none", "-o smtpd_delay_reject=no",
                    "-o smtpd_client_restrictions=check_client_access,cidr:\(directory.path)/busy.cidr",
                ]
            }
            options += listener.options.map { "-o " + $0.filter { !$0.isWhitespace } }
            master.append("\(endpoint) inet n - n - - smtpd\n  " + options.joined(separator: "\n  "))
        }
        let busy = """
            # access(5): "421 text" answers and disconnects at once.
            0.0.0.0/0 421 4.7.0 Too many connections, try again later
            ::/0 421 4.7.0 Too many connections, try again later

            """
        try Data(main.utf8).write(to: directory.appendingPathComponent("main.cf"))
        try Data((master.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("master.cf"))
        try Data(busy.utf8).write(to: directory.appendingPathComponent("busy.cidr"))
    }

    private static func readLog(_ directory: URL) -> String {
        (try? Data(contentsOf: directory.appendingPathComponent("maillog"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The master's pid from queue/pid/master.pid, when it runs.
    private static func masterPID(_ directory: URL) -> Int32? {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("queue/pid/master.pid")),
              let pid = Int32(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              pid > 1, isAlive(pid) else { return nil }
        return pid
    }

    /// What `postfix stop` does: SIGTERM to the master (which stops its children), a wait,
    /// then SIGKILL to the master's process group. Then the directory is removed.
    private static func terminate(directory: URL, masterPID: Int32?) {
        if let pid = masterPID {
            LocalServerProcess.terminate(
                grace: .seconds(3), isRunning: { isAlive(pid) }, terminate: { _ = kill(pid, SIGTERM) },
                forceKill: { _ = kill(-pid, SIGKILL) })
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// True while the process exists and is no zombie. The master is not our child (postfix
    /// start detaches it), so it may stay a zombie until init reaps it.
    private static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else {
            return kill(pid, 0) == 0
        }
        guard let close = stat.lastIndex(of: ")") else { return true }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.first != "Z" && fields.first != "X"
    }

    /// A shell loop that ends when `stop()` removes the directory; if this process dies first,
    /// it stops the master named in the pid file (and so every smtpd) and removes the directory.
    private static func watchdog(directory: URL) async -> Process? {
        await LocalServerProcess.watchdog(
            "postfix-watchdog",
            script: """
                while kill -0 "$1" 2>/dev/null; do [ -d "$2" ] || exit 0; sleep 0.5; done
                pid=$(tr -d ' ' < "$2/queue/pid/master.pid" 2>/dev/null)
                if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null; sleep 2; kill -KILL -"$pid" 2>/dev/null; fi
                rm -rf "$2"
                """,
            arguments: [String(getpid()), directory.path])
    }
}
