public import Foundation
public import MailAuditCore
import MailAuditRecords
public import MailAuditSMTP
import MailAuditTLS

/// What `mailaudit relay` was asked to check.
public struct RelayOptions: Sendable {
    /// The relay's host name or address, as typed.
    public var host: String
    /// The port; nil tries ``RelayPorts/candidates`` at once and continues on the best.
    public var port: UInt16?
    public var security: RelaySecurity = .auto
    public var user: String?
    public var password: Secret?
    /// The envelope sender and recipient; MAIL and RCPT are skipped without them.
    public var from: String?
    public var to: String?
    /// More recipients after ``to``, each with its own RCPT (the scheduled report's list).
    public var moreRecipients: [String] = []
    /// Really send a short test message (DATA).
    public var sendTest = false
    /// The message DATA sends under ``sendTest``, instead of the short test message (a
    /// scheduled report, already rendered with CRLF or LF line ends).
    public var message: String?
    public var ehloName: String
    public var caFile: String?
    public var credentialPolicy = CredentialPolicy.verifiedTLS
    public var timeouts = SMTPTimeouts(connect: .seconds(10), greeting: .seconds(20), command: .seconds(20), tlsHandshake: .seconds(20),
                                       data: .seconds(60), total: .seconds(120))
    /// The time to judge certificates at (tests); nil is now.
    public var verificationTime: Date?
    public var expiryWarningDays = 14

    public init(host: String, ehloName: String) {
        self.host = host
        self.ehloName = ehloName
    }
}

/// Walks the path from an application to its SMTP relay, step by step, and names the first
/// step that fails: DNS, TCP, greeting, EHLO, TLS, AUTH, MAIL, RCPT and (on request) DATA.
///
/// ```swift
/// var options = RelayOptions(host: "smtp.example.com", ehloName: "app.example.org")
/// options.user = "app@example.com"; options.password = Secret(password)
/// let report = await RelayDiagnosis(resolver: resolver, options: options).run()
/// report.firstFailure   // RelayFirstFailure(step: .auth, category: .authentication)
/// ```
///
/// The whole walk ends by ``SMTPTimeouts/total`` whatever the server does; every step has its
/// own timeout within it.
public struct RelayDiagnosis: Sendable {
    public let resolver: any Resolver
    public let options: RelayOptions
    private static let threads = DedicatedThreads(limit: 8)

    public init(resolver: any Resolver, options: RelayOptions) {
        self.resolver = resolver
        self.options = options
    }

    public func run() async -> RelayReport {
        let started = ContinuousClock.now
        var report = await walk()
        report.duration = .now - started
        return report
    }

    private func walk() async -> RelayReport {
        let startedAt = Date()
        let started = ContinuousClock.now
        let deadline = started + options.timeouts.total
        var report = RelayReport(
            host: options.host, port: options.port, security: options.security, address: nil, steps: [], ports: [],
            capabilities: nil, tls: nil, authMechanism: nil, providerHints: [], transcript: [], startedAt: startedAt, duration: .zero)

        let (dnsStep, addresses) = await lookUp(deadline: deadline)
        report.steps.append(dnsStep)
        guard !addresses.isEmpty else {
            report.steps += RelayStep.notReached(from: .connect, after: "dns")
            return report
        }

        let ports = options.port.map { [$0] } ?? RelayPorts.candidates
        let attempts = await connect(addresses: addresses, ports: ports, deadline: deadline)
        report.ports = attempts.map(\.attempt)
        guard let chosen = attempts.first(where: { $0.session != nil }), let box = chosen.session else {
            report.steps.append(RelayVerdicts.connectFailure(report.ports, portGiven: options.port != nil))
            report.steps += RelayStep.notReached(from: .greeting, after: "connect")
            return report
        }
        for other in attempts where other.port != chosen.port { other.session?.session.close() }
        report.port = chosen.port
        report.address = chosen.attempt.address
        report.steps.append(RelayVerdicts.connected(report.ports, chosen: chosen.port, portGiven: options.port != nil))

        let dialogue = RelayDialogue(options: options)
        let outcome = await Self.threads.run { dialogue.walk(box.session) }
        report.steps += outcome.steps
        report.capabilities = outcome.capabilities
        report.tls = outcome.tls
        report.authMechanism = outcome.authMechanism
        report.transcript = outcome.transcript
        if report.firstFailure != nil, let hint = RelayProviders.hint(forHost: options.host) {
            report.providerHints = (hint.hints + hint.notes + [hint.portNote]).filter { !$0.isEmpty }.map { "\(hint.name): \($0)" }
        }
        return report
    }

