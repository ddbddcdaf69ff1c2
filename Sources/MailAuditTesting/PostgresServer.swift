public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL server on 127.0.0.1, for the run-history tests.
///
/// ```swift
/// let postgres = PostgresServer()                       // or PostgresServer(authentication: .password("s3cret"))
/// try await postgres.start()
/// defer { postgres.stop() }
/// let url = try postgres.requireURL()                   // postgres://mailaudit@127.0.0.1:54321/mailaudit_history?sslmode=disable
/// let fresh = try await postgres.createDatabase()       // a new empty database, for one test
/// ```
///
/// `start()` runs `initdb` into its own temporary directory and then
/// `postgres -D DIR/data -k DIR -h 127.0.0.1 -p PORT` on a free port. PostgreSQL refuses to run
/// as root, so as root (CI) both run as the `postgres` OS user through `setpriv`, and the
/// directory is given to that user. The superuser `postgres` may log in over the Unix socket in
/// the directory without a password (for ``psql(_:database:)``); over TCP, the test role
/// ``role`` logs in with `trust`, or with its password (SCRAM-SHA-256) for
/// ``Authentication/password(_:)``. The role owns the database ``database``. `fsync` is off:
/// these servers hold nothing worth keeping.
///
/// `start()` returns once the server accepts connections and the role and database exist.
/// `stop()` (or `deinit`) does a fast shutdown (SIGINT; SIGKILL after five seconds) and removes
/// the directory, and a small shell watchdog does the same if the test process dies first.
/// Call `start()` and `stop()` from one task at a time.
public final class PostgresServer: Sendable {
    /// How the test role logs in over TCP.
    public enum Authentication: Hashable, Sendable {
        /// Without a password.
        case trust
        /// With this password, by SCRAM-SHA-256; any other password is refused.
        case password(String)
    }

    public let authentication: Authentication
    /// The role the URLs name, for example `mailaudit`.
    public let role: String
    /// The database ``url`` names, owned by ``role``.
    public let database: String
    /// Where `initdb`, `postgres`, `pg_isready` and `psql` are; nil finds the newest
    /// `/usr/lib/postgresql/*/bin`.
    public let binDirectory: URL?
    /// How long `start()` waits for the server to accept connections.
    public let startTimeout: Duration

    private let state = RunningState<Running>()

    private struct Running {
        var process: Process
        var watchdog: Process?
        var port: UInt16
        var directory: URL
        var bin: URL
    }

    /// - Parameters:
    ///   - role: a plain SQL name (letters, digits, `_`), as is `database`.
    public init(
        authentication: Authentication = .trust, role: String = "mailaudit", database: String = "mailaudit_history",
        binDirectory: URL? = nil, startTimeout: Duration = .seconds(30)
    ) {
        self.authentication = authentication
        self.role = role
        self.database = database
        self.binDirectory = binDirectory
        self.startTimeout = startTimeout
    }

    deinit { stop() }

    /// The TCP port on 127.0.0.1, or nil when the server is not running.
    public var port: UInt16? { state.read(\.port) }

    /// `postgres://ROLE@127.0.0.1:PORT/DATABASE?sslmode=disable` (never with the password), or
    /// nil when the server is not running.
    public var url: String? { try? url() }

    /// What the server logged so far (DIR/postgres.log).
    public var log: String {
        guard let directory = state.read(\.directory),
              let data = try? Data(contentsOf: directory.appendingPathComponent("postgres.log")) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// ``url``, for call sites that need one.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func requireURL() throws(HarnessError) -> String {
        try url()
    }

