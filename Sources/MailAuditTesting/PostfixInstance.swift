import Foundation
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One running `postfix -c DIR` instance, shared by ``PostfixServer`` and
/// ``PostfixSubmissionServer``: the directory layout, the main.cf and master.cf lines every
/// instance has, `postfix start` under a watchdog, the wait for the listeners' first lines,
/// and the stop.
///
/// ```swift
/// let directory = LocalServerProcess.temporaryDirectory("postfix")
/// try PostfixInstance.prepareDirectories(in: directory)
/// // write main.cf (PostfixInstance.mainCF(…) + more) and master.cf (PostfixInstance.masterServices + listeners)
/// let instance = try await PostfixInstance.launch(executable: postfix, directory: directory, endpoints: endpoints, timeout: .seconds(20))
/// defer { instance.stop() }
/// ```
struct PostfixInstance: Sendable {
    /// A listener `launch` waits for: a 220 (or 421) first line, or an accepted connection for implicit TLS.
    struct Endpoint: Sendable {
        var name: String
        var address: IPAddress
        var port: UInt16
        /// True for implicit TLS (port 465): it greets only after a TLS handshake.
        var greetsAfterTLS: Bool
    }

    /// Why `launch` failed, and whether a port clash (worth another try on other ports) caused it.
    struct LaunchFailure: Error {
        var error: HarnessError
        var portClash: Bool
    }

    let masterPID: Int32
    let watchdog: Process?
    let directory: URL

    /// What Postfix logged so far (DIR/maillog).
    var log: String { Self.readLog(directory) }

    /// Creates DIR/queue (root's: Postfix makes its subdirectories for mail_owner) and
    /// DIR/data (the postfix user's).
    static func prepareDirectories(in directory: URL) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory.appendingPathComponent("queue"), withIntermediateDirectories: true)
        let data = directory.appendingPathComponent("data")
        try fileManager.createDirectory(at: data, withIntermediateDirectories: true)
        chownToPostfix(data)
    }

    /// Gives `url` to the postfix user and group, when that user exists.
    static func chownToPostfix(_ url: URL) {
        if let owner = getpwnam("postfix") { chown(url.path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
    }

    /// The postfix user's uid and gid, for `virtual_uid_maps`.
    static var postfixIDs: (uid: UInt32, gid: UInt32)? {
        guard let owner = getpwnam("postfix") else { return nil }
        return (owner.pointee.pw_uid, owner.pointee.pw_gid)
    }

    /// The main.cf lines of every instance: its own queue, data directory and log, loopback
    /// only, no DNS lookups of clients, no aliases, no local users.
    static func mainCF(directory: URL, usesIPv6: Bool) -> String {
        """
        compatibility_level = 3.6
        queue_directory = \(directory.path)/queue
        data_directory = \(directory.path)/data
        mail_owner = postfix
        setgid_group = postdrop
        inet_interfaces = loopback-only
        inet_protocols = \(usesIPv6 ? "all" : "ipv4")
        smtpd_peername_lookup = no
        maillog_file = \(directory.path)/maillog
        maillog_file_prefixes = \(directory.path)
        alias_maps =
        alias_database =
        local_recipient_maps =
        smtpd_banner = $myhostname ESMTP mailaudit test instance
        biff = no

        """
    }

    /// The master.cf services every instance runs besides its smtpd listeners, none chrooted.
    static let masterServices = [
        "# service type private unpriv chroot wakeup maxproc command",
        "postlog unix-dgram n - n - 1 postlogd",
        "tlsmgr unix - - n 1000? 1 tlsmgr",
        "anvil unix - - n - 1 anvil",
    ]

    /// `ADDRESS:PORT`, with brackets around an IPv6 address, as master.cf wants it.
    static func endpoint(_ address: String, port: UInt16) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    /// An `ADDRESS:PORT inet … smtpd` service with its `-o` options (whitespace removed).
    static func smtpdService(_ address: String, port: UInt16, options: [String]) -> String {
        "\(endpoint(address, port: port)) inet n - n - - smtpd\n  "
            + options.map { "-o " + $0.filter { !$0.isWhitespace } }.joined(separator: "\n  ")
    }

    /// Starts `postfix -c directory start` (main.cf and master.cf must be written) under a
    /// watchdog and waits until every endpoint greets (or accepts, for implicit TLS).
    ///
    /// On failure Postfix is stopped and the directory removed; the error carries the maillog.
    static func launch(
        executable: URL, directory: URL, endpoints: [Endpoint], timeout: Duration
    ) async throws(LaunchFailure) -> PostfixInstance {
        // The watchdog starts first, so that a test process killed during `postfix start` leaves nothing behind.
        let watchdog = await watchdog(directory: directory)
        let result: ProcessResult
        do {
            result = try await runProcess(executable, ["-c", directory.path, "start"], timeout: .seconds(30))
        } catch {
            try? FileManager.default.removeItem(at: directory)
            watchdog?.terminate()
            throw LaunchFailure(error: error, portClash: false)
        }
        guard result.exitCode == 0, let pid = masterPID(directory) else {
            let log = readLog(directory)
            terminate(directory: directory, masterPID: masterPID(directory))
            watchdog?.terminate()
            throw LaunchFailure(
                error: .launchFailed(path: executable.path, reason: "postfix start: \(result)\n--- maillog ---\n\(log)"),
                portClash: log.contains("in use") || log.contains("bind"))
        }
        let instance = PostfixInstance(masterPID: pid, watchdog: watchdog, directory: directory)
        do {
            try await waitUntilGreeting(endpoints, timeout: timeout, executable: executable)
            return instance
        } catch {
            let log = instance.log
            instance.stop()
            throw LaunchFailure(
                error: .launchFailed(path: executable.path, reason: "\(error)\n--- maillog ---\n\(log)"), portClash: log.contains("in use"))
        }
    }

    /// Stops Postfix as `postfix stop` does, removes the directory and ends the watchdog.
    func stop() {
        Self.terminate(directory: directory, masterPID: masterPID)
        if let watchdog, watchdog.isRunning { watchdog.terminate() }
    }

    private static func waitUntilGreeting(_ endpoints: [Endpoint], timeout: Duration, executable: URL) async throws(HarnessError) {
        let deadline = ContinuousClock.now + timeout
        for endpoint in endpoints {
            while true {
                if endpoint.greetsAfterTLS {
                    // It greets only after a TLS handshake: accepting the connection is enough.
                    if await LoopbackPorts.accepts(endpoint.address, port: endpoint.port) { break }
                } else if let line = await LoopbackPorts.firstLine(from: endpoint.address, port: endpoint.port, timeout: .seconds(2)),
                          line.hasPrefix("220") || line.hasPrefix("421") { break }
                guard ContinuousClock.now < deadline else {
                    throw .launchFailed(
                        path: executable.path, reason: "listener \(endpoint.name) on \(endpoint.address) port \(endpoint.port) never greeted")
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    static func readLog(_ directory: URL) -> String {
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
