import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditSMTP
import MailAuditTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

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

/// TCP listeners on many loopback addresses, one port, that never accept: the kernel completes
/// each handshake and the connection waits in the backlog, so a client gets no greeting, ever.
private final class NeverGreetingListeners {
    private var descriptors: [Int32] = []
    private(set) var port: UInt16 = 0

    init(_ addresses: [[UInt8]]) throws {
        for address in addresses {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw HarnessError.socket("socket: errno \(errno)") }
            descriptors.append(socket)
            var on: Int32 = 1
            setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            socketAddress.sin_addr.s_addr = address.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(socket, 16) == 0 else { throw HarnessError.socket("bind \(address): errno \(errno)") }
            if port == 0 {
                var length = socklen_t(MemoryLayout<sockaddr_in>.size)
                _ = withUnsafeMutablePointer(to: &socketAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
                }
                port = UInt16(bigEndian: socketAddress.sin_port)
            }
        }
    }

    deinit { descriptors.forEach { _ = close($0) } }
}

extension ProbeDeadlineTests {
    /// 200 tarpit MX addresses, each in a /24 of its own, so the per-network limit queues none of
    /// them and they all wait for the prober's 64 threads (issue 12 item 2: 200 tarpits under a
    /// 60 s deadline took 180 s). Under a 10 s deadline the audit must end near its deadline:
    /// before the fix each queued probe, once it got a thread, waited up to its own 10 s again.
    @Test func tarpitsQueuedBehindTheProbersThreadsDoNotOutliveTheDeadline() async throws {
        let tarpits = try NeverGreetingListeners((1...200).map { [127, 41, UInt8($0), 1] })
        let server = HostileDNSServer { query in
            let name = query.question.name
            switch query.question.type {
            case .mx where name.description == "spread.test":
                return .message(HostileDNSReply(to: query, answers: (0..<20).map {
                    .mx(name, 10, DomainName(labels: ["mx\($0)", "spread", "test"]))
                }).bytes)
            case .a where name.labels.first?.hasPrefix("mx") == true:
                let host = Int(name.labels[0].dropFirst(2)) ?? 0
                return .message(HostileDNSReply(to: query, answers: (1...10).map {
                    .a(name, [127, 41, UInt8(host * 10 + $0), 1])
                }).bytes)
            default:
                return .message(HostileDNSReply(to: query, rcode: 3).bytes)
            }
        }
        try await server.start()
        defer { Task { await server.stop() } }
        var options = AuditOptions()
        options.checks = [.mx, .probe]
        options.deadline = .seconds(10)
        options.allowPrivateAddresses = true
        var probe = ProbeOptions(ehloName: "audit.test")
        probe.port = tarpits.port
        options.probe = probe
        let nameserver = Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try server.requirePort()))
        let resolver = DNSClient.make(nameservers: [nameserver], timeout: .seconds(2), attempts: 2)
        let started = ContinuousClock.now
        let report = try #require(await Auditor(resolver: resolver, options: options).audit([try DomainName(parsing: "spread.test")]).first)
        let elapsed = ContinuousClock.now - started
        // Unbounded, the 136 probes that wait for a thread add two or three more rounds of 10 s
        // (about 40 s in all); bounded, the audit ends at its deadline. The margin is for a loaded machine.
        #expect(elapsed < .seconds(20), "took \(elapsed) under a 10 s deadline")
        #expect(report.findings.contains { $0.id == "smtp.probe-not-started" }, "\(Set(report.findings.map(\.id.rawValue)))")
        withExtendedLifetime(tarpits) {}
    }
}
