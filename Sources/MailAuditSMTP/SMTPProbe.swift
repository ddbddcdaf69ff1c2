public import Foundation
public import MailAuditCore
public import MailAuditRecords
public import MailAuditTLS

/// The stages of a probe, in order. A result's stage is the one it ended in.
public enum ProbeStage: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case connect
    /// The handshake: after STARTTLS, or first for implicit TLS.
    case tlsHandshake = "tls-handshake"
    /// Waiting for the 220 greeting (RFC 5321 §3.1).
    case greeting
    case ehlo
    /// The STARTTLS command and its reply (RFC 3207 §4).
    case startTLS = "starttls"
    /// EHLO again over TLS (RFC 3207 §4.2).
    case ehloAfterTLS = "ehlo-after-tls"
    case quit
    /// The dialogue completed.
    case done

    public var description: String { rawValue }
}

/// How a probe ended.
extension ProbeOutcome {
    /// The probe's turn came after its deadline, so no connection was made (inconclusive).
    public static let notStarted = ProbeOutcome.networkError("not started: the deadline had passed")
}

public enum ProbeOutcome: Hashable, Sendable, CustomStringConvertible {
    /// The dialogue completed: greeting, EHLO, STARTTLS and TLS if offered, EHLO again. The TLS
    /// facts say whether the certificate is any good; a failed QUIT is only noted.
    case completed
    /// The TCP connection was refused: nothing listens on that address and port.
    case refused
    /// The stage did not finish in its time, or the probe's deadline passed during it.
    case timeout(ProbeStage)
    /// The server closed the connection during the stage.
    case closed(ProbeStage)
    /// The server said it is busy or limiting us (421, 450, 451, or such words): inconclusive.
    case rateLimited(SMTPReply)
    /// The server refused the stage's command or greeted with another code than 220, for
    /// example "554 no SMTP service here" (RFC 5321 §3.1) or 502 to EHLO.
    case rejected(SMTPReply)
    /// The server's text broke the protocol or the limits (a line too long, a bad code).
    case protocolError(String)
    /// The TLS handshake failed; the text is OpenSSL's reason.
    case tlsFailed(String)
    /// The address cannot be reached, or the socket failed.
    case networkError(String)

    /// True when the probe could not tell whether the server works: a timeout, a rate limit,
    /// or a network that does not reach it. A refusal or a broken dialogue is a result.
    public var isInconclusive: Bool {
        switch self {
        case .timeout, .rateLimited, .networkError: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .completed: "completed"
        case .refused: "connection refused"
        case .timeout(let stage): "timed out at \(stage)"
        case .closed(let stage): "closed by the server at \(stage)"
        case .rateLimited(let reply): "rate-limited: \(reply.code) \(reply.text)"
        case .rejected(let reply): "rejected: \(reply.code) \(reply.text)"
        case .protocolError(let reason): "protocol error: \(reason)"
        case .tlsFailed(let reason): "TLS failed: \(reason)"
        case .networkError(let reason) where self == .notStarted: reason
        case .networkError(let reason): "network error: \(reason)"
        }
    }
}

/// Everything one probe of one address saw.
public struct ProbeResult: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    /// The MX host name the certificate is checked against.
    public var hostName: String?
    public var security: SMTPSecurity
    public var outcome: ProbeOutcome
    /// The stage the probe ended in (``ProbeStage/done`` when it completed).
    public var stage: ProbeStage
    /// The first reply, normally 220 (RFC 5321 §4.3.1).
    public var greeting: SMTPReply?
    /// The EHLO capabilities before TLS (or over implicit TLS).
    public var capabilities: SMTPCapabilities?
    /// The reply to STARTTLS, when it was sent.
    public var startTLSReply: SMTPReply?
    /// The TLS handshake's facts, when it completed.
    public var tls: TLSFacts?
    /// The EHLO capabilities after STARTTLS.
    public var capabilitiesAfterTLS: SMTPCapabilities?
    /// Every line sent and received, with notes; AUTH secrets are redacted.
    public var transcript: [TranscriptLine]
    /// How long the probe took.
    public var duration: Duration

    public init(
        address: IPAddress, port: UInt16, hostName: String?, security: SMTPSecurity, outcome: ProbeOutcome, stage: ProbeStage,
        greeting: SMTPReply? = nil, capabilities: SMTPCapabilities? = nil, startTLSReply: SMTPReply? = nil, tls: TLSFacts? = nil,
        capabilitiesAfterTLS: SMTPCapabilities? = nil, transcript: [TranscriptLine] = [], duration: Duration = .zero
    ) {
        self.address = address
        self.port = port
        self.hostName = hostName
        self.security = security
        self.outcome = outcome
        self.stage = stage
        self.greeting = greeting
        self.capabilities = capabilities
        self.startTLSReply = startTLSReply
        self.tls = tls
        self.capabilitiesAfterTLS = capabilitiesAfterTLS
        self.transcript = transcript
        self.duration = duration
    }

    /// True when the EHLO reply announced STARTTLS.
    public var offersSTARTTLS: Bool { capabilities?.supportsSTARTTLS ?? false }
}

