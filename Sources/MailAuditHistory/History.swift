/// Opens the run history named by a configuration.
///
/// ```swift
/// let local = try await History.open(sqlitePath: "/var/lib/mailaudit/history.db")
/// let shared = try await History.open(postgresURL: "postgres://audit@db.example/mailaudit?sslmode=verify-full",
///                                     password: environment["MAILAUDIT_HISTORY_PASSWORD"])
/// try await shared.migrate()
/// ```
///
/// Neither opener creates the schema: call ``HistoryStore/migrate()`` next (it is cheap when
/// the schema is current). A password never appears in any error or log: URLs are shown as
/// `postgres://audit:***@…`, and server messages are scrubbed of it.
public enum History {
    /// The schema version this build creates and understands (``HistoryStore/schemaVersion()``).
    public static var schemaVersion: Int { HistorySchema.version }

    /// Opens, creating it when missing, the SQLite history at `sqlitePath`, in WAL mode. Its
    /// run lock is the file `sqlitePath + ".lock"`.
    ///
    /// - Throws: ``HistoryError/cannotOpen(_:)`` when the directory does not exist (it is not
    ///   created), the path is a directory or not a SQLite database, or it cannot be opened.
    public static func open(sqlitePath: String) async throws(HistoryError) -> any HistoryStore {
        try await SQLiteHistoryStore.open(path: sqlitePath)
    }

    /// Opens the PostgreSQL history at
    /// `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…&connect_timeout=…]`,
    /// connecting once to check it. `password`, when given, wins over one in the URL.
    ///
    /// `sslmode` is `disable`, `allow`, `prefer` (the default, as in libpq), `require`,
    /// `verify-ca` or `verify-full`, with libpq's meanings; `sslrootcert` names a PEM file of
    /// trusted roots for the verifying modes (the system's roots otherwise).
    ///
    /// - Throws: ``HistoryError/cannotOpen(_:)`` with the redacted URL when it does not parse, the
    ///   server cannot be reached, refuses the login, or has no such database.
    public static func open(postgresURL: String, password: String? = nil) async throws(HistoryError) -> any HistoryStore {
        let location = try PostgresLocation(parsing: postgresURL, password: password)
        return try await PostgresHistoryStore.open(location: location)
    }

    /// As ``open(sqlitePath:)``, with `midWrite` called inside every `save`'s transaction after
    /// the run's `runs` and `domain_runs` rows are written and before its findings are: the
    /// crash tests block there and kill the process.
    @_spi(Testing)
    public static func open(sqlitePath: String, midWrite: @escaping @Sendable () -> Void) async throws(HistoryError) -> any HistoryStore {
        try await SQLiteHistoryStore.open(path: sqlitePath, midWrite: midWrite)
    }

    /// As ``open(postgresURL:password:)``, with the `midWrite` hook of ``open(sqlitePath:midWrite:)``.
    @_spi(Testing)
    public static func open(
        postgresURL: String, password: String? = nil, midWrite: @escaping @Sendable () -> Void
    ) async throws(HistoryError) -> any HistoryStore {
        let location = try PostgresLocation(parsing: postgresURL, password: password)
        return try await PostgresHistoryStore.open(location: location, midWrite: midWrite)
    }
}
