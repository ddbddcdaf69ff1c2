public import Foundation
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private Postfix instance with submission listeners for the `relay` tests: each on its
/// own loopback address and port, with SASL (Cyrus, a sasldb made at start) and delivery to
/// a Maildir.
///
/// ```swift
/// let ca = try await TestCA.create()
/// let certificate = try await ca.issue(.valid, for: "smtp.relay.test")
/// let chain = certificate.chainFile
/// let postfix = PostfixSubmissionServer(listeners: [
///     .submission("587", address: "127.0.20.1", port: 587, chainFile: chain),
///     .implicitTLS("465", address: "127.0.20.1", port: 465, chainFile: chain),
///     .tlsRequired("encrypt", address: "127.0.20.2", port: 587, chainFile: chain),
///     .authBeforeTLS("early-auth", address: "127.0.20.3", port: 587, chainFile: chain),
///     .tls10Only("tls10", address: "127.0.20.4", port: 587, chainFile: chain),
/// ])
/// try await postfix.start()
/// defer { postfix.stop() }
/// // AUTH PLAIN as postfix.login ("relayuser@relay.test") or postfix.user ("relayuser"), with postfix.password;
/// // then MAIL FROM:<a@relay.test> RCPT TO:<b@inbox.test> DATA …
/// let messages = await postfix.waitForMessages(count: 1) { $0.contains("Subject: test 1") }
/// ```
///
/// Every listener has the same rules:
/// - SASL via Cyrus `auxprop`/`sasldb` with mechanisms PLAIN, LOGIN and CRAM-MD5, for one
///   user whose password is random per instance. `smtpd_sasl_local_domain` is the realm, so
///   "relayuser" and "relayuser@relay.test" both log in.
/// - AUTH is offered only after TLS (`smtpd_tls_auth_only = yes`), except on ``Listener/Mode/authBeforeTLS``.
/// - Relaying only when authenticated (`permit_sasl_authenticated, reject_unauth_destination`);
///   `mynetworks` is empty, so an unauthenticated RCPT outside ``deliveryDomain`` gets
///   "550 5.7.1 <x@elsewhere.test>: Relay access denied" (`relay_domains_reject_code = 550`).
/// - Mail for ``deliveryDomain`` ("inbox.test") is accepted from anyone, as an MX would;
///   every accepted message, for that domain or relayed by an authenticated client, is
///   delivered by virtual(8) to one Maildir under the instance directory (``maildir``,
///   ``maildirMessages()``). Nothing ever leaves the machine.
///
/// Start, stop, the watchdog and the log are ``PostfixServer``'s: `postfix -c DIR start` as
/// root, `smtpd_peername_lookup = no`, nothing chrooted, the log in DIR/maillog. `stop()` (or
/// `deinit`) removes DIR with the sasldb and the Maildir. The password never appears in a
/// command line: `saslpasswd2 -p` reads it from standard input.
public final class PostfixSubmissionServer: Sendable {
    /// One `ADDRESS:PORT inet … smtpd` line of master.cf.
    public struct Listener: Hashable, Sendable {
        public enum Mode: Hashable, Sendable {
            /// Port 587 style: STARTTLS offered (`smtpd_tls_security_level = may`), AUTH only after it.
            case submission
            /// Port 465 style: TLS from the first byte (`smtpd_tls_wrappermode = yes`), then AUTH.
            case implicitTLS
            /// STARTTLS required (`smtpd_tls_security_level = encrypt`): MAIL or AUTH before it
            /// gets "530 5.7.0 Must issue a STARTTLS command first".
            case tlsRequired
            /// AUTH offered in clear text (`smtpd_tls_auth_only = no`); STARTTLS offered too.
            case authBeforeTLS
            /// STARTTLS with TLS 1.0 only (`smtpd_tls_protocols` and `…_mandatory_protocols`
            /// exclude the rest; `@SECLEVEL=0` in the cipher list so OpenSSL 3 still allows it).
            /// A client must allow TLS 1.0 at security level 0 too, for example
            /// `openssl s_client -tls1 -cipher DEFAULT:@SECLEVEL=0 -starttls smtp`.
            case tls10Only

            var isImplicitTLS: Bool { self == .implicitTLS }
        }

        /// A label for messages and ``PostfixSubmissionServer/port(of:)``, for example "587".
        public var name: String
        /// A loopback address, for example "127.0.20.1" or "::1".
        public var address: String
        /// The port, for example 587 (binding below 1024 needs root); 0 picks a free one at start.
        public var port: UInt16
        /// `myhostname`: the name in the banner and the EHLO reply.
        public var hostName: String
        public var mode: Mode
        /// `smtpd_tls_chain_files`: key, leaf and chain, as ``TestCA/Certificate/chainFile``.
        public var chainFile: URL
        /// More `-o name=value` smtpd options (no whitespace), for example "smtpd_sasl_auth_enable=no".
        public var options: [String]