/// Probes SMTP servers: connect, greeting, EHLO, STARTTLS and the TLS handshake, EHLO
/// again, QUIT. It never sends MAIL, RCPT or DATA.
///
/// ```swift
/// let result = await SMTPProber.shared.probe(
///     address: IPAddress("192.0.2.25")!, hostName: "mx1.example.com", ehloName: "audit.example.org")
/// switch result.outcome { case .completed: print(result.tls?.verification.result ?? "no TLS") … }
/// ```
///
/// Each probe runs on a thread of its own, never on Swift's cooperative pool, with at most
/// `maximumConcurrentProbes` at once; it is safe to call `probe` concurrently for many
/// addresses. Each probe ends by its ``SMTPTimeouts/total`` deadline whatever the server does.
public final class SMTPProber: Sendable {
    /// A prober shared by the process, with 64 probes at once.
    public static let shared = SMTPProber(maximumConcurrentProbes: 64)

    public var maximumConcurrentProbes: Int { threads.limit }
    private let threads: DedicatedThreads

    public init(maximumConcurrentProbes: Int = 64) {
        threads = DedicatedThreads(limit: maximumConcurrentProbes)
    }

    /// Probes one address.
    ///
    /// - Parameters:
    ///   - port: 25 for MX hosts, 587 for submission (RFC 6409), 465 for submission over
    ///     implicit TLS (RFC 8314 §3.3).
    ///   - hostName: the MX name: sent as SNI and checked against the certificate.
    ///   - ehloName: the name mailaudit gives in EHLO (RFC 5321 §4.1.1.1).
    ///   - caFile: PEM roots to trust instead of the system store.
    ///   - verificationTime: the time to verify the certificate at (default now).
    ///   - deadline: an instant no part of the probe outlives, however long it waited for a
    ///     thread; a probe whose turn comes after it is not started (``ProbeOutcome/notStarted``).
    /// - Returns: the result; every failure is an ``ProbeOutcome``, nothing is thrown.
    public func probe(
        address: IPAddress, port: UInt16 = 25, hostName: String?, ehloName: String, security: SMTPSecurity = .startTLS,
        timeouts: SMTPTimeouts = .default, limits: SMTPLimits = SMTPLimits(), caFile: String? = nil, verificationTime: Date? = nil,
        deadline: ContinuousClock.Instant? = nil
    ) async -> ProbeResult {
        let dialogue = ProbeDialogue(
            address: address, port: port, hostName: hostName, ehloName: ehloName, security: security, timeouts: timeouts,
            limits: limits, end: deadline,
            tls: TLSClientConfiguration(
                serverName: hostName, trust: caFile.map { .caFile($0) } ?? .system, verificationTime: verificationTime))
        return await threads.run { dialogue.run() }
    }
}

/// One probe's dialogue, run synchronously on its own thread.
struct ProbeDialogue: Sendable {
    let address: IPAddress
    let port: UInt16
    let hostName: String?
    let ehloName: String
    let security: SMTPSecurity
    let timeouts: SMTPTimeouts
    let limits: SMTPLimits
    /// The caller's deadline, an instant: waiting for a thread does not move it.
    let end: ContinuousClock.Instant?
    let tls: TLSClientConfiguration

