public import Foundation
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private nginx instance serving HTTPS sites on loopback addresses, for the MTA-STS policy
/// fetch: one `server` block per site, each on its own address with its own certificate, all
/// on one port.
///
/// ```swift
/// let ca = try await TestCA.create()
/// let certificate = try await ca.issue(.valid, for: "mta-sts.good.test")
/// let nginx = NginxServer(sites: [
///     .init(serverName: "mta-sts.good.test", address: "127.0.3.2", chainFile: certificate.chainFile,
///           directives: NginxServer.respond(200, body: "version: STSv1\r\n…")),
/// ])
/// try await nginx.start()
/// defer { nginx.stop() }
/// // curl --cacert \(ca.rootFile.path) --resolve mta-sts.good.test:\(nginx.port!):127.0.3.2 https://mta-sts.good.test:\(nginx.port!)/
/// ```
///
/// It runs `/usr/sbin/nginx` in the foreground as one process (`daemon off`, `master_process
/// off`) with its configuration, pid file, logs, temporary paths and each site's files in its
/// own temporary directory, on a free port. `start()` returns once every site accepts
/// connections. `stop()` (or `deinit`) terminates nginx and removes the directory, and a shell
/// watchdog does so if the test process dies first.
public final class NginxServer: Sendable {
    /// One HTTPS `server` block.
    public struct Site: Hashable, Sendable {
        /// The name it answers to (SNI and Host), for example `mta-sts.good.test`.
        public var serverName: String
        /// A loopback address of its own, for example "127.0.3.2".
        public var address: String
        /// Key, leaf and chain in one PEM file (``TestCA/Certificate/chainFile``).
        public var chainFile: URL
        /// nginx directives inside the `server` block, for example `location` blocks.
        public var directives: String
        /// Files under the site's root, by path relative to it (e.g. `.well-known/mta-sts.txt`).
        public var files: [String: String]

        public init(serverName: String, address: String, chainFile: URL, directives: String = "", files: [String: String] = [:]) {
            self.serverName = serverName
            self.address = address
            self.chainFile = chainFile
            self.directives = directives
            self.files = files
        }
    }

    public let sites: [Site]
    public let executable: URL
    public let startTimeout: Duration
    private let state = RunningState<Running>()

    private struct Running {
        var process: Process
        var watchdog: Process?
        var port: UInt16
        var directory: URL
    }

    public init(sites: [Site], executable: URL = URL(fileURLWithPath: "/usr/sbin/nginx"), startTimeout: Duration = .seconds(10)) {
        self.sites = sites
        self.executable = executable
        self.startTimeout = startTimeout
    }

    deinit { stop() }

    /// The port every site listens on, or nil when nginx is not running.
    public var port: UInt16? { state.read(\.port) }

