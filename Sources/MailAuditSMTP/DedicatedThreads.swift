import MailAuditCore
import Foundation

/// Runs blocking work on threads of its own, never on Swift's cooperative pool, with at
/// most `limit` threads at once; callers beyond the limit wait (suspended, not blocking).
public final class DedicatedThreads: Sendable {
    public let limit: Int
    private let state: Locked<(free: Int, waiters: [CheckedContinuation<Void, Never>])>

    public init(limit: Int) {
        self.limit = max(1, limit)
        state = Locked((max(1, limit), []))
    }

    /// Runs `work` on a new thread once a slot is free, and returns its result.
    public func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await acquire()
        defer { release() }
        return await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "mailaudit-blocking-io"
            thread.start()
        }
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.free > 0 {
                    state.free -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiters.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}