        public init(
            name: String, address: String, port: UInt16 = 0, hostName: String = "smtp.relay.test", mode: Mode, chainFile: URL,
            options: [String] = []
        ) {
            self.name = name
            self.address = address
            self.port = port
            self.hostName = hostName
            self.mode = mode
            self.chainFile = chainFile
            self.options = options
        }

        public static func submission(
            _ name: String, address: String, port: UInt16 = 0, hostName: String = "smtp.relay.test", chainFile: URL, options: [String] = []
        ) -> Listener {
            Listener(name: name, address: address, port: port, hostName: hostName, mode: .submission, chainFile: chainFile, options: options)
        }

        public static func implicitTLS(
            _ name: String, address: String, port: UInt16 = 0, hostName: String = "smtp.relay.test", chainFile: URL, options: [String] = []
        ) -> Listener {
            Listener(name: name, address: address, port: port, hostName: hostName, mode: .implicitTLS, chainFile: chainFile, options: options)
        }

        public static func tlsRequired(
            _ name: String, address: String, port: UInt16 = 0, hostName: String = "smtp.relay.test", chainFile: URL, options: [String] = []
        ) -> Listener {
            Listener(name: name, address: address, port: port, hostName: hostName, mode: .tlsRequired, chainFile: chainFile, options: options)
        }

        public static func authBeforeTLS(
            _ name: String, address: String, port: UInt16 = 0, hostName: String = "smtp.relay.test", chainFile: URL, options: [String] = []
        ) -> Listener {
            Listener(name: name, address: address, port: port, hostName: hostName, mode: .authBeforeTLS, chainFile: chainFile, options: options)
        }

        public static func tls10Only(
            _ name: String, address: String, port: UInt16 = 0, hostName: String = "smtp.relay.test", chainFile: URL, options: [String] = []
        ) -> Listener {
            Listener(name: name, address: address, port: port, hostName: hostName, mode: .tls10Only, chainFile: chainFile, options: options)
        }

        /// The master.cf `-o` options of this listener's mode.
        fileprivate var modeOptions: [String] {
            switch mode {
            case .submission: ["smtpd_tls_security_level=may"]
            case .implicitTLS: ["smtpd_tls_wrappermode=yes", "smtpd_tls_security_level=encrypt"]
            case .tlsRequired: ["smtpd_tls_security_level=encrypt"]
            case .authBeforeTLS: ["smtpd_tls_security_level=may", "smtpd_tls_auth_only=no"]
            case .tls10Only:
                [
                    "smtpd_tls_security_level=may", "smtpd_tls_protocols=!SSLv2,!SSLv3,!TLSv1.1,!TLSv1.2,!TLSv1.3",
                    "smtpd_tls_mandatory_protocols=!SSLv2,!SSLv3,!TLSv1.1,!TLSv1.2,!TLSv1.3", "smtpd_tls_ciphers=medium",
                    "smtpd_tls_mandatory_ciphers=medium", "tls_medium_cipherlist=DEFAULT:@SECLEVEL=0",
                ]
            }
        }
    }

    public let listeners: [Listener]
    /// The SASL user without its realm, for example "relayuser".
    public let user: String
    /// The SASL realm (`saslpasswd2 -u`, `smtpd_sasl_local_domain`), for example "relay.test".
    public let realm: String
    /// The user's password: 24 random letters and digits, made by `init`.
    public let password: String
    /// The recipient domain delivered to the Maildir without AUTH, for example "inbox.test".
    public let deliveryDomain: String
    /// The `postfix` command.
    public let executable: URL
    /// The `saslpasswd2` command (Debian: sasl2-bin).
    public let saslpasswd2: URL
    /// How long `start()` waits for every listener's first line.
    public let startTimeout: Duration

    private let state = RunningState<Running>()

    private struct Running {
        var instance: PostfixInstance
        var ports: [String: UInt16]
    }

