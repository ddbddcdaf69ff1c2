import MailAuditCore
import Foundation
@_spi(Testing) import MailAuditHistory
import MailAuditTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tag {
    /// The run-history stores against a real SQLite file and a real PostgreSQL on 127.0.0.1.
    @Tag static var history: Self
}

/// One PostgreSQL server for the whole suite, started by the first test that needs one (so a
/// run filtered to SQLite starts none) and stopped when the suite ends.
actor SharedPostgres {
    @TaskLocal static var current: SharedPostgres?

    private var starting: Task<PostgresServer, any Error>?

    func server() async throws -> PostgresServer {
        let task = starting ?? Task {
            let server = PostgresServer()
            try await server.start()
            return server
        }
        starting = task
        return try await task.value
    }

    func stop() async {
        if let server = try? await starting?.value { server.stop() }
        starting = nil
    }

    /// The server of the suite being run.
    static func server() async throws -> PostgresServer {
        let shared = try #require(current, "the suite needs the .sharedPostgres trait")
        return try await shared.server()
    }
}

struct SharedPostgresTrait: SuiteTrait, TestScoping {
    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let shared = SharedPostgres()
        do {
            try await SharedPostgres.$current.withValue(shared) { try await function() }
        } catch {
            await shared.stop()
            throw error
        }
        await shared.stop()
    }
}

extension Trait where Self == SharedPostgresTrait {
    /// Starts one PostgreSQL for the suite on first use; stops it at the end.
    static var sharedPostgres: Self { SharedPostgresTrait() }
}

/// The run-history stores, SQLite and PostgreSQL, both against this one suite.
@Suite(.serialized, .tags(.history), .sharedPostgres)
struct HistoryStoreTests {
    // MARK: Saving and reading

