import Foundation

/// Runs blocking work (opening or closing a SQLite file, which may wait on another process's
/// lock) on a thread of its own, so that it never holds a thread of the cooperative pool.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.start()
        }
    }
}
