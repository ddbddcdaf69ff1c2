import Foundation
import GRDB

/// The run history in one SQLite file, through GRDB: a `DatabasePool` in WAL mode (readers
/// never wait for the writer), versioned migrations with `DatabaseMigrator`, each `save` in one
/// write transaction, and the run lock on `PATH.lock` (``RunLockFile``).
///
/// A process killed during `save` leaves its transaction uncommitted in the WAL (or in no file
/// at all), and SQLite ignores it when the file is next opened: the run is absent, never half there.
final class SQLiteHistoryStore: HistoryStore {
    let path: String
    private let pool: DatabasePool
    private let lock: RunLockFile
    /// Called inside `save`'s transaction after the run's `runs` and `domain_runs` rows and
    /// before its findings: the crash tests stop there (see `History.open(sqlitePath:midWrite:)`).
    private let midWrite: (@Sendable () -> Void)?

    private init(path: String, pool: DatabasePool, midWrite: (@Sendable () -> Void)?) {
        self.path = path
        self.pool = pool
        self.lock = RunLockFile(path: path + ".lock")
        self.midWrite = midWrite
    }

    /// Opens (creating when missing) the database at `path`, whose directory must exist.
    ///
    /// - Throws: ``HistoryError/cannotOpen(_:)`` naming the path: a missing directory, a
    ///   directory where the file should be, a file that is not a SQLite database, no permission.
    static func open(path: String, midWrite: (@Sendable () -> Void)? = nil) async throws(HistoryError) -> SQLiteHistoryStore {
        guard !path.isEmpty else { throw .cannotOpen("no SQLite path given") }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .cannotOpen("\(path): the directory \(directory) does not exist")
        }
        guard isDirectory.boolValue else { throw .cannotOpen("\(path): \(directory) is not a directory") }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw .cannotOpen("\(path) is a directory, not a SQLite file")
        }
        // Opening sets WAL mode, which waits on another writer: off the cooperative pool.
        let opened: Result<DatabasePool, HistoryError> = await Blocking.run {
            var configuration = Configuration()
            configuration.label = "mailaudit.history"
            // Another process writing: wait for it rather than fail (its transactions are short).
            configuration.busyMode = .timeout(15)
            configuration.maximumReaderCount = 2
            do {
                let pool = try DatabasePool(path: path, configuration: configuration)
                // A file that is not a database fails here, not at the first query.
                _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sqlite_master") }
                return .success(pool)
            } catch {
                return .failure(.cannotOpen("\(path): \(Self.describe(error))"))
            }
        }
        return SQLiteHistoryStore(path: path, pool: try opened.get(), midWrite: midWrite)
    }

    // MARK: Schema

    private static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        for migration in HistorySchema.migrations {
            migrator.registerMigration("v\(migration.version) \(migration.description)") { db in
                try db.execute(sql: createSchemaVersion)
                for statement in migration.sqlite { try db.execute(sql: statement) }
                try db.execute(
                    sql: "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    arguments: [migration.version, migration.description, HistoryTime.microseconds(Date())])
            }
        }
        return migrator
    }()

    private static let createSchemaVersion = """
        CREATE TABLE IF NOT EXISTS schema_version (
            version INTEGER PRIMARY KEY NOT NULL,
            description TEXT NOT NULL,
            applied_at INTEGER NOT NULL
        )
        """

    func migrate() async throws(HistoryError) {
        let found = try await schemaVersion()
        guard found <= HistorySchema.version else { throw HistorySchema.tooNew(found) }
        guard var failure = await runMigrator() else { return }
        // GRDB reads which migrations are applied before taking the write lock, so two processes
        // migrating a new file at once may both try v1; the loser's attempt rolls back. Once more
        // sees what the winner applied.
        if let again = await runMigrator() { failure = again } else { return }
        throw .migration("\(path): \(Self.describe(failure))")
    }

    /// Runs the migrator on GRDB's writer queue (each migration in its own IMMEDIATE
    /// transaction); the error, or nil on success.
    private func runMigrator() async -> (any Error)? {
        let migrator = Self.migrator
        let pool = self.pool
        return await withCheckedContinuation { continuation in
            migrator.asyncMigrate(pool) { result in
                switch result {
                case .success: continuation.resume(returning: nil)
                case .failure(let error): continuation.resume(returning: error)
                }
            }
        }
    }

    func schemaVersion() async throws(HistoryError) -> Int {
        try await reading { db in
            guard try db.tableExists("schema_version") else { return 0 }
            return try Int.fetchOne(db, sql: "SELECT MAX(version) FROM schema_version") ?? 0
        }
    }

    // MARK: Lock

    func withRunLock<T: Sendable>(_ mode: HistoryLockMode, _ body: @Sendable () async throws -> T) async throws -> T {
        try await lock.withLock(mode, body)
    }

    // MARK: Writing

    func save(_ run: StoredRun) async throws(HistoryError) {
        try run.validate()
        let totals = run.totals
        let started = HistoryTime.microseconds(run.startedAt)
        let midWrite = self.midWrite
        do {
            try await pool.write { db in
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?)", arguments: [run.id]) == true {
                    throw HistoryError.storage("a run with id \(run.id) is already stored")
                }
                try db.execute(
                    sql: """
                        INSERT INTO runs (id, started_at, finished_at, tool_version, host, domain_count, failures, warnings, inconclusive)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        run.id, started, HistoryTime.microseconds(run.finishedAt), run.toolVersion, run.host,
                        run.domains.count, totals.failures, totals.warnings, totals.inconclusive,
                    ])
                let domainStatement = try db.cachedStatement(
                    sql: """
                        INSERT INTO domain_runs (run_id, domain, position, started_at, failures, warnings, inconclusive, report_json)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for (position, domain) in run.domains.enumerated() {
                    try domainStatement.execute(arguments: [
                        run.id, domain.domain, position, started, domain.failures, domain.warnings, domain.inconclusive,
                        domain.reportText ?? "",
                    ])
                }
                midWrite?()
                let findingStatement = try db.cachedStatement(
                    sql: """
                        INSERT INTO findings (run_id, domain, position, finding_id, subject_key, severity, message, facts_json)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """)
                for domain in run.domains {
                    for (position, finding) in domain.findings.enumerated() {
                        try findingStatement.execute(arguments: [
                            run.id, domain.domain, position, finding.findingID, finding.subjectKey, finding.severity,
                            finding.message, finding.factsJSON,
                        ])
                    }
                }
            }
        } catch {
            throw Self.storageError(error, doing: "saving run \(run.id)")
        }
    }

    // MARK: Reading

    func latestRun(for domain: String, excluding excludingRun: String?) async throws(HistoryError) -> StoredRun? {
        try await reading { db in
            let id = try String.fetchOne(
                db,
                sql: """
                    SELECT d.run_id FROM domain_runs d JOIN runs r ON r.id = d.run_id
                    WHERE d.domain = ? AND d.run_id IS NOT ?
                    ORDER BY d.started_at DESC, r.finished_at DESC, d.run_id DESC LIMIT 1
                    """,
                arguments: [domain, excludingRun])
            guard let id else { return nil }
            return try Self.load(db, id: id, onlyDomain: domain)
        }
    }

    func run(id: String) async throws(HistoryError) -> StoredRun? {
        try await reading { db in try Self.load(db, id: id, onlyDomain: nil) }
    }

    func runs(for domain: String, limit: Int) async throws(HistoryError) -> [RunSummary] {
        guard limit > 0 else { return [] }
        return try await reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.started_at, r.finished_at, r.host, r.tool_version, r.domain_count,
                           r.failures, r.warnings, r.inconclusive, d.failures, d.warnings, d.inconclusive
                    FROM domain_runs d JOIN runs r ON r.id = d.run_id
                    WHERE d.domain = ?
                    ORDER BY d.started_at DESC, r.finished_at DESC, d.run_id DESC LIMIT ?
                    """,
                arguments: [domain, limit]
            ).map { row in
                RunSummary(
                    id: row[0], startedAt: HistoryTime.date(microseconds: row[1]), finishedAt: HistoryTime.date(microseconds: row[2]),
                    host: row[3], toolVersion: row[4], domainCount: row[5], failures: row[6], warnings: row[7], inconclusive: row[8],
                    domainCounts: RunSummary.Counts(failures: row[9], warnings: row[10], inconclusive: row[11]))
            }
        }
    }

    /// The run `id` with all its domains, or only `onlyDomain`, read in the caller's transaction.
    private static func load(_ db: Database, id: String, onlyDomain: String?) throws -> StoredRun? {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT id, started_at, finished_at, tool_version, host FROM runs WHERE id = ?", arguments: [id])
        else { return nil }
        let domainFilter = onlyDomain == nil ? "" : " AND domain = ?"
        let arguments: StatementArguments = onlyDomain.map { [id, $0] } ?? [id]
        var findings: [String: [StoredFinding]] = [:]
        for finding in try Row.fetchAll(
            db,
            sql: """
                SELECT domain, finding_id, subject_key, severity, message, facts_json FROM findings
                WHERE run_id = ?\(domainFilter) ORDER BY domain, position
                """,
            arguments: arguments)
        {
            let domain: String = finding[0]
            findings[domain, default: []].append(
                StoredFinding(
                    domain: domain, findingID: finding[1], subjectKey: finding[2], severity: finding[3], message: finding[4],
                    factsJSON: finding[5]))
        }
        let domains = try Row.fetchAll(
            db,
            sql: """
                SELECT domain, failures, warnings, inconclusive, report_json FROM domain_runs
                WHERE run_id = ?\(domainFilter) ORDER BY position
                """,
            arguments: arguments
        ).map { domain in
            let name: String = domain[0]
            let report: String = domain[4]
            return StoredDomain(
                domain: name, failures: domain[1], warnings: domain[2], inconclusive: domain[3], reportJSON: Data(report.utf8),
                findings: findings[name] ?? [])
        }
        return StoredRun(
            id: row[0], startedAt: HistoryTime.date(microseconds: row[1]), finishedAt: HistoryTime.date(microseconds: row[2]),
            toolVersion: row[3], host: row[4], domains: domains)
    }

    /// `body` in one read transaction (a consistent snapshot, even while another process writes).
    private func reading<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(HistoryError) -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storageError(error, doing: "reading \(path)")
        }
    }

    func close() async {
        let pool = self.pool
        await Blocking.run { try? pool.close() }
    }

    // MARK: Errors

    /// A `HistoryError` for any error out of GRDB: a missing table means a missing migration.
    private static func storageError(_ error: any Error, doing what: String) -> HistoryError {
        if let error = error as? HistoryError { return error }
        if let error = error as? DatabaseError, error.message?.contains("no such table") == true {
            return .migration("\(what): the schema is missing (\(describe(error))); migrate the store first")
        }
        return .storage("\(what): \(describe(error))")
    }

    /// SQLite's message and result code, without the SQL or its arguments.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DatabaseError else { return "\(error)" }
        return "\(error.message ?? "SQLite error") (SQLite code \(error.resultCode.rawValue))"
    }
}
