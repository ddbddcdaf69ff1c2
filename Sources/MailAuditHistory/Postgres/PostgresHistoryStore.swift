import Foundation
import PostgresNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The run history in a PostgreSQL database, through postgres-nio, shared by every machine
/// that points at it. The tables are ``HistorySchema``'s; `schema_version` records each
/// migration, which runs in one transaction under a transaction-level advisory lock, so two
/// machines upgrading at once do not collide.
///
/// `save` is one `BEGIN … COMMIT` on one connection: a process killed mid-write drops the
/// connection, and the server rolls the transaction back.
///
/// The run lock is the session-level advisory lock ``runLockKey`` (`pg_try_advisory_lock`),
/// taken on a connection opened for it and held for the whole of the locked work, then
/// unlocked and closed. A session lock lives as long as its connection, so a crashed run's
/// lock goes when the server notices the connection is gone. The holder writes its host, pid
/// and start time into `run_lock`; a refused run reads them from there joined with `pg_locks`.
final class PostgresHistoryStore: HistoryStore {
    /// The advisory lock key of the run lock: "mail" in ASCII. Below 2³¹, so `pg_locks` shows
    /// it as classid 0, objid the key, objsubid 1.
    static let runLockKey: Int64 = 0x6D61_696C
    /// The transaction-level advisory lock key that serialises migrations ("mig" + 1).
    static let migrationLockKey: Int64 = 0x6D69_6701

    private let connections: PostgresConnections
    private let midWrite: (@Sendable () -> Void)?
    private var logger: Logger { connections.logger }
    private var location: PostgresLocation { connections.location }

    private init(connections: PostgresConnections, midWrite: (@Sendable () -> Void)?) {
        self.connections = connections
        self.midWrite = midWrite
    }

    /// Connects once, so that a wrong URL, host, password or database fails here with a clear
    /// ``HistoryError/cannotOpen(_:)``; the connection is kept for the first call.
    static func open(location: PostgresLocation, midWrite: (@Sendable () -> Void)? = nil) async throws(HistoryError) -> PostgresHistoryStore {
        let connections = try PostgresConnections(location: location)
        let store = PostgresHistoryStore(connections: connections, midWrite: midWrite)
        _ = try await connections.withConnection(mapError: { store.storageError($0, doing: "checking the connection") }) { connection in
            for try await _ in try await connection.query("SELECT 1", logger: connections.logger) {}
        }
        return store
    }

    // MARK: Schema