    /// The running server's port.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requirePort() throws(HarnessError) -> UInt16 {
        guard let port else { throw .notRunning("nginx") }
        return port
    }

    /// A `location` for `path` that answers `status` with `body` as `contentType`, with a
    /// Content-Length (nginx's `return`); `extra` directives go in the same block, for example
    /// `limit_rate 1;` for a server that answers a byte a second.
    public static func respond(
        _ status: Int, body: String, contentType: String = "text/plain", path: String = "/.well-known/mta-sts.txt", extra: String = ""
    ) -> String {
        let escaped = body.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
        // An empty types map, so that the path's extension does not choose the type.
        return "location = \(path) {\n    types { }\n    default_type \(contentType);\n    \(extra)\n    return \(status) \"\(escaped)\";\n}\n"
    }

    /// Writes the configuration, starts nginx and waits until every site accepts connections.
    ///
    /// - Throws: ``HarnessError/notLoopback(_:)`` for a site off loopback,
    ///   ``HarnessError/launchFailed(path:reason:)`` with nginx's error log when it exits or a
    ///   site does not accept connections within `startTimeout`.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        let addresses = try sites.map { site throws(HarnessError) in try Loopback.checkedAddress(site.address) }
        var lastError = HarnessError.launchFailed(path: executable.path, reason: "not tried")
        for _ in 0..<3 {
            let running = try await launch(port: try LoopbackPorts.freeTCPPort(on: addresses))
            state.store(running)
            do {
                try await waitUntilAccepting(running, addresses: addresses)
                return
            } catch {
                lastError = error
                stop()
                // Another process took the port between the check and nginx's bind: try another.
                guard case .launchFailed(_, let reason) = error, reason.contains("Address already in use") else { throw error }
            }
        }
        throw lastError
    }

    /// Terminates nginx (SIGTERM, then SIGKILL after two seconds) and removes its directory.
    /// Safe to call more than once.
    public func stop() {
        guard let running = state.take() else { return }
        LocalServerProcess.stopServer(running.process, watchdog: running.watchdog, directory: running.directory)
    }

    private func launch(port: UInt16) async throws(HarnessError) -> Running {
        let directory = LocalServerProcess.temporaryDirectory("nginx")
        let configURL = directory.appendingPathComponent("nginx.conf")
        let process = Process()
        do {
            for name in ["logs", "temp", "sites"] {
                try FileManager.default.createDirectory(at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
            }
            for (index, site) in sites.enumerated() {
                for (path, content) in site.files {
                    let url = directory.appendingPathComponent("sites/\(index)/\(path)")
                    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                    try Data(content.utf8).write(to: url)
                }
            }
            try Data(configuration(directory: directory, port: port).utf8).write(to: configURL)
            process.executableURL = executable
            process.arguments = ["-p", directory.path + "/", "-c", configURL.path, "-e", directory.appendingPathComponent("logs/error.log").path]
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: Self.emptyFile(directory.appendingPathComponent("logs/stderr.log")))
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw .launchFailed(path: executable.path, reason: "cannot write the configuration: \(error)")
        }
        do {
            try await launchWithDefaultSignalMask(process)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let watchdog = await LocalServerProcess.serverWatchdog("nginx-watchdog", server: process, directory: directory)
        return Running(process: process, watchdog: watchdog, port: port, directory: directory)
    }

    private func waitUntilAccepting(_ running: Running, addresses: [IPAddress]) async throws(HarnessError) {
        let deadline = ContinuousClock.now + startTimeout
        var waiting = addresses
        while !waiting.isEmpty {
            if !running.process.isRunning {
                throw .launchFailed(path: executable.path, reason: "nginx exited with status \(running.process.terminationStatus)\n\(log(running))")
            }
            guard ContinuousClock.now < deadline else {
                throw .launchFailed(path: executable.path, reason: "\(waiting) did not accept on port \(running.port) within \(startTimeout)\n\(log(running))")
            }
            var still: [IPAddress] = []
            for address in waiting {
                if !(await LoopbackPorts.accepts(address, port: running.port, timeout: .milliseconds(200))) { still.append(address) }
            }
            waiting = still
            if !waiting.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
        }
    }

    /// What nginx logged so far.
    private func log(_ running: Running) -> String {
        ["logs/error.log", "logs/stderr.log"].compactMap { name in
            (try? Data(contentsOf: running.directory.appendingPathComponent(name))).map { String(decoding: $0, as: UTF8.self) }
        }.joined(separator: "\n")
    }

    private func configuration(directory: URL, port: UInt16) -> String {
        let path = { (name: String) in Self.quoted(directory.appendingPathComponent(name).path) }
        var text = """
            # A private test instance of mailaudit's harness: loopback only.
            daemon off;
            master_process off;
            pid \(path("nginx.pid"));
            error_log \(path("logs/error.log")) warn;
            events { worker_connections 64; }
            http {
                access_log \(path("logs/access.log"));
                client_body_temp_path \(path("temp/body"));
                proxy_temp_path \(path("temp/proxy"));
                fastcgi_temp_path \(path("temp/fastcgi"));
                uwsgi_temp_path \(path("temp/uwsgi"));
                scgi_temp_path \(path("temp/scgi"));
                types { text/plain txt; text/html html; }
                default_type application/octet-stream;
                server_tokens off;

            """
        for (index, site) in sites.enumerated() {
            text += """
                server {
                    listen \(site.address):\(port) ssl;
                    server_name \(site.serverName);
                    ssl_certificate \(Self.quoted(site.chainFile.path));
                    ssl_certificate_key \(Self.quoted(site.chainFile.path));
                    root \(path("sites/\(index)"));
                \(site.directives)
                }

                """
        }
        return text + "}\n"
    }

    private static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    private static func emptyFile(_ url: URL) -> URL {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return url
    }
}