    @Test(arguments: Backend.allCases)
    func savesAndReadsBackARunWithTwoDomains(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.openMigrated()
        let run = Runs.run(
            UUID().uuidString, at: 0,
            domains: [Runs.domain("example.org", failures: 1, warnings: 2), Runs.domain("example.com", inconclusive: 3)])
        try await store.save(run)

        #expect(try await store.run(id: run.id) == run, "every field, the domains in the order saved, the findings in order")
        #expect(try await store.run(id: UUID().uuidString) == nil)
        let latest = try #require(try await store.latestRun(for: "example.com", excluding: nil))
        #expect(latest == Runs.only("example.com", of: run), "latestRun carries that domain's data only")
        #expect(try await store.latestRun(for: "example.net", excluding: nil) == nil)

        let summaries = try await store.runs(for: "example.org", limit: 10)
        #expect(summaries == [
            RunSummary(
                id: run.id, startedAt: run.startedAt, finishedAt: run.finishedAt, host: run.host, toolVersion: run.toolVersion,
                domainCount: 2, failures: 1, warnings: 3, inconclusive: 3,
                domainCounts: .init(failures: 1, warnings: 2, inconclusive: 0)),
        ])
        await store.close()

        // Another connection (another process, for all the store knows) sees the same.
        let reopened = try await location.open()
        #expect(try await reopened.run(id: run.id) == run)
        await reopened.close()
    }

    @Test(arguments: Backend.allCases)
    func latestRunPicksTheNewestAndHonoursExcluding(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.openMigrated()
        let first = Runs.run("run-1", at: 1_000, domains: [Runs.domain("a.test"), Runs.domain("b.test")], host: "audit-1")
        let second = Runs.run("run-2", at: 2_000, domains: [Runs.domain("a.test", failures: 4)], host: "audit-2")
        let third = Runs.run("run-3", at: 3_000, domains: [Runs.domain("b.test", warnings: 7)], host: "audit-1")
        // Saved out of order: the newest is found by startedAt, not by when it was written.
        for run in [third, first, second] { try await store.save(run) }

        let rows: [(String, String?, StoredRun?)] = [
            ("a.test", nil, Runs.only("a.test", of: second)),
            ("a.test", "run-2", Runs.only("a.test", of: first)),
            ("a.test", "run-1", Runs.only("a.test", of: second)),
            ("b.test", nil, Runs.only("b.test", of: third)),
            ("b.test", "run-3", Runs.only("b.test", of: first)),
            ("b.test", "no-such-run", Runs.only("b.test", of: third)),
            ("c.test", nil, nil),
        ]
        for (domain, excluding, expected) in rows {
            #expect(try await store.latestRun(for: domain, excluding: excluding) == expected, "\(domain) excluding \(excluding ?? "nothing")")
        }
        let excludingTheOnlyRun = try await store.latestRun(for: "b.test", excluding: "run-3")
        #expect(excludingTheOnlyRun?.id == "run-1")

        let forA = try await store.runs(for: "a.test", limit: 10)
        #expect(forA.map(\.id) == ["run-2", "run-1"], "newest first")
        #expect(forA.map(\.host) == ["audit-2", "audit-1"])
        #expect(forA.map(\.domainCount) == [1, 2])
        #expect(forA.map(\.failures) == [4, 0], "the run's totals")
        #expect(forA.map(\.warnings) == [1, 2])
        #expect(forA.map { $0.domainCounts?.failures } == [4, 0], "that domain's counts")
        #expect(forA.first?.startedAt == second.startedAt && forA.first?.finishedAt == second.finishedAt)
        #expect(try await store.runs(for: "b.test", limit: 1).map(\.id) == ["run-3"], "limit")
        #expect(try await store.runs(for: "b.test", limit: 0).isEmpty)
        #expect(try await store.runs(for: "c.test", limit: 5).isEmpty)
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func datesAreKeptToTheMicrosecondAlikeOnBothStores(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.openMigrated()
        let started = Date(timeIntervalSince1970: 1_750_000_000.123456789)
        let run = StoredRun(
            id: "micro", startedAt: started, finishedAt: started.addingTimeInterval(0.000_000_4), toolVersion: "t", host: "h", domains: [])
        try await store.save(run)
        let read = try #require(try await store.run(id: "micro"))
        #expect(read.startedAt == HistoryTime.rounded(started))
        #expect(read.finishedAt == HistoryTime.rounded(run.finishedAt))
        #expect(HistoryTime.microseconds(read.startedAt) == 1_750_000_000_123_457)
        await store.close()
    }

    // MARK: Schema

    @Test(arguments: Backend.allCases)
    func migratingTwiceIsANoOpAndSchemaVersionSaysTheVersion(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.open()
        #expect(try await store.schemaVersion() == 0, "a new store has no schema")
        try await store.migrate()
        #expect(try await store.schemaVersion() == History.schemaVersion)
        #expect(History.schemaVersion == 1)
        let run = Runs.run("kept", at: 5, domains: [Runs.domain("a.test")])
        try await store.save(run)
        try await store.migrate()
        try await store.migrate()
        #expect(try await store.schemaVersion() == History.schemaVersion)
        #expect(try await store.run(id: "kept") == run, "migrating again keeps the data")

        // Seen from outside: one schema_version row per migration, and the same tables on both stores.
        let versions = try await location.sql("SELECT version, description FROM schema_version ORDER BY version;")
        #expect(versions.split(separator: "\n") == ["1|runs, domain_runs, findings"])
        let tables = try await location.sql(
            backend == .sqlite
                ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name;"
                : "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name;")
        let expected = ["domain_runs", "findings", "runs", "schema_version"]
            + (backend == .sqlite ? ["grdb_migrations"] : ["run_lock"])
        #expect(Set(tables.split(separator: "\n").map(String.init)) == Set(expected))
        for table in ["runs", "domain_runs", "findings"] {
            let columns = try await location.sql(
                backend == .sqlite
                    ? "SELECT name FROM pragma_table_info('\(table)') ORDER BY cid;"
                    : "SELECT column_name FROM information_schema.columns WHERE table_name = '\(table)' ORDER BY ordinal_position;")
            #expect(columns.split(separator: "\n").map(String.init) == Self.columns[table], "\(backend) \(table)")
        }
        if backend == .sqlite {
            #expect(try await location.sql("PRAGMA journal_mode;").trimmingCharacters(in: .whitespacesAndNewlines) == "wal")
        }
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func storesMigratingANewHistoryAtOnceAllSucceed(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        var stores: [any HistoryStore] = []
        for _ in 0..<4 { stores.append(try await location.open()) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            try await group.waitForAll()
        }
        for store in stores {
            #expect(try await store.schemaVersion() == History.schemaVersion)
            await store.close()
        }
        #expect(try await location.sql("SELECT COUNT(*) FROM schema_version;").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    static let columns: [String: [String]] = [
        "runs": ["id", "started_at", "finished_at", "tool_version", "host", "domain_count", "failures", "warnings", "inconclusive"],
        "domain_runs": ["run_id", "domain", "position", "started_at", "failures", "warnings", "inconclusive", "report_json"],
        "findings": ["run_id", "domain", "position", "finding_id", "subject_key", "severity", "message", "facts_json"],
    ]

    @Test(arguments: Backend.allCases)
    func aSchemaFromANewerMailauditIsRefused(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.openMigrated()
        _ = try await location.sql("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', \(backend == .sqlite ? "0" : "now()"));")
        #expect(try await store.schemaVersion() == 99)
        let error = await #expect(throws: HistoryError.self) { try await store.migrate() }
        guard case .migration(let reason)? = error else { Issue.record("expected .migration, got \(String(describing: error))"); return }
        #expect(reason.contains("99") && reason.contains("upgrade mailaudit"), "\(reason)")
        await store.close()
    }

    @Test(arguments: Backend.allCases)
    func misuseGivesClearErrors(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.open()

        let beforeMigrating = await #expect(throws: HistoryError.self) { try await store.runs(for: "a.test", limit: 1) }
        guard case .migration(let reason)? = beforeMigrating else { Issue.record("got \(String(describing: beforeMigrating))"); return }
        #expect(reason.contains("migrate"), "\(reason)")

        try await store.migrate()
        let run = Runs.run("dup", at: 1, domains: [Runs.domain("a.test")])
        try await store.save(run)
        await #expect(throws: HistoryError.storage("a run with id dup is already stored")) { try await store.save(run) }

        var twice = Runs.run("twice", at: 2, domains: [Runs.domain("a.test"), Runs.domain("a.test")])
        await #expect(throws: HistoryError.storage("run twice lists the domain a.test twice")) { try await store.save(twice) }
        twice.domains = [Runs.domain("a.test")]
        twice.domains[0].findings[0].domain = "b.test"
        await #expect(throws: HistoryError.self) { try await store.save(twice) }
        twice.domains = [Runs.domain("a.test")]
        twice.domains[0].reportJSON = Data([0x7B, 0xFF, 0x7D])
        await #expect(throws: HistoryError.self) { try await store.save(twice) }
        #expect(try await store.run(id: "twice") == nil, "a refused run leaves nothing")
        #expect(try await store.runs(for: "a.test", limit: 10).map(\.id) == ["dup"])
        await store.close()
    }

    // MARK: The run lock

    @Test(arguments: Backend.allCases)
    func aSecondRunIsRefusedWhileTheFirstHoldsTheLock(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let first = try await location.openMigrated()
        let second = try await location.open()  // another file descriptor / another connection

        let value = try await first.withRunLock(.fail) { () async throws -> Int in
            let error = await #expect(throws: HistoryError.self) {
                try await second.withRunLock(.fail) { Issue.record("the second run got the lock") }
            }
            guard case .locked(let holder)? = error else { Issue.record("expected .locked, got \(String(describing: error))"); return 0 }
            #expect(holder.contains("pid \(getpid())"), "\(holder)")
            #expect(holder.contains("on host \(Self.hostName)"), "\(holder)")
            #expect(holder.contains("since 20"), "\(holder)")
            #expect(error?.description.hasPrefix("another run holds the run-history lock: ") == true)

            let waited = await #expect(throws: HistoryError.self) {
                try await second.withRunLock(.wait(timeout: .milliseconds(300))) { Issue.record("got the lock while held") }
            }
            guard case .locked(let stillHeld)? = waited else { Issue.record("expected .locked, got \(String(describing: waited))"); return 0 }
            #expect(stillHeld.contains("still held after waiting"), "\(stillHeld)")
            return 42
        }
        #expect(value == 42, "withRunLock returns what its body returns")

        // Released after the body, also when it throws.
        struct Thrown: Error, Equatable {}
        await #expect(throws: Thrown()) { try await first.withRunLock(.fail) { () async throws -> Void in throw Thrown() } }
        try await second.withRunLock(.fail) {}
        await first.close()
        await second.close()
    }

    @Test(arguments: Backend.allCases)
    func aWaitingRunGetsTheLockWhenTheFirstReleasesIt(_ backend: Backend) async throws {
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let first = try await location.openMigrated()
        let second = try await location.open()
        let events = Events()
        let (acquired, signal) = AsyncStream<Void>.makeStream()

        let holder = Task {
            try await first.withRunLock(.fail) {
                events.list.withLock { $0.append("first acquired") }
                signal.yield()
                try await Task.sleep(for: .milliseconds(600))
                events.list.withLock { $0.append("first releasing") }
            }
        }
        for await _ in acquired { break }
        let clock = ContinuousClock()
        let start = clock.now
        try await second.withRunLock(.wait(timeout: .seconds(20))) {
            events.list.withLock { $0.append("second acquired") }
        }
        let waited = clock.now - start
        try await holder.value
        #expect(events.list.withLock { $0 } == ["first acquired", "first releasing", "second acquired"])
        #expect(waited >= .milliseconds(300), "it waited for the first run: \(waited)")
        #expect(waited < .seconds(10), "and got it soon after the release: \(waited)")
        await first.close()
        await second.close()
    }

    // MARK: Crashes

    /// A writer killed with SIGKILL in the middle of `save` leaves the history readable, with the
    /// runs saved before and nothing of the run it was writing; its run lock goes with it.
    ///
    /// The writer is this test binary run again with `CrashChild`'s environment, filtered to this
    /// test: in that child this test becomes the writer (``CrashChild/run()``) and never returns.
    @Test(arguments: Backend.allCases, CrashPoint.allCases)
    func killDuringWriteLeavesNoHalfRun(_ backend: Backend, _ point: CrashPoint) async throws {
        if CrashChild.isChild {
            if CrashChild.role == CrashChild.role(backend, point) { await CrashChild.run(backend, point) }
            return
        }
        let location = try await StoreLocation.fresh(backend)
        defer { location.remove() }
        let store = try await location.openMigrated()
        let before = [
            Runs.run("before-1", at: 10, domains: [Runs.domain("bulk-0.test"), Runs.domain("example.com")]),
            Runs.bulk("before-2", at: 20, domainCount: 20, findingsEach: 5),
        ]
        for run in before { try await store.save(run) }
        let crashing = "crash-\(UUID().uuidString)"

        let child = try CrashChild.spawn(backend, point, store: location.address, runID: crashing)
        defer { child.cleanUp() }
        switch point {
        case .pausedMidTransaction:
            try await child.waitForMarker(timeout: .seconds(120)) { $0.contains("paused") }
            // The child holds the run lock: another process is refused, and told who holds it.
            let error = await #expect(throws: HistoryError.self) { try await store.withRunLock(.fail) {} }
            if case .locked(let holder)? = error {
                #expect(holder.contains("pid \(child.pid)"), "\(holder)")
            } else {
                Issue.record("expected .locked, got \(String(describing: error))")
            }
        case .loopOfLargeSaves:
            // Two large runs committed, a third begun; then a moment into it.
            try await child.waitForMarker(timeout: .seconds(180)) { text in
                let lines = text.split(separator: "\n")
                return lines.filter { $0.hasPrefix("end") }.count >= 2 && lines.last?.hasPrefix("begin") == true
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...60)))
        }
        let status = try await child.sigkill()
        #expect(status.signalled && status.code == SIGKILL, "the child was killed, not finished: \(status) \(child.output)")
        let marker = child.marker

        // The history opens and reads, with every earlier run as it was.
        await store.close()
        let after = try await location.openMigrated()
        for run in before { #expect(try await after.run(id: run.id) == run) }
        #expect(try await after.latestRun(for: "example.com", excluding: nil) == Runs.only("example.com", of: before[0]))
        switch point {
        case .pausedMidTransaction:
            #expect(try await after.run(id: crashing) == nil, "nothing of the run being written")
            #expect(try await after.runs(for: "bulk-0.test", limit: 100).map(\.id) == ["before-2", "before-1"])
            #expect(try await after.latestRun(for: "bulk-199.test", excluding: nil) == nil)
        case .loopOfLargeSaves:
            let summaries = try await after.runs(for: "bulk-0.test", limit: 1_000)
            let ended = marker.split(separator: "\n").filter { $0.hasPrefix("end") }.count
            let begun = marker.split(separator: "\n").filter { $0.hasPrefix("begin") }.count
            let crashRuns = summaries.filter { $0.id.hasPrefix("crash-") }
            #expect(crashRuns.count >= ended && crashRuns.count <= begun, "\(crashRuns.count) runs; \(ended) ended, \(begun) begun")
            for summary in crashRuns {
                let run = try #require(try await after.run(id: summary.id))
                #expect(run.domains.count == 200 && summary.domainCount == 200, "\(summary.id) is whole")
                #expect(run.domains.allSatisfy { $0.findings.count == 25 }, "\(summary.id) has all its findings")
            }
        }
        // The killed writer's lock went with it (PostgreSQL may need a moment to see the connection gone).
        let mode: HistoryLockMode = backend == .sqlite ? .fail : .wait(timeout: .seconds(15))
        try await after.withRunLock(mode) {
            try await after.save(Runs.run("after", at: 30, domains: [Runs.domain("example.com")]))
        }
        #expect(try await after.latestRun(for: "example.com", excluding: nil)?.id == "after")
        await after.close()
    }

    // MARK: Errors

    @Test func sqliteOpenErrorsNameThePathAndTheReason() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage.db")
        try Data(String(repeating: "this is not a SQLite database\n", count: 200).utf8).write(to: garbage)

        let rows: [(path: String, expected: String, why: String)] = [
            (directory.appendingPathComponent("missing/history.db").path, "does not exist", "the directory is not created"),
            (directory.path, "is a directory", "a directory where the file should be"),
            (garbage.path, "not a database", "a file that is not SQLite"),
            ("", "no SQLite path", "an empty path"),
        ]
        for row in rows {
            let error = await #expect(throws: HistoryError.self, "\(row.why)") { try await History.open(sqlitePath: row.path) }
            guard case .cannotOpen(let reason)? = error else { Issue.record("\(row.why): got \(String(describing: error))"); continue }
            #expect(reason.contains(row.expected), "\(row.why): \(reason)")
            #expect(row.path.isEmpty || reason.contains(row.path), "\(row.why): names the path: \(reason)")
            #expect(error?.description.hasPrefix("cannot open the run history: ") == true)
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing").path))
    }

    @Test func postgresURLErrorsAreClearAndHideThePassword() async throws {
        let server = try await SharedPostgres.server()
        let port = try #require(server.port)
        let closed = try Loopback.freePort()
        let secret = "Hunter2-Secret"
        let rows: [(url: String, expected: String, why: String)] = [
            ("mysql://audit:\(secret)@127.0.0.1/history", "postgres://", "another scheme"),
            ("postgres://127.0.0.1:\(port)/history", "no user name", "no user"),
            ("postgres://audit:\(secret)@127.0.0.1:\(port)", "no database name", "no database"),
            ("postgres://audit:\(secret)@127.0.0.1:\(port)/history?sslmode=sometimes", "sslmode must be one of", "a bad sslmode"),
            ("postgres://audit@127.0.0.1:\(port)/history?password=\(secret)", "unknown parameter \"password\"", "a password parameter"),
            ("postgres://audit:\(secret)@127.0.0.1:99999/history", "99999", "a bad port"),
            ("postgres://audit:\(secret)@127.0.0.1:\(closed)/history?sslmode=disable&connect_timeout=5", "cannot connect", "nothing listening"),
            ("postgres://mailaudit:\(secret)@127.0.0.1:\(port)/no_such_database?sslmode=disable", "does not exist", "no such database"),
            ("postgres://nobody@127.0.0.1:\(port)/mailaudit_history?sslmode=disable", "role \"nobody\" does not exist", "no such role"),
            ("not a url at all :\(secret)@", "not a URL", "not a URL"),
        ]
        for row in rows {
            let error = await #expect(throws: HistoryError.self, "\(row.why)") { try await History.open(postgresURL: row.url) }
            guard case .cannotOpen(let reason)? = error else { Issue.record("\(row.why): got \(String(describing: error))"); continue }
            #expect(reason.contains(row.expected), "\(row.why): \(reason)")
            for text in [reason, "\(error!)", String(reflecting: error!)] {
                #expect(!text.contains(secret), "\(row.why): the password shows: \(text)")
            }
        }
    }

    @Test func aWrongPasswordIsRefusedWithoutShowingIt() async throws {
        let password = "Corr3ct-Horse/Battery:Stäple@1"
        let server = PostgresServer(authentication: .password(password))
        try await server.start()
        defer { server.stop() }

        // The right password, in the URL (percent-encoded) or given apart, opens the store.
        for store in [
            try await History.open(postgresURL: try server.url(password: password)),
            try await History.open(postgresURL: try server.url(), password: password),
        ] {
            try await store.migrate()
            #expect(try await store.schemaVersion() == History.schemaVersion)
            await store.close()
        }

        let wrong = "Wr0ng-Horse-Battery"
        let attempts: [(String, () async throws(HistoryError) -> any HistoryStore)] = [
            ("wrong in the URL", { () async throws(HistoryError) in try await History.open(postgresURL: try! server.url(password: wrong)) }),
            ("wrong given apart", { () async throws(HistoryError) in try await History.open(postgresURL: try! server.url(), password: wrong) }),
            ("wrong apart, right in the URL", { () async throws(HistoryError) in
                try await History.open(postgresURL: try! server.url(password: password), password: wrong)
            }),
            ("none", { () async throws(HistoryError) in try await History.open(postgresURL: try! server.url()) }),
        ]
        for (why, attempt) in attempts {
            let error = await #expect(throws: HistoryError.self, "\(why)") { try await attempt() }
            guard case .cannotOpen(let reason)? = error else { Issue.record("\(why): got \(String(describing: error))"); continue }
            #expect(
                reason.contains("password authentication failed") || reason.contains("asks for a password"), "\(why): \(reason)")
            for text in [reason, "\(error!)", String(reflecting: error!)] {
                for secret in [password, wrong, password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                               wrong.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!] {
                    #expect(!text.contains(secret), "\(why): a password shows: \(text)")
                }
            }
        }
        let log = server.log
        #expect(!log.contains(password) && !log.contains(wrong), "nor in the server's log")
    }

    /// What the lock test's tasks did, in order.
    final class Events: Sendable {
        let list = Locked<[String]>([])
    }

    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

