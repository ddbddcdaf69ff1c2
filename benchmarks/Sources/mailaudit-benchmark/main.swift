// The speed benchmark: one audit against a real NSD behind a proxy that delays every DNS
// answer by a fixed amount (this kernel has no netem). It prints the figures; it asserts nothing.
//
//   benchmarks/run [--delay-ms 50] [--runs 5] [--bulk 2000,10000 [--peer-size 2000]]
//
// --peer-size N runs checkdmarc beside mailaudit at that bulk size (default the first; 0: never).
import Foundation
import MailAudit
import MailAuditDNS
import MailAuditTesting

struct Figures {
    var wall: Duration
    var statistics: ResolverStatistics
    var proxyForwarded: Int
    var proxyRepeats: Int
}

func argument(_ name: String, default value: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let number = Int(arguments[index + 1]) else {
        return value
    }
    return number
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("mailaudit-benchmark: \(message)\n".utf8))
    exit(1)
}

let delayMs = argument("--delay-ms", default: 50)
let runs = argument("--runs", default: 5)
let delay = Duration.milliseconds(delayMs)
// MX → address of each MX host → PTR of each address → address of each PTR name.
let chainLength = 4

/// The probe figure: a domain whose three MX hosts each delay their greeting, against a domain
/// whose one MX host is the slowest of them. Every host listens on 127.0.1.5x only.
func probeFigure() async throws {
    let delays: [Duration] = [.milliseconds(600), .milliseconds(800), .milliseconds(1000)]
    let port = try LoopbackPorts.freeTCPPort(on: (51...53).map { IPAddress.v4([127, 0, 1, UInt8($0)]) })
    var listeners: [HostileSMTPListener] = []
    var zone = "$ORIGIN probe.test.\n$TTL 300\n@ IN SOA ns.probe.test. h.probe.test. 1 3600 600 86400 300\n@ IN NS ns.probe.test.\nns IN A 127.0.0.1\n"
    for (index, delay) in delays.enumerated() {
        let listener = HostileSMTPListener(.slowGreeting(after: delay), address: "127.0.1.\(51 + index)", port: port)
        try await listener.start()
        listeners.append(listener)
        zone += "three IN MX \(10 * (index + 1)) mx\(index + 1).probe.test.\nmx\(index + 1) IN A 127.0.1.\(51 + index)\n"
    }
    zone += "slowest IN MX 10 mx3.probe.test.\n"
    let nsd = NSDServer(zones: [.text("probe.test", zone)])
    try await nsd.start()
    let nameserver = Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try nsd.requirePort()))
    func wall(_ domain: String) async throws -> Duration {
        var options = AuditOptions()
        options.allowPrivateAddresses = true
        var probe = ProbeOptions(ehloName: "bench.mailaudit.test")
        probe.port = port
        options.probe = probe
        let auditor = Auditor(resolver: DNSClient.make(nameservers: [nameserver]), options: options)
        let clock = ContinuousClock()
        let start = clock.now
        let reports = await auditor.audit([try DomainName(parsing: domain)])
        guard reports.first?.findings.contains(where: { $0.id == "smtp.no-starttls" }) == true else {
            fail("the probe of \(domain) did not complete: \(reports.first?.findings.map(\.id.rawValue) ?? [])")
        }
        return clock.now - start
    }
    var three: [Duration] = []
    var one: [Duration] = []
    for _ in 0..<3 {
        three.append(try await wall("three.probe.test"))
        one.append(try await wall("slowest.probe.test"))
    }
    for listener in listeners { await listener.stop() }
    nsd.stop()
    let threeMedian = three.sorted()[1], oneMedian = one.sorted()[1]
    print("")
    print("probe figure: MX hosts that delay their greeting by 0.6, 0.8 and 1.0 s (127.0.1.51-53)")
    print("  audit of the domain with all three (median of 3)   \(String(format: "%.0f", milliseconds(threeMedian))) ms")
    print("  audit of a domain with the slowest alone            \(String(format: "%.0f", milliseconds(oneMedian))) ms")
    print("  ratio three / slowest                               \(String(format: "%.2f", milliseconds(threeMedian) / milliseconds(oneMedian)))  (1.0 means the probes overlap fully; 2.4 would be one after another)")
}

