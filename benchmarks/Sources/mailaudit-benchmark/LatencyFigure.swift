import Foundation
import MailAuditCore
import MailAuditTesting

/// The single-domain latency of the whole binary, from process start to exit, against the
/// critical path: DNS-only (four dependent round trips through the delaying proxy) and with
/// the STARTTLS probe of bench.test's three MX hosts (a real Postfix on 127.0.10.1-3 with
/// certificates from a test CA made here). SMTP runs on loopback, so the probe adds its own
/// handshakes but no added delay: its critical path is MX → address (two round trips), then
/// the probe, beside reverse DNS (four round trips).
func latencyFigure(proxyPort: UInt16, rtt: Duration, runs: Int) async throws {
    let mailaudit = try builtProductPath("mailaudit")
    let resolver = "127.0.0.1:\(proxyPort)"
    let dnsOnly = ["bench.test", "--no-probe", "--resolver", resolver, "--allow-private-addresses", "--format", "json"]
    let startup = try await medianWall(of: mailaudit, ["--version"], runs: runs)
    let dnsWall = try await medianWall(of: mailaudit, dnsOnly, runs: runs)
    let chain = rtt * chainLength

    let ca = try await TestCA.create()
    defer { ca.remove() }
    var listeners: [PostfixServer.Listener] = []
    for index in 1...3 {
        let certificate = try await ca.issue(.valid, for: "mx\(index).bench.test")
        listeners.append(.starttls("mx\(index)", address: "127.0.10.\(index)", hostName: "mx\(index).bench.test", chainFile: certificate.chainFile))
    }
    let postfix = PostfixServer(listeners: listeners)
    try await postfix.start()
    defer { postfix.stop() }
    let withProbe = dnsOnly.filter { $0 != "--no-probe" } + [
        "--smtp-port", "\(try postfix.requirePort())", "--ca-file", ca.rootFile.path,
        "--verification-time", ISO8601DateFormatter().string(from: TestCA.referenceTime),
    ]
    // The probe's own time on loopback, measured alone: one handshake sequence, no added delay.
    let probeWall = try await medianWall(of: mailaudit, withProbe, runs: runs)

    print("")
    print("single-domain latency of the binary (process start to exit, median of \(runs)), bench.test, \(milliseconds(rtt).formatted(1)) ms per DNS round trip")
    print("  process start-up alone (--version)              \(milliseconds(startup).formatted(1)) ms")
    print("  critical path, DNS only: 4 round trips          \(milliseconds(chain).formatted(1)) ms")
    print("  DNS-only audit                                  \(milliseconds(dnsWall).formatted(1)) ms   ratio \((milliseconds(dnsWall) / milliseconds(chain)).formatted(2))")
    print("  audit with the STARTTLS probe of 3 MX hosts     \(milliseconds(probeWall).formatted(1)) ms   ratio \((milliseconds(probeWall) / milliseconds(chain)).formatted(2)) to the DNS path")
}

/// The median wall time of `runs` runs of the binary; a run that fails to produce output stops the benchmark.
private func medianWall(of binary: URL, _ arguments: [String], runs: Int) async throws -> Duration {
    var walls: [Duration] = []
    for _ in 0..<max(1, runs) {
        let start = ContinuousClock.now
        let result = try await runProcess(binary, arguments, timeout: .seconds(120))
        walls.append(ContinuousClock.now - start)
        if result.stdout.isEmpty { fail("mailaudit \(arguments.joined(separator: " ")) printed nothing: \(result.stderr.prefix(500))") }
    }
    return walls.sorted()[walls.count / 2]
}

private extension Double {
    func formatted(_ digits: Int) -> String { String(format: "%.\(digits)f", self) }
}
