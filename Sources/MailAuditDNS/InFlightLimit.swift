import MailAuditCore
import NIOCore

/// Bounds how many queries are in flight at once, so a burst (25 DKIM selectors for each of
/// many domains) does not overrun a resolver's or a proxy's socket buffers and turn into losses
/// and retries. Waiters are served in order; a slot is handed out or given back in O(1), and a
/// waiter whose task is cancelled leaves the queue at once.
final class InFlightLimit: Sendable {
    private struct State {
        var running = 0
        var nextTicket = 0
        var order = CircularBuffer<Int>()
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
    }

    private let limit: Int
    private let state = Locked(State())

    init(_ limit: Int) { self.limit = max(1, limit) }

    /// Waits for a slot. Returns false, holding no slot, when the task is cancelled while waiting.
    func acquire() async -> Bool {
        let ticket: Int? = state.withLock { state in
            if state.running < limit {
                state.running += 1
                return nil
            }
            state.nextTicket &+= 1
            return state.nextTicket
        }
        guard let ticket else { return true }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate: Bool? = state.withLock { state in
                    // The task may have been cancelled, or a slot freed, since the first look.
                    if Task.isCancelled { return false }
                    if state.running < limit {
                        state.running += 1
                        return true
                    }
                    state.waiters[ticket] = continuation
                    state.order.append(ticket)
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: ticket) }?.resume(returning: false)
        }
    }

    /// Gives a slot back, to the longest waiter still waiting.
    func release() {
        let next: CheckedContinuation<Bool, Never>? = state.withLock { state in
            while let ticket = state.order.popFirst() {
                // Tickets of cancelled waiters are no longer in `waiters`: skipped once, here.
                if let waiter = state.waiters.removeValue(forKey: ticket) { return waiter }
            }
            state.running -= 1
            return nil
        }
        next?.resume(returning: true)
    }
}
