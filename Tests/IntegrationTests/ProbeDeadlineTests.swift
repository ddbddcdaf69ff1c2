import Foundation
import MailAuditCore
import MailAuditSMTP
import MailAuditTesting
import Testing

/// Probes queued behind the prober's thread limit must not start after the deadline, and a
/// running probe is cut at it (issue 12: 200 tarpits under a 60 s deadline took 180 s).
@Suite(.tags(.hostile), .timeLimit(.minutes(1)))
struct ProbeDeadlineTests {
    @Test func queuedProbesDoNotStartAfterTheDeadlineAndRunningOnesAreCut() async throws {
        // A tarpit: it accepts and never greets.
        let tarpit = SilentListener(udp: false, tcp: true)
        try await tarpit.start()
        defer { Task { await tarpit.stop() } }
        let port = try #require(tarpit.port)
        // One thread: the second and third probes queue behind the first.
        let prober = SMTPProber(maximumConcurrentProbes: 1)
        let timeouts = SMTPTimeouts(greeting: .seconds(20), total: .seconds(20))
        let started = ContinuousClock.now
        let deadline = started + .seconds(2)
        let results = await withTaskGroup(of: ProbeResult.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    await prober.probe(address: .v4([127, 0, 0, 1]), port: port, hostName: "tarpit.test", ehloName: "audit.test",
                                       timeouts: timeouts, deadline: deadline)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - started
        // Without the deadline the queued probes would each wait their 20 s greeting timeout;
        // the margin is for a loaded machine, not a speed claim.
        #expect(elapsed < .seconds(10), "took \(elapsed) under a 2 s deadline")
        #expect(results.filter { $0.outcome == .notStarted }.count == 2, "\(results.map(\.outcome))")
        #expect(results.contains { $0.outcome == .timeout(.greeting) })
    }
}

