/// Bounds how many queries are in flight at once, so a burst (25 DKIM selectors for each of
/// many domains) does not overrun a resolver's or a proxy's socket buffers and turn into losses
/// and retries. Waiters are served in order.
actor InFlightLimit {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
