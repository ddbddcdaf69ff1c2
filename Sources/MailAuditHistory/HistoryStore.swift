import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where scheduled audits (`mailaudit run`) keep their runs: SQLite on one machine, or one
/// PostgreSQL database shared by several. Both stores have the same tables and columns (see
/// ``HistorySchema``) and behave alike; ``History`` opens one from a configuration.
///
/// ```swift
/// let store = try await History.open(sqlitePath: "/var/lib/mailaudit/history.db")
/// try await store.migrate()
/// try await store.withRunLock(.fail) {
///     let previous = try await store.latestRun(for: "example.com", excluding: nil)
///     try await store.save(run)
/// }
/// await store.close()
/// ```
public protocol HistoryStore: Sendable {
    /// Creates the schema, or upgrades it to ``History/schemaVersion``, one versioned migration
    /// at a time; a store already up to date is left as it is. Call it once after opening.
    ///
    /// - Throws: ``HistoryError/migration(_:)`` when a migration fails (nothing of it is kept)
    ///   or the store was written by a newer mailaudit.
    func migrate() async throws(HistoryError)

    /// The schema version the store is at: the highest row of `schema_version`, 0 when the
    /// schema was never created.
    func schemaVersion() async throws(HistoryError) -> Int

    /// Runs `body` while holding the store's run lock, so that two runs never interleave, even
    /// from two machines sharing a PostgreSQL store. The lock is released when `body` returns or
    /// throws, and by the operating system or the server when the process dies.
    ///
    /// - Throws: ``HistoryError/locked(holder:)`` at once in `.fail` mode when another run holds
    ///   the lock, or when `.wait` times out; other `HistoryError`s when the lock cannot be taken;
    ///   otherwise whatever `body` throws, unchanged. `CancellationError` when the task is
    ///   cancelled while waiting.
    func withRunLock<T: Sendable>(_ mode: HistoryLockMode, _ body: @Sendable () async throws -> T) async throws -> T

    /// Writes the whole run in one transaction: a process killed at any point leaves either all
    /// of it or nothing of it.
    ///
    /// - Throws: ``HistoryError/storage(_:)`` when the write fails, when a run with the same id
    ///   is already stored, or when the run is not storable (a domain listed twice, a finding
    ///   filed under another domain, a report that is not UTF-8).
    func save(_ run: StoredRun) async throws(HistoryError)

    /// The latest run (by `startedAt`, then `finishedAt`, then id) that included `domain`, other
    /// than `excludingRun`, with **that domain's data only**: its ``StoredRun/domains`` holds one
    /// entry. Nil when there is none.
    func latestRun(for domain: String, excluding excludingRun: String?) async throws(HistoryError) -> StoredRun?

    /// The run with this id with all its domains in the order saved, or nil.
    func run(id: String) async throws(HistoryError) -> StoredRun?

    /// Up to `limit` runs that included `domain`, newest first, with the run's totals and that
    /// domain's counts in ``RunSummary/domainCounts``. Empty when `limit` is not positive.
    func runs(for domain: String, limit: Int) async throws(HistoryError) -> [RunSummary]

    /// Releases the store's connections. Later calls fail with ``HistoryError/storage(_:)``.
    func close() async
}

/// What `withRunLock` does when another run holds the lock.
public enum HistoryLockMode: Sendable, Hashable {
    /// Waits until the lock is free, for at most `timeout`, then throws ``HistoryError/locked(holder:)``.
    case wait(timeout: Duration)
    /// Throws ``HistoryError/locked(holder:)`` at once.
    case fail
}

/// Takes a lock by trying again and again: `.fail` tries once, `.wait` every 100 ms until the
/// timeout. Both stores' run locks are taken this way, so no thread ever blocks on them.
enum LockPolling {
    static func acquire(
        _ mode: HistoryLockMode, tryOnce: () async throws(HistoryError) -> Bool, holder: () async -> String
    ) async throws {
        let deadline: ContinuousClock.Instant
        let timeout: Duration
        switch mode {
        case .fail:
            if try await tryOnce() { return }
            throw HistoryError.locked(holder: await holder())
        case .wait(let limit):
            timeout = limit
            deadline = ContinuousClock.now + limit
        }
        while true {
            if try await tryOnce() { return }
            let now = ContinuousClock.now
            guard now < deadline else {
                throw HistoryError.locked(holder: "\(await holder()); still held after waiting \(timeout)")
            }
            try await Task.sleep(for: min(.milliseconds(100), deadline - now))
        }
    }

    /// Who holds the run lock, as written into the lock file or the holder table.
    /// Example: `pid 4242 on host mx-audit-1 since 2025-03-01T04:00:00.123Z`.
    static func holderLine(host: String, pid: Int32, since: Date) -> String {
        "pid \(pid) on host \(host) since \(timestamp(since))"
    }

    /// `2025-03-01T04:00:00Z`.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    /// This machine's name (`gethostname`, no DNS lookup), for the holder line.
    static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