    func migrate() async throws(HistoryError) {
        let migrations = HistorySchema.migrations
        try await connections.withConnection(mapError: migrationError) { connection in
            try await self.inTransaction(connection) {
                try await self.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLockKey))", on: connection)
                try await self.execute(
                    """
                    CREATE TABLE IF NOT EXISTS schema_version (
                        version integer PRIMARY KEY,
                        description text NOT NULL,
                        applied_at timestamptz NOT NULL
                    )
                    """, on: connection)
                let found = try await self.single(Int.self, "SELECT COALESCE(MAX(version), 0) FROM schema_version", on: connection) ?? 0
                guard found <= HistorySchema.version else { throw HistorySchema.tooNew(found) }
                for migration in migrations where migration.version > found {
                    for statement in migration.postgres {
                        try await self.execute(PostgresQuery(unsafeSQL: statement), on: connection)
                    }
                    try await self.execute(
                        """
                        INSERT INTO schema_version (version, description, applied_at)
                        VALUES (\(migration.version), \(migration.description), now())
                        """, on: connection)
                }
            }
        }
    }

    func schemaVersion() async throws(HistoryError) -> Int {
        try await connections.withConnection(mapError: { self.storageError($0, doing: "reading the schema version") }) { connection in
            guard try await self.single(Bool.self, "SELECT to_regclass('schema_version') IS NOT NULL", on: connection) == true else {
                return 0
            }
            return try await self.single(Int.self, "SELECT COALESCE(MAX(version), 0) FROM schema_version", on: connection) ?? 0
        }
    }

    // MARK: Lock

    func withRunLock<T: Sendable>(_ mode: HistoryLockMode, _ body: @Sendable () async throws -> T) async throws -> T {
        // Session-level advisory locks belong to a connection: this one is opened for the lock,
        // used for nothing else, and closed at the end, which drops the lock in any case.
        let connection = try await connections.connect()
        do {
            try await LockPolling.acquire(
                mode,
                tryOnce: { () async throws(HistoryError) -> Bool in try await self.tryRunLock(connection) },
                holder: { await self.runLockHolder(connection) })
        } catch {
            try? await connection.close()
            throw error
        }
        // Who holds it, for a refused run to show; best effort (outside a transaction, a failed
        // statement leaves the session and its lock as they were).
        _ = try? await connection.query(
            "DELETE FROM run_lock WHERE backend_pid NOT IN (SELECT pid FROM pg_stat_activity)", logger: logger)
        _ = try? await connection.query(
            """
            INSERT INTO run_lock (backend_pid, host, pid, acquired_at)
            VALUES (pg_backend_pid(), \(LockPolling.hostName), \(Int(getpid())), now())
            ON CONFLICT (backend_pid) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid, acquired_at = EXCLUDED.acquired_at
            """, logger: logger)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await body())
        } catch {
            outcome = .failure(error)
        }
        _ = try? await connection.query("DELETE FROM run_lock WHERE backend_pid = pg_backend_pid()", logger: logger)
        _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.runLockKey))", logger: logger)
        try? await connection.close()
        return try outcome.get()
    }

    private func tryRunLock(_ connection: PostgresConnection) async throws(HistoryError) -> Bool {
        do {
            return try await single(Bool.self, "SELECT pg_try_advisory_lock(\(Self.runLockKey))", on: connection) == true
        } catch {
            throw storageError(error, doing: "taking the run lock")
        }
    }

    /// Who holds the run lock now: the `run_lock` row of the session that holds it in
    /// `pg_locks`, or that session's `application_name` when it wrote no row.
    private func runLockHolder(_ connection: PostgresConnection) async -> String {
        let holding = """
            l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = \(Self.runLockKey) AND l.objsubid = 1
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """
        do {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    SELECT l.pid, h.host, h.pid, \(Self.micros("h.acquired_at"))
                    FROM pg_locks l JOIN run_lock h ON h.backend_pid = l.pid
                    WHERE \(holding)
                    """), logger: logger)
            for try await (backend, host, pid, since) in rows.decode((Int, String, Int, Int64).self) {
                return LockPolling.holderLine(host: host, pid: Int32(pid), since: HistoryTime.date(microseconds: since))
                    + " (PostgreSQL backend \(backend))"
            }
        } catch {
            // No run_lock table (not migrated yet): pg_stat_activity below still knows the session.
        }
        do {
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: """
                    SELECT l.pid, a.application_name, \(Self.micros("a.backend_start"))
                    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE \(holding)
                    """), logger: logger)
            for try await (backend, application, started) in rows.decode((Int, String?, Int64?).self) {
                let name = application.flatMap { $0.isEmpty ? nil : $0 } ?? "a session"
                let since = started.map { " connected since \(LockPolling.timestamp(HistoryTime.date(microseconds: $0)))" } ?? ""
                return "\(name) (PostgreSQL backend \(backend))\(since)"
            }
        } catch {
            return "another session (who cannot be read: \(PostgresErrors.describe(error, password: location.password)))"
        }
        return "another session, which has just released it"
    }

    // MARK: Writing

    func save(_ run: StoredRun) async throws(HistoryError) {
        try run.validate()
        let totals = run.totals
        let started = HistoryTime.microseconds(run.startedAt)
        let finished = HistoryTime.microseconds(run.finishedAt)
        let domains = run.domains
        let findings = domains.flatMap { domain in domain.findings.enumerated().map { (domain.domain, $0.offset, $0.element) } }
        let midWrite = self.midWrite
        try await connections.withConnection(mapError: { self.storageError($0, doing: "saving run \(run.id)") }) { connection in
            try await self.inTransaction(connection) {
                if try await self.single(Bool.self, "SELECT EXISTS (SELECT 1 FROM runs WHERE id = \(run.id))", on: connection) == true {
                    throw HistoryError.storage("a run with id \(run.id) is already stored")
                }
                try await self.execute(
                    """
                    INSERT INTO runs (id, started_at, finished_at, tool_version, host, domain_count, failures, warnings, inconclusive)
                    VALUES (\(run.id), TIMESTAMPTZ 'epoch' + \(started) * INTERVAL '1 microsecond',
                            TIMESTAMPTZ 'epoch' + \(finished) * INTERVAL '1 microsecond', \(run.toolVersion), \(run.host),
                            \(domains.count), \(totals.failures), \(totals.warnings), \(totals.inconclusive))
                    """, on: connection)
                if !domains.isEmpty {
                    try await self.execute(
                        """
                        INSERT INTO domain_runs (run_id, domain, position, started_at, failures, warnings, inconclusive, report_json)
                        SELECT \(run.id), t.domain, t.position, TIMESTAMPTZ 'epoch' + \(started) * INTERVAL '1 microsecond',
                               t.failures, t.warnings, t.inconclusive, t.report
                        FROM unnest(\(domains.map(\.domain)), \(Array(domains.indices)), \(domains.map(\.failures)),
                                    \(domains.map(\.warnings)), \(domains.map(\.inconclusive)), \(domains.map { $0.reportText ?? "" }))
                             AS t(domain, position, failures, warnings, inconclusive, report)
                        """, on: connection)
                }
                midWrite?()
                if !findings.isEmpty {
                    try await self.execute(
                        """
                        INSERT INTO findings (run_id, domain, position, finding_id, subject_key, severity, message, facts_json)
                        SELECT \(run.id), t.domain, t.position, t.finding_id, t.subject_key, t.severity, t.message, t.facts_json
                        FROM unnest(\(findings.map(\.0)), \(findings.map(\.1)), \(findings.map(\.2.findingID)),
                                    \(findings.map(\.2.subjectKey)), \(findings.map(\.2.severity)), \(findings.map(\.2.message)),
                                    \(findings.map(\.2.factsJSON)))
                             AS t(domain, position, finding_id, subject_key, severity, message, facts_json)
                        """, on: connection)
                }
            }
        }
    }

    // MARK: Reading

    /// Whole microseconds since 1970 of a `timestamptz` column: exact (EXTRACT gives a numeric).
    private static func micros(_ column: String) -> String {
        "(EXTRACT(EPOCH FROM \(column)) * 1000000)::int8"
    }

    func latestRun(for domain: String, excluding excludingRun: String?) async throws(HistoryError) -> StoredRun? {
        try await reading("reading the latest run of \(domain)") { connection in
            let id = try await self.single(
                String.self,
                """
                SELECT d.run_id FROM domain_runs d JOIN runs r ON r.id = d.run_id
                WHERE d.domain = \(domain) AND d.run_id IS DISTINCT FROM \(excludingRun)::text
                ORDER BY d.started_at DESC, r.finished_at DESC, d.run_id DESC LIMIT 1
                """, on: connection)
            guard let id else { return nil }
            return try await self.load(id: id, onlyDomain: domain, on: connection)
        }
    }

    func run(id: String) async throws(HistoryError) -> StoredRun? {
        try await reading("reading run \(id)") { connection in
            try await self.load(id: id, onlyDomain: nil, on: connection)
        }
    }

    func runs(for domain: String, limit: Int) async throws(HistoryError) -> [RunSummary] {
        guard limit > 0 else { return [] }
        return try await reading("listing the runs of \(domain)") { connection in
            let rows = try await connection.query(
                """
                SELECT r.id, \(unescaped: Self.micros("r.started_at")), \(unescaped: Self.micros("r.finished_at")), r.host, r.tool_version,
                       r.domain_count, r.failures, r.warnings, r.inconclusive, d.failures, d.warnings, d.inconclusive
                FROM domain_runs d JOIN runs r ON r.id = d.run_id
                WHERE d.domain = \(domain)
                ORDER BY d.started_at DESC, r.finished_at DESC, d.run_id DESC LIMIT \(limit)
                """, logger: self.logger)
            var summaries: [RunSummary] = []
            for try await row in rows.decode((String, Int64, Int64, String, String, Int, Int, Int, Int, Int, Int, Int).self) {
                summaries.append(
                    RunSummary(
                        id: row.0, startedAt: HistoryTime.date(microseconds: row.1), finishedAt: HistoryTime.date(microseconds: row.2),
                        host: row.3, toolVersion: row.4, domainCount: row.5, failures: row.6, warnings: row.7, inconclusive: row.8,
                        domainCounts: RunSummary.Counts(failures: row.9, warnings: row.10, inconclusive: row.11)))
            }
            return summaries
        }
    }

    /// The run `id` with all its domains, or only `onlyDomain`, read on `connection` (in the
    /// caller's read-only snapshot transaction).
    private func load(id: String, onlyDomain: String?, on connection: PostgresConnection) async throws -> StoredRun? {
        let runRows = try await connection.query(
            """
            SELECT id, \(unescaped: Self.micros("started_at")), \(unescaped: Self.micros("finished_at")), tool_version, host
            FROM runs WHERE id = \(id)
            """, logger: logger)
        var header: (String, Int64, Int64, String, String)?
        for try await row in runRows.decode((String, Int64, Int64, String, String).self) { header = row }
        guard let header else { return nil }
        var findings: [String: [StoredFinding]] = [:]
        let findingRows = try await connection.query(
            """
            SELECT domain, finding_id, subject_key, severity, message, facts_json FROM findings
            WHERE run_id = \(id) AND (\(onlyDomain)::text IS NULL OR domain = \(onlyDomain)::text)
            ORDER BY domain, position
            """, logger: logger)
        for try await (domain, findingID, subjectKey, severity, message, facts) in findingRows.decode(
            (String, String, String, String, String, String).self)
        {
            findings[domain, default: []].append(
                StoredFinding(
                    domain: domain, findingID: findingID, subjectKey: subjectKey, severity: severity, message: message, factsJSON: facts))
        }
        var domains: [StoredDomain] = []
        let domainRows = try await connection.query(
            """
            SELECT domain, failures, warnings, inconclusive, report_json FROM domain_runs
            WHERE run_id = \(id) AND (\(onlyDomain)::text IS NULL OR domain = \(onlyDomain)::text)
            ORDER BY position
            """, logger: logger)
        for try await (domain, failures, warnings, inconclusive, report) in domainRows.decode((String, Int, Int, Int, String).self) {
            domains.append(
                StoredDomain(
                    domain: domain, failures: failures, warnings: warnings, inconclusive: inconclusive, reportJSON: Data(report.utf8),
                    findings: findings[domain] ?? []))
        }
        return StoredRun(
            id: header.0, startedAt: HistoryTime.date(microseconds: header.1), finishedAt: HistoryTime.date(microseconds: header.2),
            toolVersion: header.3, host: header.4, domains: domains)
    }

    /// `body` in a read-only REPEATABLE READ transaction: one snapshot for all its queries.
    private func reading<T: Sendable>(
        _ what: String, _ body: @escaping (PostgresConnection) async throws -> T
    ) async throws(HistoryError) -> T {
        try await connections.withConnection(mapError: { self.storageError($0, doing: what) }) { connection in
            try await self.inTransaction(connection, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                try await body(connection)
            }
        }
    }

    func close() async {
        await connections.close()
    }

    // MARK: Helpers

    /// `body` between `begin` and COMMIT; ROLLBACK when it throws (the connection is then
    /// closed by `withConnection` as well, which would roll back anyway).
    private func inTransaction<T>(
        _ connection: PostgresConnection, begin: String = "BEGIN", _ body: () async throws -> T
    ) async throws -> T {
        try await execute(PostgresQuery(unsafeSQL: begin), on: connection)
        do {
            let result = try await body()
            try await execute("COMMIT", on: connection)
            return result
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// Runs a statement and reads its rows to the end.
    private func execute(_ query: PostgresQuery, on connection: PostgresConnection) async throws {
        for try await _ in try await connection.query(query, logger: logger) {}
    }

    /// The first column of the first row, or nil when there is no row or it is NULL.
    private func single<T: PostgresDecodable & Sendable>(
        _ type: T.Type, _ query: PostgresQuery, on connection: PostgresConnection
    ) async throws -> T? where T._DecodableType == T {
        var value: T?
        for try await (cell) in try await connection.query(query, logger: logger).decode(T?.self) where value == nil {
            value = cell
        }
        return value
    }

    // MARK: Errors

    /// A `HistoryError` for what a query threw; an undefined table means a missing migration.
    func storageError(_ error: any Error, doing what: String) -> HistoryError {
        if let error = error as? HistoryError { return error }
        let reason = PostgresErrors.describe(error, password: location.password)
        if PostgresErrors.sqlState(error) == "42P01" {
            return .migration("\(what) in \(location): the schema is missing (\(reason)); migrate the store first")
        }
        return .storage("\(what) in \(location): \(reason)")
    }

    private func migrationError(_ error: any Error) -> HistoryError {
        if let error = error as? HistoryError { return error }
        return .migration("\(location): \(PostgresErrors.describe(error, password: location.password))")
    }
}
