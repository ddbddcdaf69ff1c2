@testable import MailAudit
import MailAuditCore
import Testing

/// The per-network probe limit: at most N at once into one /24, other networks independent.
struct NetworkSlotsTests {
    @Test(arguments: [
        ("192.0.2.25", "192.0.2.0/24"),
        ("192.0.2.200", "192.0.2.0/24"),
        ("198.51.100.1", "198.51.100.0/24"),
        ("2001:db8:0:1::25", "2001:db8:0:1::/64"),
    ])
    func networks(address: String, network: String) throws {
        #expect(NetworkSlots.network(of: try #require(IPAddress(address))) == network)
    }

    @Test func atMostTheLimitRunAtOnceInOneNetwork() async {
        let slots = NetworkSlots(limit: 2)
        let peak = Peak()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                let network = index % 4 == 0 ? "198.51.100.0/24" : "192.0.2.0/24"
                group.addTask {
                    await slots.acquire(network)
                    peak.state.withLock { state in
                        state.now[network, default: 0] += 1
                        state.most[network] = max(state.most[network] ?? 0, state.now[network] ?? 0)
                    }
                    try? await Task.sleep(for: .milliseconds(5))
                    peak.state.withLock { $0.now[network, default: 1] -= 1 }
                    await slots.release(network)
                }
            }
        }
        let most = peak.state.withLock { $0.most }
        #expect(most["192.0.2.0/24"] == 2, "\(most)")
        #expect((most["198.51.100.0/24"] ?? 0) <= 2)
        #expect(await slots.inUse("192.0.2.0/24") == 0, "every slot given back")
    }
}

final class Peak: Sendable {
    let state = Locked((now: [String: Int](), most: [String: Int]()))
}