// MARK: - Helpers

extension HistoryStoreTests {
    /// The two stores; every test that can runs against both.
    enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    /// An empty store of one backend, for one test: a new SQLite file in a new directory, or a
    /// new database on the shared server.
    struct StoreLocation: Sendable, CustomStringConvertible {
        var backend: Backend
        /// The SQLite path or the PostgreSQL URL.
        var address: String
        /// The SQLite file's directory, removed by `remove()`.
        var directory: URL?

        static func fresh(_ backend: Backend) async throws -> StoreLocation {
            switch backend {
            case .sqlite:
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-history-\(UUID().uuidString)")
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                return StoreLocation(backend: .sqlite, address: directory.appendingPathComponent("history.db").path, directory: directory)
            case .postgres:
                return StoreLocation(backend: .postgres, address: try await SharedPostgres.server().createDatabase())
            }
        }

        func open() async throws(HistoryError) -> any HistoryStore {
            switch backend {
            case .sqlite: try await History.open(sqlitePath: address)
            case .postgres: try await History.open(postgresURL: address)
            }
        }

        func openMigrated() async throws -> any HistoryStore {
            let store = try await open()
            try await store.migrate()
            return store
        }

        func remove() {
            if let directory { try? FileManager.default.removeItem(at: directory) }
        }

