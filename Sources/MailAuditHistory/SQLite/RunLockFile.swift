import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The SQLite store's run lock: an exclusive `flock(2)` on `PATH.lock` beside the database.
///
/// `flock` locks belong to an open file description, so two opens in one process exclude each
/// other just as two processes do, and the kernel drops the lock when the process dies, however
/// it dies: a crashed run never leaves a stale lock. The holder writes
/// `pid 4242 on host mx-audit-1 since 2025-03-01T04:00:00Z` into the file, which a refused run
/// quotes; the file itself is never removed (removing it would let two runs lock two inodes).
struct RunLockFile: Sendable {
    let path: String

    /// Runs `body` holding the lock; see ``HistoryStore/withRunLock(_:_:)``.
    func withLock<T: Sendable>(_ mode: HistoryLockMode, _ body: @Sendable () async throws -> T) async throws -> T {
        // This function owns the descriptor: it is closed on every way out (closing also unlocks).
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw HistoryError.cannotOpen("the lock file \(path): \(Self.errnoText())")
        }
        defer { close(descriptor) }
        try await LockPolling.acquire(
            mode,
            tryOnce: { () throws(HistoryError) -> Bool in try Self.tryLock(descriptor, path: path) },
            holder: { Self.holder(descriptor) })
        let line = LockPolling.holderLine(host: LockPolling.hostName, pid: getpid(), since: Date()) + "\n"
        _ = ftruncate(descriptor, 0)
        _ = line.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        defer {
            _ = ftruncate(descriptor, 0)
            _ = flock(descriptor, LOCK_UN)
        }
        return try await body()
    }

    /// True when the exclusive lock was taken, false when another open file holds it.
    private static func tryLock(_ descriptor: Int32, path: String) throws(HistoryError) -> Bool {
        while true {
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return true }
            switch errno {
            case EINTR: continue
            case EWOULDBLOCK: return false
            default: throw .storage("cannot lock \(path): \(errnoText())")
            }
        }
    }

    /// What the holder wrote, on one line, or a placeholder when it has not written yet.
    private static func holder(_ descriptor: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        let text = count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let printable = String(line.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        return printable.isEmpty ? "another process (which has not written its name yet)" : printable
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
