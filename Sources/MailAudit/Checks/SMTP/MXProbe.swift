public import Foundation
public import MailAuditCore
public import MailAuditSMTP
public import MailAuditTLS

/// The name mailaudit gives in EHLO when none is configured: this machine's host name, or
/// `mailaudit.invalid` (RFC 2606) when that is no valid host name.
public enum EHLOName {
    public static var local: String {
        (try? DomainName(parsing: ProcessInfo.processInfo.hostName))?.description ?? "mailaudit.invalid"
    }
}

/// How the audit probes MX hosts on port 25 (RFC 5321, RFC 3207). No mail is ever sent.
public struct ProbeOptions: Sendable {
    /// The port to probe; 25 unless a lab says otherwise (`--smtp-port`).
    public var port: UInt16 = 25
    /// The name mailaudit gives in EHLO.
    public var ehloName: String
    /// PEM roots to trust instead of the system store (`--ca-file`).
    public var caFile: String?
    /// Verify certificates as at this time instead of now (tests and labs).
    public var verificationTime: Date?
    /// A certificate expiring within this many days is a warning (`--expiry-warning-days`).
    public var expiryWarningDays = 14
    /// Per-stage timeouts; the audit bounds `total` by its own deadline.
    public var timeouts = SMTPTimeouts.default
    /// At most this many probes at once into one IPv4 /24 or IPv6 /64 (`--probes-per-network`);
    /// each address is probed once per run whatever this says.
    public var maximumPerNetwork = 4

    public init(ehloName: String) { self.ehloName = ehloName }
}

/// Probes addresses for the whole run: each (address, port) once, however many MX names or
/// domains share it, all at once under the prober's bound.
actor ProbeRunner {
    let options: ProbeOptions
    private let prober: SMTPProber
    private var probes: [String: Task<ProbeResult, Never>] = [:]

    /// How long an audit may take, for probes started outside ``AuditDeadline``.
    private let deadline: Duration

    private let slots: NetworkSlots

    init(options: ProbeOptions, deadline: Duration, prober: SMTPProber = .shared) {
        self.options = options
        self.prober = prober
        self.deadline = deadline
        slots = NetworkSlots(limit: options.maximumPerNetwork)
    }

    /// The probe of `address`, started by the first caller; later callers share it.
    func probe(_ address: IPAddress, hostName: DomainName) async -> ProbeResult {
        let key = "\(address)|\(options.port)"
        if let running = probes[key] { return await running.value }
        let options = self.options
        let prober = self.prober
        let slots = self.slots
        // Probes do not stop on cancellation, so each gets only its audit's remaining time: the
        // deadline of the audit that asked (a long streamed run starts audits late), not the run's.
        let end = AuditDeadline.end ?? .now + deadline
        let network = NetworkSlots.network(of: address)
        let started = Task {
            await slots.acquire(network)
            // A probe queued behind the per-network limit (or the prober's threads) past the
            // deadline is not started, and one running is cut at it: the deadline is an instant.
            let result = await prober.probe(
                address: address, port: options.port, hostName: hostName.description, ehloName: options.ehloName,
                timeouts: options.timeouts, caFile: options.caFile, verificationTime: options.verificationTime, deadline: end)
            await slots.release(network)
            return result
        }
        probes[key] = started
        return await started.value
    }
}

/// The end of the audit under way, for the probes it starts (a task-local value, inherited by
/// the audit's child tasks).
enum AuditDeadline {
    @TaskLocal static var end: ContinuousClock.Instant?
}

/// One MX address to probe, with every MX name of the domain that points at it.
public struct ProbeTarget: Hashable, Sendable {
    public var address: IPAddress
    public var hostNames: [DomainName]

    public init(address: IPAddress, hostNames: [DomainName]) {
        self.address = address
        self.hostNames = hostNames
    }
}

extension MailRouting {
    /// Each address of a real MX host once, with the names that point at it, in host order.
    /// Linear in the addresses (an index by address, not a search per address).
    var probeTargets: [ProbeTarget] {
        guard !isImplicit || !hosts.isEmpty else { return [] }
        var targets: [ProbeTarget] = []
        var index: [IPAddress: Int] = [:]
        for host in hosts where host.name != .root {
            for address in host.addresses {
                if let position = index[address] {
                    // At most maximumHosts names per address: this search is bounded.
                    if !targets[position].hostNames.contains(host.name) { targets[position].hostNames.append(host.name) }
                } else {
                    index[address] = targets.count
                    targets.append(ProbeTarget(address: address, hostNames: [host.name]))
                }
            }
        }
        return targets
    }
}

/// What one probe saw, for the JSON report: the facts behind the `smtp.*` findings.
public struct ProbeSummary: Hashable, Sendable, Codable {
    public var address: IPAddress
    public var port: UInt16
    public var hostNames: [DomainName]
    /// `completed`, `refused`, `timeout`, `closed`, `rate-limited`, `rejected`, `protocol-error`,
    /// `tls-failed` or `network-error`.
    public var outcome: String
    /// The outcome in words, for example "timed out at greeting".
    public var detail: String
    /// The stage the dialogue reached.
    public var stage: ProbeStage
    public var greeting: String?
    public var offersSTARTTLS: Bool
    public var tls: TLSFacts?
    public var durationMs: Int

    init(target: ProbeTarget, result: ProbeResult) {
        address = target.address
        port = result.port
        hostNames = target.hostNames
        outcome = switch result.outcome {
        case .completed: "completed"
        case .refused: "refused"
        case .timeout: "timeout"
        case .closed: "closed"
        case .rateLimited: "rate-limited"
        case .rejected: "rejected"
        case .protocolError: "protocol-error"
        case .tlsFailed: "tls-failed"
        case .networkError: "network-error"
        }
        detail = result.outcome.description
        stage = result.stage
        greeting = result.greeting.map { "\($0.code) \($0.lines.first ?? "")" }
        offersSTARTTLS = result.offersSTARTTLS
        tls = result.tls
        durationMs = result.duration.wholeMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case address, port, hostNames, outcome, detail, stage, greeting, offersSTARTTLS, tls, durationMs
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(address, forKey: .address)
        try container.encode(port, forKey: .port)
        try container.encode(hostNames, forKey: .hostNames)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(detail, forKey: .detail)
        try container.encode(stage, forKey: .stage)
        try container.encode(greeting, forKey: .greeting)
        try container.encode(offersSTARTTLS, forKey: .offersSTARTTLS)
        try container.encode(tls, forKey: .tls)
        try container.encode(durationMs, forKey: .durationMs)
    }
}