        /// The database name, for `psql`.
        var postgresDatabase: String? {
            guard backend == .postgres, let components = URLComponents(string: address) else { return nil }
            return String(components.path.dropFirst())
        }

        /// Runs SQL beside the store, outside of it: `sqlite3` on the file, `psql` as superuser on the database.
        func sql(_ text: String) async throws -> String {
            switch backend {
            case .sqlite:
                let result = try await runProcess(
                    URL(fileURLWithPath: "/usr/bin/sqlite3"), ["-batch", "-bail", address], standardInput: Data(text.utf8))
                try #require(result.exitCode == 0, "\(result)")
                return result.stdout
            case .postgres:
                return try await SharedPostgres.server().psql(text, database: postgresDatabase)
            }
        }

        var description: String { "\(backend) \(address)" }
    }

    /// Runs made up for the tests. Dates are whole milliseconds, which both stores keep exactly.
    enum Runs {
        static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_750_000_000 + seconds) }

        static func finding(_ domain: String, _ id: String, _ severity: String, subject: String? = nil) -> StoredFinding {
            StoredFinding(
                domain: domain, findingID: id, subjectKey: subject ?? "\(domain)|mx1.\(domain)|192.0.2.1", severity: severity,
                message: "\(id) for \(domain): “quoted” text, ü, and a 'single' quote",
                factsJSON: #"{"domain":"\#(domain)","policy":"none","count":2,"nested":{"ok":true}}"#)
        }

        static func domain(_ name: String, failures: Int = 0, warnings: Int = 1, inconclusive: Int = 0) -> StoredDomain {
            StoredDomain(
                domain: name, failures: failures, warnings: warnings, inconclusive: inconclusive,
                reportJSON: Data(#"{"domain":"\#(name)","records":{"txt":["v=spf1 mx -all","v=DMARC1; p=none"]},"note":"é ✓ \"x\""}"#.utf8),
                findings: [
                    finding(name, "dmarc.policy-none", "warning"),
                    finding(name, "spf.present", "pass", subject: name),
                    finding(name, "mx.probe-timeout", "inconclusive", subject: "\(name)|mx2.\(name)|2001:db8::25"),
                ])
        }

        static func run(_ id: String, at seconds: Double, domains: [StoredDomain], host: String = "audit-1.example") -> StoredRun {
            StoredRun(
                id: id, startedAt: date(seconds), finishedAt: date(seconds + 12.345), toolVersion: "mailaudit 0.9.0-test", host: host,
                domains: domains)
        }

        /// A large run for the crash tests: `domainCount` domains `bulk-N.test` with `findingsEach` findings each.
        static func bulk(_ id: String, at seconds: Double, domainCount: Int = 200, findingsEach: Int = 25) -> StoredRun {
            let domains = (0..<domainCount).map { index in
                let name = "bulk-\(index).test"
                return StoredDomain(
                    domain: name, failures: 1, warnings: 2, inconclusive: 0,
                    reportJSON: Data(#"{"domain":"\#(name)","padding":"\#(String(repeating: "x", count: 2_000))"}"#.utf8),
                    findings: (0..<findingsEach).map { finding(name, "bulk.finding-\($0)", "warning", subject: "\(name)|\($0)") })
            }
            return StoredRun(id: id, startedAt: date(seconds), finishedAt: date(seconds + 1), toolVersion: "bulk", host: "crash-child", domains: domains)
        }

        /// `run` with only `domain`'s data, as `latestRun(for:excluding:)` returns it.
        static func only(_ domain: String, of run: StoredRun) -> StoredRun {
            var run = run
            run.domains = run.domains.filter { $0.domain == domain }
            return run
        }
    }

    /// Where a crash child stops: inside `save`'s transaction, blocked (deterministic), or at a
    /// random moment of a loop of large saves.
    enum CrashPoint: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case pausedMidTransaction, loopOfLargeSaves
        var testDescription: String { rawValue }
    }

    /// The writer that `killDuringWriteLeavesNoHalfRun` kills: this test binary, run again with
    /// `MAILAUDIT_HISTORY_CRASH_CHILD` set and filtered to that test. Every other test in the suite
    /// returns at once in the child; the crash test becomes the writer for its backend and crash
    /// point and never returns: it is killed, or exits when the parent is gone or after two minutes.
    enum CrashChild {
        static let roleVariable = "MAILAUDIT_HISTORY_CRASH_CHILD"
        static let storeVariable = "MAILAUDIT_HISTORY_CRASH_STORE"
        static let markerVariable = "MAILAUDIT_HISTORY_CRASH_MARKER"
        static let parentVariable = "MAILAUDIT_HISTORY_CRASH_PARENT"
        static let runVariable = "MAILAUDIT_HISTORY_CRASH_RUN"

        static var role: String? { ProcessInfo.processInfo.environment[roleVariable] }
        static var isChild: Bool { role != nil }
        static func role(_ backend: Backend, _ point: CrashPoint) -> String { "\(backend.rawValue).\(point.rawValue)" }

        /// A spawned child.
        final class Handle: Sendable {
            let process: ProcessBox
            let directory: URL
            var pid: Int32 { process.process.processIdentifier }
            var markerURL: URL { directory.appendingPathComponent("marker") }
            var marker: String { (try? String(contentsOf: markerURL, encoding: .utf8)) ?? "" }
            var output: String {
                let read = { (name: String) in (try? String(contentsOf: self.directory.appendingPathComponent(name), encoding: .utf8)) ?? "" }
                return "\n--- child stdout ---\n\(read("stdout").suffix(4_000))\n--- child stderr ---\n\(read("stderr").suffix(4_000))"
            }

            init(process: ProcessBox, directory: URL) {
                self.process = process
                self.directory = directory
            }

            /// Polls the marker file until `done` says so; fails when the child exits first or time runs out.
            func waitForMarker(timeout: Duration, _ done: (String) -> Bool) async throws {
                let deadline = ContinuousClock.now + timeout
                while !done(marker) {
                    try #require(process.process.isRunning, "the child exited: \(process.process.terminationStatus)\(output)")
                    try #require(ContinuousClock.now < deadline, "the child did not get there in \(timeout): \(marker)\(output)")
                    try await Task.sleep(for: .milliseconds(10))
                }
            }

            /// SIGKILL, then waits for the child to be gone.
            func sigkill() async throws -> (code: Int32, signalled: Bool) {
                _ = kill(pid, SIGKILL)
                let deadline = ContinuousClock.now + .seconds(10)
                while process.process.isRunning {
                    try #require(ContinuousClock.now < deadline, "the child outlived SIGKILL")
                    try await Task.sleep(for: .milliseconds(10))
                }
                return (process.process.terminationStatus, process.process.terminationReason == .uncaughtSignal)
            }

            func cleanUp() {
                if process.process.isRunning { _ = kill(pid, SIGKILL) }
                try? FileManager.default.removeItem(at: directory)
            }
        }

        /// Process is not Sendable; the test touches it from one task at a time.
        final class ProcessBox: @unchecked Sendable {
            let process: Process
            init(_ process: Process) { self.process = process }
        }

        /// Starts this test binary again as the writer for `backend` and `point` on `store`.
        static func spawn(_ backend: Backend, _ point: CrashPoint, store: String, runID: String) throws -> Handle {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-crash-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("marker").path, contents: nil)
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("stdout").path, contents: nil)
            _ = FileManager.default.createFile(atPath: directory.appendingPathComponent("stderr").path, contents: nil)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = ["--testing-library", "swift-testing", "--filter", "killDuringWriteLeavesNoHalfRun"]
            process.environment = ProcessInfo.processInfo.environment.merging([
                roleVariable: role(backend, point),
                storeVariable: store,
                markerVariable: directory.appendingPathComponent("marker").path,
                parentVariable: String(getpid()),
                runVariable: runID,
            ]) { $1 }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = try FileHandle(forWritingTo: directory.appendingPathComponent("stdout"))
            process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent("stderr"))
            try process.run()
            return Handle(process: ProcessBox(process), directory: directory)
        }

        // MARK: In the child

        /// The writer: opens the store, takes the run lock, and saves large runs — stopping inside
        /// the first one's transaction for `.pausedMidTransaction`, or saving one after another for
        /// `.loopOfLargeSaves`, with `begin N` and `end N` lines in the marker file around each.
        static func run(_ backend: Backend, _ point: CrashPoint) async -> Never {
            let environment = ProcessInfo.processInfo.environment
            guard let store = environment[storeVariable], let markerPath = environment[markerVariable],
                  let parent = environment[parentVariable].flatMap({ Int32($0) }), let runID = environment[runVariable]
            else { die("the crash child's environment is incomplete") }
            let marker = open(markerPath, O_WRONLY | O_APPEND | O_CLOEXEC)
            let note: @Sendable (String) -> Void = { line in _ = (line + "\n").withCString { write(marker, $0, strlen($0)) } }
            let started = ContinuousClock.now
            let parentAlive: @Sendable () -> Bool = { kill(parent, 0) == 0 && ContinuousClock.now - started < .seconds(240) }
            let midWrite: @Sendable () -> Void = {
                guard point == .pausedMidTransaction else { return }
                note("paused")
                // Blocks inside the transaction until killed (or orphaned).
                while parentAlive() { usleep(50_000) }
                die("the parent is gone")
            }
            do {
                let history: any HistoryStore = switch backend {
                case .sqlite: try await History.open(sqlitePath: store, midWrite: midWrite)
                case .postgres: try await History.open(postgresURL: store, midWrite: midWrite)
                }
                try await history.withRunLock(.wait(timeout: .seconds(30))) {
                    var index = 0
                    while parentAlive() {
                        let id = index == 0 ? runID : "crash-\(UUID().uuidString)"
                        note("begin \(index) \(id)")
                        try await history.save(Runs.bulk(id, at: 100 + Double(index)))
                        note("end \(index) \(id)")
                        index += 1
                    }
                }
                die("the parent is gone")
            } catch {
                die("the crash child failed: \(error)")
            }
        }

        private static func die(_ message: String) -> Never {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            exit(3)
        }
    }
}