    public init(
        listeners: [Listener], user: String = "relayuser", realm: String = "relay.test", deliveryDomain: String = "inbox.test",
        executable: URL = URL(fileURLWithPath: "/usr/sbin/postfix"), saslpasswd2: URL = URL(fileURLWithPath: "/usr/sbin/saslpasswd2"),
        startTimeout: Duration = .seconds(20)
    ) {
        self.listeners = listeners
        self.user = user
        self.realm = realm
        self.deliveryDomain = deliveryDomain
        self.executable = executable
        self.saslpasswd2 = saslpasswd2
        self.startTimeout = startTimeout
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        password = String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt(alphabet.count)))] })
    }

    deinit { stop() }

    /// The login with its realm, for example "relayuser@relay.test".
    public var login: String { "\(user)@\(realm)" }

    /// Each listener's port by name, or nil when it is not running.
    public var ports: [String: UInt16]? { state.read(\.ports) }

    /// The port of the listener called `name`, or nil when it is not running.
    public func port(of name: String) -> UInt16? { ports?[name] }

    /// The running listener's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()`, after `stop()` or for an unknown name.
    public func requirePort(_ name: String) throws(HarnessError) -> UInt16 {
        guard let port = port(of: name) else { throw .notRunning("Postfix submission listener \(name)") }
        return port
    }

    /// What Postfix logged so far (DIR/maillog).
    public var log: String { state.read(\.instance)?.log ?? "" }

    /// The Maildir every accepted message is delivered to (it has `new/`, `cur/` and `tmp/`
    /// once the first message arrives), or nil when not running.
    public var maildir: URL? { state.read(\.instance)?.directory.appendingPathComponent("mail/Maildir", isDirectory: true) }

    /// The messages delivered so far, oldest first: each file of `new/` and `cur/` as text
    /// (Return-Path, Delivered-To and Received added by Postfix, then what the client sent).
    public func maildirMessages() -> [String] {
        guard let maildir else { return [] }
        let fileManager = FileManager.default
        var files: [(date: Date, name: String, url: URL)] = []
        for folder in ["new", "cur"] {
            let directory = maildir.appendingPathComponent(folder)
            for name in (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? [] {
                let url = directory.appendingPathComponent(name)
                let date = (try? fileManager.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
                files.append((date ?? .distantPast, name, url))
            }
        }
        files.sort { ($0.date, $0.name) < ($1.date, $1.name) }
        return files.compactMap { file in (try? Data(contentsOf: file.url)).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Waits until at least `count` messages for which `matching` holds are in the Maildir
    /// (delivery follows the 250 after DATA within milliseconds, but asynchronously), and
    /// returns those; fewer after `timeout`.
    ///
    /// `let mine = await postfix.waitForMessages(count: 2) { $0.contains("Subject: \(subject)") }`
    public func waitForMessages(
        count: Int = 1, timeout: Duration = .seconds(10), matching: (String) -> Bool = { _ in true }
    ) async -> [String] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let messages = maildirMessages().filter(matching)
            if messages.count >= count || ContinuousClock.now >= deadline { return messages }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Makes the sasldb, writes the configuration, starts Postfix and waits until each
    /// listener greets (for implicit TLS: accepts).
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` for a listener off loopback,
    ///   ``HarnessError/launchFailed(path:reason:)`` with Postfix's log when it does not start,
    ///   a listener stays silent past `startTimeout`, or `saslpasswd2` fails.
    public func start() async throws(HarnessError) {
        guard ports == nil else { return }
        let addresses = try listeners.map { listener throws(HarnessError) in try Loopback.checkedAddress(listener.address) }
        var lastError = HarnessError.launchFailed(path: executable.path, reason: "not tried")
        let freePortsChosen = listeners.contains { $0.port == 0 }
        for _ in 0..<(freePortsChosen ? 3 : 1) {
            let ports = try choosePorts(addresses)
            let directory = LocalServerProcess.temporaryDirectory("postfix-submission")
            do {
                try writeConfiguration(in: directory, ports: ports)
                try await makeSASLDatabase(in: directory)
            } catch {
                try? FileManager.default.removeItem(at: directory)
                throw .launchFailed(path: executable.path, reason: "cannot write the configuration: \(error)")
            }
            let endpoints = zip(zip(listeners, addresses), ports).map { pair, port in
                PostfixInstance.Endpoint(name: pair.0.name, address: pair.1, port: port, greetsAfterTLS: pair.0.mode.isImplicitTLS)
            }
            do {
                let instance = try await PostfixInstance.launch(
                    executable: executable, directory: directory, endpoints: endpoints, timeout: startTimeout)
                let byName = Dictionary(zip(listeners.map(\.name), ports), uniquingKeysWith: { first, _ in first })
                state.store(Running(instance: instance, ports: byName))
                return
            } catch {
                lastError = error.error
                if !error.portClash { throw lastError }
            }
        }
        throw lastError
    }

    /// Stops Postfix as `postfix stop` does and removes its directory, the sasldb and the
    /// Maildir. Safe to call more than once.
    public func stop() {
        state.take()?.instance.stop()
    }

    /// Each listener's port: its own, or a free one on its address (two free ones never alike
    /// on one address).
    private func choosePorts(_ addresses: [IPAddress]) throws(HarnessError) -> [UInt16] {
        var taken = Set(zip(addresses, listeners).map { "\($0.0) \($0.1.port)" })
        var ports: [UInt16] = []
        for (listener, address) in zip(listeners, addresses) {
            guard listener.port == 0 else {
                ports.append(listener.port)
                continue
            }
            var port: UInt16 = 0
            for _ in 0..<20 {
                port = try LoopbackPorts.freeTCPPort(on: [address])
                if taken.insert("\(address) \(port)").inserted { break }
            }
            ports.append(port)
        }
        return ports
    }

    /// DIR/sasl/sasldb2 with the user, made by `saslpasswd2 -p` reading the password from
    /// standard input, owned by postfix (smtpd reads it after dropping privileges).
    private func makeSASLDatabase(in directory: URL) async throws(HarnessError) {
        let database = directory.appendingPathComponent("sasl/sasldb2")
        let result = try await runProcess(
            saslpasswd2, ["-p", "-c", "-f", database.path, "-u", realm, user], standardInput: Data((password + "\n").utf8),
            timeout: .seconds(30))
        guard result.exitCode == 0, FileManager.default.fileExists(atPath: database.path) else {
            throw .launchFailed(path: saslpasswd2.path, reason: "saslpasswd2: \(result)")
        }
        PostfixInstance.chownToPostfix(database)
        chmod(database.path, 0o600)
    }

    private func writeConfiguration(in directory: URL, ports: [UInt16]) throws {
        try PostfixInstance.prepareDirectories(in: directory)
        let fileManager = FileManager.default
        let sasl = directory.appendingPathComponent("sasl")
        let mail = directory.appendingPathComponent("mail")
        try fileManager.createDirectory(at: sasl, withIntermediateDirectories: true)
        try fileManager.createDirectory(at: mail, withIntermediateDirectories: true)
        PostfixInstance.chownToPostfix(mail)
        guard let ids = PostfixInstance.postfixIDs else { throw HarnessError.launchFailed(path: executable.path, reason: "no postfix user") }
        let usesIPv6 = listeners.contains { $0.address.contains(":") }
        // Postfix reads DIR/sasl/smtpd.conf: `smtpd_sasl_path = smtpd` names it.
        let saslConfiguration = """
            pwcheck_method: auxprop
            auxprop_plugin: sasldb
            sasldb_path: \(sasl.path)/sasldb2
            mech_list: PLAIN LOGIN CRAM-MD5

            """
        let main = "# A private submission test instance of mailaudit's harness: loopback only, no DNS, delivery to a Maildir.\n"
            + PostfixInstance.mainCF(directory: directory, usesIPv6: usesIPv6) + """
            myhostname = smtp.relay.test
            mydestination =
            mynetworks =
            relay_domains =
            smtpd_tls_auth_only = yes
            smtpd_sasl_auth_enable = yes
            smtpd_sasl_type = cyrus
            smtpd_sasl_path = smtpd
            cyrus_sasl_config_path = \(sasl.path)
            smtpd_sasl_local_domain = \(realm)
            smtpd_sasl_security_options = noanonymous
            smtpd_sasl_tls_security_options = noanonymous
            smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
            smtpd_recipient_restrictions =
            relay_domains_reject_code = 550
            virtual_mailbox_domains = \(deliveryDomain)
            virtual_mailbox_base = \(mail.path)
            virtual_mailbox_maps = static:Maildir/
            virtual_uid_maps = static:\(ids.uid)
            virtual_gid_maps = static:\(ids.gid)
            virtual_minimum_uid = \(ids.uid)
            # What an authenticated client relays elsewhere lands in the same Maildir.
            default_transport = virtual
            relay_transport = virtual

            """
        var master = PostfixInstance.masterServices + [
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 300 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "proxywrite unix - - n - 1 proxymap",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "virtual unix - n n - - virtual",
        ]
        for (listener, port) in zip(listeners, ports) {
            let options = [
                "myhostname=\(listener.hostName)", "syslog_name=postfix-\(listener.name)", "smtpd_tls_chain_files=\(listener.chainFile.path)",
            ]
            master.append(PostfixInstance.smtpdService(listener.address, port: port, options: options + listener.modeOptions + listener.options))
        }
        try Data(saslConfiguration.utf8).write(to: sasl.appendingPathComponent("smtpd.conf"))
        try Data(main.utf8).write(to: directory.appendingPathComponent("main.cf"))
        try Data((master.joined(separator: "\n") + "\n").utf8).write(to: directory.appendingPathComponent("master.cf"))
    }
}