    /// The dns step within the walk's deadline; a resolver still busy then is inconclusive.
    /// The lookup is left to finish on its own: the resolver's own timeouts end it.
    func lookUp(deadline: ContinuousClock.Instant) async -> (RelayStep, [IPAddress]) {
        let late = (RelayStep(.dns, .inconclusive, "no DNS answer for \(options.host) before the deadline",
                              remedy: "Check this machine's DNS resolver (/etc/resolv.conf or --resolver), or raise --deadline."), [IPAddress]())
        let gate = OnceGate()
        return await withCheckedContinuation { continuation in
            @Sendable func finish(_ result: (RelayStep, [IPAddress])) {
                if gate.claim() { continuation.resume(returning: result) }
            }
            Task { finish(await lookUp()) }
            Task {
                try? await Task.sleep(until: deadline, clock: .continuous)
                finish(late)
            }
        }
    }

    /// The dns step: the relay's addresses (A first, then AAAA), or why there are none.
    func lookUp() async -> (RelayStep, [IPAddress]) {
        if let literal = IPAddress(options.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))) {
            return (RelayStep(.dns, .skipped, "\(literal) is an address: nothing to look up"), [literal])
        }
        guard let name = try? DomainName(parsing: options.host) else {
            return (RelayStep(.dns, .fail, "\"\(options.host)\" is not a valid host name", category: .dns,
                              remedy: "Give the relay's host name as your provider documents it, for example smtp.example.com.",
                              reference: "RFC 1123 §2.1"), [])
        }
        async let v4 = resolver.resolve(name, .a)
        async let v6 = resolver.resolve(name, .aaaa)
        let answers = await [v4, v6]
        return RelayVerdicts.dns(name: name, answers: answers)
    }

    /// Connects to every port at once, each trying the addresses in order.
    func connect(addresses: [IPAddress], ports: [UInt16], deadline: ContinuousClock.Instant) async -> [PortConnection] {
        let options = self.options
        return await withTaskGroup(of: PortConnection.self) { group in
            for port in ports {
                group.addTask {
                    await Self.threads.run { PortConnection.open(port: port, addresses: addresses, options: options, deadline: deadline) }
                }
            }
            var results: [PortConnection] = []
            for await result in group { results.append(result) }
            return results.sorted { (ports.firstIndex(of: $0.port) ?? 0) < (ports.firstIndex(of: $1.port) ?? 0) }
        }
    }
}

/// Lets exactly one of several racing tasks through.
final class OnceGate: Sendable {
    private let passed = Locked(false)

    /// True for the first caller only.
    func claim() -> Bool {
        passed.withLock { passed in
            defer { passed = true }
            return !passed
        }
    }
}

/// An open session handed from the thread that connected it to the thread that walks it;
/// only one thread uses it at a time.
final class SessionBox: @unchecked Sendable {
    let session: SMTPSession
    init(_ session: SMTPSession) { self.session = session }
}

/// One candidate port: how it answered, and the open session when it connected.
struct PortConnection: Sendable {
    var port: UInt16
    var address: IPAddress?
    var attempt: PortAttempt
    var session: SessionBox?

    static func open(port: UInt16, addresses: [IPAddress], options: RelayOptions, deadline: ContinuousClock.Instant) -> PortConnection {
        var first: PortConnection?
        for address in addresses {
            let endpoint = SMTPEndpoint(address: address, port: port, hostName: options.host, security: options.security.resolved(for: port))
            let tls = TLSClientConfiguration(
                serverName: options.host, trust: options.caFile.map { .caFile($0) } ?? .system, verificationTime: options.verificationTime)
            let started = ContinuousClock.now
            do {
                let session = try SMTPSession.connect(
                    to: endpoint, ehloName: options.ehloName, tls: tls, timeouts: options.timeouts, deadline: deadline)
                let attempt = PortAttempt(port: port, address: address.description, result: .connected, detail: nil,
                                          milliseconds: (ContinuousClock.now - started).wholeMilliseconds)
                return PortConnection(port: port, address: address, attempt: attempt, session: SessionBox(session))
            } catch {
                let result: PortAttempt.Result = switch error {
                case .refused: .refused
                case .timedOut: .timedOut
                case .unreachable: .unreachable
                case .failed: .failed
                }
                let attempt = PortAttempt(port: port, address: address.description, result: result, detail: error.description,
                                          milliseconds: (ContinuousClock.now - started).wholeMilliseconds)
                if first == nil { first = PortConnection(port: port, address: address, attempt: attempt, session: nil) }
            }
        }
        // The caller passes at least one address; an empty list still gives a plain failure.
        return first ?? PortConnection(
            port: port, address: addresses.first,
            attempt: PortAttempt(port: port, address: "", result: .failed, detail: "no address to connect to"), session: nil)
    }
}