do {
    let nsd = try NSDServer(zoneDirectory: FixtureZones.sourceTreeDirectory)
    try await nsd.start()
    defer { nsd.stop() }
    let proxy = try DNSProxy(upstreamPort: try nsd.requirePort(), delay: delay)
    try await proxy.start()
    let proxyPort = try proxy.requirePort()
    let nameserver = Nameserver(address: .v4([127, 0, 0, 1]), port: Int(proxyPort))
    let domain = try DomainName(parsing: "bench.test")

    // The round-trip time through the proxy, measured, so the chain figure is honest.
    var rttSamples: [Duration] = []
    for index in 0..<5 {
        let resolver = NetworkResolver(nameservers: [nameserver], timeout: .seconds(2), attempts: 1)
        let clock = ContinuousClock()
        let start = clock.now
        _ = await resolver.resolve(DomainName(labels: ["rtt\(index)", "bench", "test"]), .a)
        rttSamples.append(clock.now - start)
    }
    let rtt = rttSamples.sorted()[rttSamples.count / 2]

    var results: [Figures] = []
    for _ in 0..<runs {
        proxy.resetStatistics()
        let resolver = DNSClient.make(nameservers: [nameserver], timeout: .seconds(2), attempts: 3)
        var options = AuditOptions()
        options.allowPrivateAddresses = true
        let clock = ContinuousClock()
        let start = clock.now
        let report = await Auditor(resolver: resolver, options: options).audit([domain])
        let wall = clock.now - start
        guard report.first?.findings.contains(where: { $0.id == "rdns.fcrdns" }) == true else {
            fail("the audit of bench.test did not reach reverse DNS; findings: \(report.first?.findings.map(\.id.rawValue) ?? [])")
        }
        let proxyStatistics = proxy.statistics
        results.append(Figures(
            wall: wall, statistics: await resolver.statistics(),
            proxyForwarded: proxyStatistics.totalForwarded,
            proxyRepeats: proxyStatistics.repeatedQuestions.values.reduce(0) { $0 + $1 - 1 }))
    }

    let walls = results.map(\.wall).sorted()
    let median = walls[walls.count / 2]
    let chain = rtt * chainLength
    let last = results[results.count - 1]
    print("mailaudit benchmark: one audit of bench.test (4 MX names, 3 hosts, 6 addresses)")
    print("  added delay per DNS answer       \(delayMs) ms (proxy in front of NSD on 127.0.0.1)")
    print("  measured round trip (median)     \(String(format: "%.1f", milliseconds(rtt))) ms")
    print("  longest dependent chain          \(chainLength) round trips (MX → address → PTR → address of PTR name)")
    print("  chain × RTT                      \(String(format: "%.1f", milliseconds(chain))) ms")
    print("  wall time, median of \(runs)          \(String(format: "%.1f", milliseconds(median))) ms"
        + "  (min \(String(format: "%.1f", milliseconds(walls[0]))), max \(String(format: "%.1f", milliseconds(walls[walls.count - 1]))))")
    print("  ratio wall / (chain × RTT)       \(String(format: "%.2f", milliseconds(median) / milliseconds(chain)))  (target ≤ 1.3)")
    print("  queries sent (resolver)          \(last.statistics.queriesSent) for \(last.statistics.uniqueQuestions) questions, \(last.statistics.uniqueNames) names")
    print("  queries seen by the proxy        \(last.proxyForwarded)")
    print("  repeated queries                 \(results.map(\.proxyRepeats).max() ?? 0) (proxy), \(results.map(\.statistics.repeatedQueries).max() ?? 0) (resolver); retries \(last.statistics.retries), TCP fallbacks \(last.statistics.tcpFallbacks)")

    if let index = CommandLine.arguments.firstIndex(of: "--serve-bulk"), index + 1 < CommandLine.arguments.count,
       let size = Int(CommandLine.arguments[index + 1]) {
        try await serveBulk(size: size)
    }
    try await latencyFigure(proxyPort: proxyPort, rtt: rtt, runs: runs)
    await proxy.stop()
    try await probeFigure()
    if let index = CommandLine.arguments.firstIndex(of: "--bulk"), index + 1 < CommandLine.arguments.count {
        let sizes = CommandLine.arguments[index + 1].split(separator: ",").compactMap { Int($0) }
        try await bulkFigure(sizes: sizes, peerSize: argument("--peer-size", default: sizes.first ?? 0))
    }
} catch {
    fail("\(error)")
}
