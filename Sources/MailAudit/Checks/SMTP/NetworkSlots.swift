import MailAuditCore

/// At most `limit` probes at once into one network (an IPv4 /24, an IPv6 /64), so a run over
/// thousands of domains hosted at one provider does not look like an attack on its servers.
/// Callers beyond the limit wait, in order, without blocking a thread.
actor NetworkSlots {
    let limit: Int
    private var busy: [String: Int] = [:]
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(limit: Int) { self.limit = max(1, limit) }

    /// The network an address belongs to, as a key: "192.0.2.0/24", "2001:db8:0:1::/64".
    static func network(of address: IPAddress) -> String {
        switch address {
        case .v4(let bytes): "\(bytes.prefix(3).map(String.init).joined(separator: ".")).0/24"
        case .v6(let bytes):
            stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":") + "::/64"
        }
    }

    func acquire(_ network: String) async {
        if busy[network, default: 0] < limit {
            busy[network, default: 0] += 1
            return
        }
        await withCheckedContinuation { waiting[network, default: []].append($0) }
    }

    func release(_ network: String) {
        if var queue = waiting[network], !queue.isEmpty {
            // The slot passes straight to the next caller; the count stays.
            let next = queue.removeFirst()
            waiting[network] = queue.isEmpty ? nil : queue
            next.resume()
            return
        }
        busy[network, default: 1] -= 1
        if busy[network] == 0 { busy[network] = nil }
    }

    /// Probes running now in `network` (tests).
    func inUse(_ network: String) -> Int { busy[network] ?? 0 }
}
