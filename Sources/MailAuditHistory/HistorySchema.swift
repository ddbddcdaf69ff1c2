/// The tables both stores keep, with the same names and columns on SQLite and PostgreSQL.
///
/// ```
/// schema_version (version PK, description, applied_at)     one row per applied migration
/// runs           (id PK, started_at, finished_at, tool_version, host,
///                 domain_count, failures, warnings, inconclusive)           totals over the run's domains
/// domain_runs    (run_id → runs, domain, position, started_at,              started_at is the run's, copied
///                 failures, warnings, inconclusive, report_json)            so that (domain, started_at) is one index
///                 PK (run_id, domain)
/// findings       (run_id, domain → domain_runs, position, finding_id,
///                 subject_key, severity, message, facts_json)
///                 PK (run_id, domain, position)
/// ```
///
/// Timestamps are whole microseconds since 1970 (``HistoryTime``): an INTEGER in SQLite, a
/// `timestamptz` in PostgreSQL. `report_json` and `facts_json` are text, stored as given.
/// Deleting a run deletes its domains and findings (`ON DELETE CASCADE`).
///
/// PostgreSQL also has `run_lock (backend_pid PK, host, pid, acquired_at)`: who holds the
/// advisory run lock, so that a second run can say so. SQLite writes that into `PATH.lock`.
/// GRDB keeps its own `grdb_migrations` table beside `schema_version` in SQLite.
enum HistorySchema {
    /// One step of the schema. Steps are never edited once released; a change is a new step.
    struct Migration: Sendable {
        var version: Int
        var description: String
        var sqlite: [String]
        var postgres: [String]
    }

    /// The version this build creates: the last migration's.
    static var version: Int { migrations.last?.version ?? 0 }

    static let migrations: [Migration] = [
        Migration(
            version: 1,
            description: "runs, domain_runs, findings",
            sqlite: [
                """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER NOT NULL,
                    tool_version TEXT NOT NULL,
                    host TEXT NOT NULL,
                    domain_count INTEGER NOT NULL,
                    failures INTEGER NOT NULL,
                    warnings INTEGER NOT NULL,
                    inconclusive INTEGER NOT NULL
                )
                """,
                "CREATE INDEX runs_by_started_at ON runs (started_at)",
                """
                CREATE TABLE domain_runs (
                    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    domain TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    failures INTEGER NOT NULL,
                    warnings INTEGER NOT NULL,
                    inconclusive INTEGER NOT NULL,
                    report_json TEXT NOT NULL,
                    PRIMARY KEY (run_id, domain)
                )
                """,
                "CREATE INDEX domain_runs_by_domain ON domain_runs (domain, started_at)",
                """
                CREATE TABLE findings (
                    run_id TEXT NOT NULL,
                    domain TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    finding_id TEXT NOT NULL,
                    subject_key TEXT NOT NULL,
                    severity TEXT NOT NULL,
                    message TEXT NOT NULL,
                    facts_json TEXT NOT NULL,
                    PRIMARY KEY (run_id, domain, position),
                    FOREIGN KEY (run_id, domain) REFERENCES domain_runs (run_id, domain) ON DELETE CASCADE
                )
                """,
                "CREATE INDEX findings_by_domain ON findings (domain, finding_id, subject_key)",
            ],
            postgres: [
                """
                CREATE TABLE runs (
                    id text PRIMARY KEY,
                    started_at timestamptz NOT NULL,
                    finished_at timestamptz NOT NULL,
                    tool_version text NOT NULL,
                    host text NOT NULL,
                    domain_count integer NOT NULL,
                    failures integer NOT NULL,
                    warnings integer NOT NULL,
                    inconclusive integer NOT NULL
                )
                """,
                "CREATE INDEX runs_by_started_at ON runs (started_at)",
                """
                CREATE TABLE domain_runs (
                    run_id text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                    domain text NOT NULL,
                    position integer NOT NULL,
                    started_at timestamptz NOT NULL,
                    failures integer NOT NULL,
                    warnings integer NOT NULL,
                    inconclusive integer NOT NULL,
                    report_json text NOT NULL,
                    PRIMARY KEY (run_id, domain)
                )
                """,
                "CREATE INDEX domain_runs_by_domain ON domain_runs (domain, started_at)",
                """
                CREATE TABLE findings (
                    run_id text NOT NULL,
                    domain text NOT NULL,
                    position integer NOT NULL,
                    finding_id text NOT NULL,
                    subject_key text NOT NULL,
                    severity text NOT NULL,
                    message text NOT NULL,
                    facts_json text NOT NULL,
                    PRIMARY KEY (run_id, domain, position),
                    FOREIGN KEY (run_id, domain) REFERENCES domain_runs (run_id, domain) ON DELETE CASCADE
                )
                """,
                "CREATE INDEX findings_by_domain ON findings (domain, finding_id, subject_key)",
                """
                CREATE TABLE run_lock (
                    backend_pid integer PRIMARY KEY,
                    host text NOT NULL,
                    pid integer NOT NULL,
                    acquired_at timestamptz NOT NULL
                )
                """,
            ]),
    ]

    /// The message for a store written by a newer mailaudit.
    static func tooNew(_ found: Int) -> HistoryError {
        .migration("the history is at schema version \(found), newer than this mailaudit knows (\(version)); upgrade mailaudit")
    }
}