    /// The URL of `database` (``database`` when nil) for ``role``, with `password` in it
    /// (percent-encoded) when given.
    ///
    /// - Throws: ``HarnessError/notRunning(_:)`` before `start()` or after `stop()`.
    public func url(database: String? = nil, password: String? = nil) throws(HarnessError) -> String {
        guard let port else { throw .notRunning("PostgreSQL") }
        let secret = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) } ?? ""
        return "postgres://\(role)\(secret)@\(Loopback.host):\(port)/\(database ?? self.database)?sslmode=disable"
    }

    /// Starts the server and returns once it accepts connections and ``role`` and ``database`` exist.
    ///
    /// Retries on a new port when the chosen one was taken in the meantime.
    /// - Throws: ``HarnessError/launchFailed(path:reason:)`` with the server's log when PostgreSQL
    ///   is not installed, `initdb` fails, or the server exits or does not answer within `startTimeout`.
    public func start() async throws(HarnessError) {
        guard port == nil else { return }
        guard Self.isPlainName(role), Self.isPlainName(database) else {
            throw .launchFailed(path: "postgres", reason: "role and database must be plain SQL names: \(role), \(database)")
        }
        let bin: URL
        if let binDirectory { bin = binDirectory } else { bin = try Self.findBinDirectory() }
        var lastError = HarnessError.launchFailed(path: bin.path, reason: "not tried")
        for _ in 0..<3 {
            let running: Running
            do {
                running = try await launch(bin: bin)
            } catch {
                lastError = error
                guard case .launchFailed(_, let reason) = error,
                      reason.contains("could not bind") || reason.contains("already in use") else { throw error }
                continue
            }
            state.store(running)
            do {
                try await createRoleAndDatabase()
                return
            } catch {
                stop()
                throw error
            }
        }
        throw lastError
    }

    /// Fast shutdown (SIGINT, then SIGKILL after five seconds), then removes the directory.
    /// Safe to call more than once.
    public func stop() {
        guard let running = state.take() else { return }
        let process = running.process
        LocalServerProcess.terminate(
            grace: .seconds(5), isRunning: { process.isRunning }, terminate: { _ = kill(process.processIdentifier, SIGINT) },
            forceKill: { _ = kill(process.processIdentifier, SIGKILL) })
        if let watchdog = running.watchdog, watchdog.isRunning { watchdog.terminate() }
        try? FileManager.default.removeItem(at: running.directory)
    }

    /// Creates a new, empty database owned by ``role`` and returns its URL (without password),
    /// so that each test can start from nothing.
    ///
    /// - Parameter name: a plain SQL name; nil makes up `t_` and 16 random hex digits.
    /// - Throws: ``HarnessError/launchFailed(path:reason:)`` when `psql` fails.
    public func createDatabase(_ name: String? = nil) async throws(HarnessError) -> String {
        let name = name ?? "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        guard Self.isPlainName(name) else { throw .launchFailed(path: "psql", reason: "not a plain SQL name: \(name)") }
        _ = try await psql("CREATE DATABASE \(name) OWNER \(role);")
        return try url(database: name)
    }

    /// Runs `sql` with `psql` as the superuser over the Unix socket, in `database` (``database``
    /// when nil), and returns what it printed: unaligned rows, `|` between columns, one per line.
    ///
    /// - Throws: ``HarnessError/launchFailed(path:reason:)`` with psql's output when it fails.
    @discardableResult
    public func psql(_ sql: String, database: String? = nil) async throws(HarnessError) -> String {
        guard let running = state.read({ $0 }) else { throw .notRunning("PostgreSQL") }
        let psql = running.bin.appendingPathComponent("psql")
        let result = try await runProcess(
            psql,
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", running.directory.path, "-p", String(running.port),
             "-U", "postgres", "-d", database ?? self.database],
            environment: ["PGCONNECT_TIMEOUT": "10", "LC_ALL": "C"],
            standardInput: Data(sql.utf8), timeout: .seconds(60))
        guard result.exitCode == 0, !result.terminatedBySignal else {
            throw .launchFailed(path: psql.path, reason: "psql: \(result)")
        }
        return result.stdout
    }

    // MARK: Launching

    /// initdb, then the server, then waits until it accepts connections. On failure everything
    /// is stopped and removed and the error carries the log.
    private func launch(bin: URL) async throws(HarnessError) -> Running {
        let fileManager = FileManager.default
        let directory = LocalServerProcess.temporaryDirectory("postgres")
        let data = directory.appendingPathComponent("data")
        let logURL = directory.appendingPathComponent("postgres.log")
        let port = try Loopback.freePort()
        let user = try Self.serverUser()
        do {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            _ = fileManager.createFile(atPath: logURL.path, contents: nil)
        } catch {
            throw .launchFailed(path: directory.path, reason: "\(error)")
        }
        if let user { _ = chown(directory.path, user.uid, user.gid) }
        // The watchdog starts first, so that a test process killed during initdb leaves nothing behind.
        let watchdog = await Self.watchdog(directory: directory)
        func fail(_ reason: String) -> HarnessError {
            let log = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            watchdog?.terminate()
            try? fileManager.removeItem(at: directory)
            return .launchFailed(path: bin.appendingPathComponent("postgres").path, reason: reason + "\n--- postgres log ---\n" + log)
        }

        let hostAuthentication = authentication == .trust ? "trust" : "scram-sha-256"
        let (initdb, initdbArguments) = Self.asServerUser(
            user, bin.appendingPathComponent("initdb"),
            ["-D", data.path, "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync",
             "--auth-local=trust", "--auth-host=\(hostAuthentication)"])
        let initialised: ProcessResult
        do {
            initialised = try await runProcess(
                initdb, initdbArguments, environment: ["LC_ALL": "C"], currentDirectory: directory, timeout: .seconds(120))
        } catch {
            throw fail("initdb: \(error)")
        }
        guard initialised.exitCode == 0, !initialised.terminatedBySignal else { throw fail("initdb: \(initialised)") }

        let process = Process()
        let (postgres, arguments) = Self.asServerUser(
            user, bin.appendingPathComponent("postgres"),
            ["-D", data.path, "-k", directory.path, "-h", Loopback.host, "-p", String(port),
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "shared_buffers=16MB", "-c", "max_connections=60", "-c", "logging_collector=off",
             "-c", "log_min_messages=warning", "-c", "password_encryption=scram-sha-256"])
        do {
            process.executableURL = postgres
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = ProcessInfo.processInfo.environment.merging(["LC_ALL": "C"]) { $1 }
            process.standardInput = FileHandle.nullDevice
            let logHandle = try FileHandle(forWritingTo: logURL)
            logHandle.seekToEndOfFile()
            process.standardOutput = logHandle
            process.standardError = logHandle
        } catch {
            throw fail("\(error)")
        }
        do {
            try await launchWithDefaultSignalMask(process)
        } catch {
            throw fail("\(error)")
        }
        let running = Running(process: process, watchdog: watchdog, port: port, directory: directory, bin: bin)
        do {
            try await waitUntilAccepting(running)
        } catch {
            LocalServerProcess.terminate(
                grace: .seconds(5), isRunning: { process.isRunning }, terminate: { _ = kill(process.processIdentifier, SIGINT) },
                forceKill: { _ = kill(process.processIdentifier, SIGKILL) })
            throw fail("\(error)")
        }
        return running
    }

    /// Polls with `pg_isready` until the server accepts connections, exits, or the timeout passes.
    private func waitUntilAccepting(_ running: Running) async throws(HarnessError) {
        let isReady = running.bin.appendingPathComponent("pg_isready")
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if !running.process.isRunning {
                throw .launchFailed(path: "postgres", reason: "postgres exited with status \(running.process.terminationStatus)")
            }
            let probe = try await runProcess(
                isReady, ["-q", "-h", Loopback.host, "-p", String(running.port), "-t", "1", "-d", "postgres", "-U", "postgres"],
                timeout: .seconds(5))
            if probe.exitCode == 0 { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
        throw .launchFailed(path: "postgres", reason: "not accepting connections on \(Loopback.host):\(running.port) within \(startTimeout)")
    }

    private func createRoleAndDatabase() async throws(HarnessError) {
        let login: String
        switch authentication {
        case .trust: login = "LOGIN"
        case .password(let password): login = "LOGIN PASSWORD '\(password.replacingOccurrences(of: "'", with: "''"))'"
        }
        // Through standard input, so that the password never shows in `ps`.
        _ = try await psql("CREATE ROLE \(role) \(login);", database: "postgres")
        _ = try await psql("CREATE DATABASE \(database) OWNER \(role);", database: "postgres")
    }

    // MARK: The OS user

    /// The `postgres` OS user to run the server as when this process is root (PostgreSQL will
    /// not run as root); nil when not root, and the server runs as this user.
    private static func serverUser() throws(HarnessError) -> (uid: uid_t, gid: gid_t)? {
        guard getuid() == 0 else { return nil }
        guard let entry = getpwnam("postgres") else {
            throw .launchFailed(path: "postgres", reason: "running as root, and there is no postgres OS user to run the server as")
        }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// `executable arguments…` as is, or through `setpriv` as `user` (which then execs it: the
    /// pid stays the server's, for signals).
    private static func asServerUser(_ user: (uid: uid_t, gid: gid_t)?, _ executable: URL, _ arguments: [String]) -> (URL, [String]) {
        guard let user else { return (executable, arguments) }
        return (
            URL(fileURLWithPath: "/usr/bin/setpriv"),
            ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--", executable.path] + arguments
        )
    }

    /// The newest `/usr/lib/postgresql/VERSION/bin` that has `initdb` (Debian's layout).
    private static func findBinDirectory() throws(HarnessError) -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .compactMap { name in Int(name).map { ($0, name) } }
            .sorted { $0.0 > $1.0 }
        for (_, name) in versions {
            let bin = root.appendingPathComponent(name).appendingPathComponent("bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        throw .launchFailed(
            path: root.path + "/*/bin/initdb", reason: "PostgreSQL is not installed (scripts/setup installs the postgresql package)")
    }

    private static func isPlainName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return name.count <= 63 && name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
    }

    /// A shell loop that ends when `stop()` removes the directory; if this process dies first,
    /// it stops the server named in DIR/data/postmaster.pid (fast shutdown, then SIGKILL) and
    /// removes the directory.
    private static func watchdog(directory: URL) async -> Process? {
        await LocalServerProcess.watchdog(
            "postgres-watchdog",
            script: """
                while kill -0 "$1" 2>/dev/null; do [ -d "$2" ] || exit 0; sleep 0.5; done
                pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null)
                if [ -n "$pid" ]; then
                  kill -INT "$pid" 2>/dev/null
                  for i in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
                  kill -KILL "$pid" 2>/dev/null
                fi
                rm -rf "$2"
                """,
            arguments: [String(getpid()), directory.path])
    }
}