    func run() -> ProbeResult {
        let started = ContinuousClock.now
        let deadline = min(started + timeouts.total, end ?? started + timeouts.total)
        var result = ProbeResult(address: address, port: port, hostName: hostName, security: security, outcome: .completed, stage: .connect)
        defer { result.duration = .now - started }
        if let end, end <= started {
            result.outcome = .notStarted
            return result
        }

        let endpoint = SMTPEndpoint(address: address, port: port, hostName: hostName, security: security)
        let session: SMTPSession
        do {
            session = try SMTPSession.connect(
                to: endpoint, ehloName: ehloName, tls: tls, timeouts: timeouts, limits: limits, deadline: deadline)
        } catch {
            result.outcome = switch error {
            case .refused: .refused
            case .timedOut: .timeout(.connect)
            case .unreachable(let reason), .failed(let reason): .networkError(reason)
            }
            result.transcript = [TranscriptLine(.note, "connect to \(address) port \(port): \(error)", at: .now - started)]
            result.duration = .now - started
            return result
        }
        do {
            try converse(session, &result)
            if result.outcome == .completed { result.stage = .done }
        } catch {
            result.outcome = outcome(of: error, at: result.stage)
            session.client.note("\(result.outcome)")
        }
        session.close()
        result.transcript = session.client.transcript
        result.duration = .now - started
        return result
    }

    /// The dialogue; throws at the first error, with `result.stage` saying where.
    private func converse(_ session: SMTPSession, _ result: inout ProbeResult) throws(SMTPClientError) {
        if security == .implicitTLS {
            result.stage = .tlsHandshake
            result.tls = try session.startImplicitTLS()
        }
        result.stage = .greeting
        let greeting = try session.readGreeting()
        result.greeting = greeting
        guard greeting.code == 220 else { return refuse(greeting, session, &result) }

        result.stage = .ehlo
        let ehlo = try session.ehlo()
        guard ehlo.code == 250, let capabilities = session.capabilities else { return refuse(ehlo, session, &result) }
        result.capabilities = capabilities

        if security == .startTLS && capabilities.supportsSTARTTLS {
            result.stage = .startTLS
            let reply: SMTPReply
            do { reply = try session.startTLS() } catch {
                if case .tls = error { result.stage = .tlsHandshake }
                throw error
            }
            result.startTLSReply = reply
            guard reply.code == 220 else { return refuse(reply, session, &result) }
            result.tls = session.tls
            // RFC 3207 §4.2: forget the old capabilities and ask again over TLS.
            result.stage = .ehloAfterTLS
            let again = try session.ehlo()
            guard again.code == 250 else { return refuse(again, session, &result) }
            result.capabilitiesAfterTLS = session.capabilities
        }

        result.stage = .quit
        // Everything was seen already: the reply to QUIT would change nothing, so it is not awaited.
        session.quit(waitForReply: false)
    }

    /// Records a refusing reply as the outcome and says goodbye, except after 421: the server
    /// is closing the channel already (RFC 5321 §3.8).
    private func refuse(_ reply: SMTPReply, _ session: SMTPSession, _ result: inout ProbeResult) {
        result.outcome = reply.indicatesRateLimiting ? .rateLimited(reply) : .rejected(reply)
        guard reply.code != 421 else { return }
        session.quit(waitForReply: false)
    }

    private func outcome(of error: SMTPClientError, at stage: ProbeStage) -> ProbeOutcome {
        switch error {
        case .timedOut: .timeout(stage)
        case .closed: .closed(stage)
        case .malformedReply(let reason): .protocolError(reason.description)
        case .tls(.timedOut): .timeout(.tlsHandshake)
        case .tls(.closed): .closed(.tlsHandshake)
        case .tls(.handshakeFailed(let reason)), .tls(.configuration(let reason)): .tlsFailed(reason)
        case .tls(let failure): .tlsFailed(failure.description)  // strict-mode refusals; the probe observes
        case .network(let reason): .networkError(reason)
        case .invalidCommand(let command): .protocolError("cannot send \(command)")
        case .credentialsWithheld, .noUsableMechanism: .protocolError(error.description)
        }
    }
}
