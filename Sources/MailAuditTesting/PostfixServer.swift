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

            var isImplicitTLS: Bool { if case .implicitTLS = self { true } else { false } }
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
        var instance: PostfixInstance
        var port: UInt16
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
        state.read(\.instance)?.log ?? ""
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
            let endpoints = zip(listeners, addresses).map { listener, address in
                PostfixInstance.Endpoint(name: listener.name, address: address, port: port, greetsAfterTLS: listener.mode.isImplicitTLS)
            }
            do {
                let instance = try await PostfixInstance.launch(
                    executable: executable, directory: directory, endpoints: endpoints, timeout: startTimeout)
                state.store(Running(instance: instance, port: port))
                return
            } catch {
                lastError = error.error
                if !error.portClash { throw lastError }
            }
        }
        throw lastError
    }

    /// Stops Postfix as `postfix stop` does and removes its directory. Safe to call more than once.
    public func stop() {
        state.take()?.instance.stop()
    }

    private func writeConfiguration(in directory: URL, port: UInt16) throws {
        try PostfixInstance.prepareDirectories(in: directory)
        let usesIPv6 = listeners.contains { $0.address.contains(":") }
        let main = "# A private test instance of mailaudit's harness: loopback only, no DNS, no mail accepted.\n"
            + PostfixInstance.mainCF(directory: directory, usesIPv6: usesIPv6) + """
            myhostname = mailaudit-postfix.test
            mydestination =
            mynetworks = 127.0.0.0/8
            smtpd_relay_restrictions = reject
            smtpd_recipient_restrictions = reject
            smtpd_tls_security_level = none

            """
        var master = PostfixInstance.masterServices
        for listener in listeners {
            var options = ["myhostname=\(listener.hostName)", "syslog_name=postfix-\(listener.name)"]
            switch listener.mode {
            case .starttls(let chainFile):
                options += ["smtpd_tls_security_level=may", "smtpd_tls_chain_files=\(chainFile.path)"]
            case .implicitTLS(let chainFile):
                options += ["smtpd_tls_wrappermode=yes", "smtpd_tls_security_level=encrypt", "smtpd_tls_chain_files=\(chainFile.path)"]
            case .plain:
                options += ["smtpd_tls_security_level=none"]
            case .busy:
                options += [
                    "smtpd_tls_security_level=none", "smtpd_delay_reject=no",
                    "smtpd_client_restrictions=check_client_access,cidr:\(directory.path)/busy.cidr",
                ]
            }
            master.append(PostfixInstance.smtpdService(listener.address, port: port, options: options + listener.options))
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
}
