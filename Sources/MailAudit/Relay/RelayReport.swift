public import Foundation
import MailAuditCore
public import MailAuditRecords
public import MailAuditSMTP
public import MailAuditTLS

/// The steps of a relay diagnosis, in the order they are walked.
public enum RelayStepName: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case dns, connect, greeting, ehlo, tls, auth, mail, rcpt, data
    public var description: String { rawValue }
}

/// How one step went.
public enum RelayStepStatus: String, Hashable, Sendable, Codable, CustomStringConvertible {
    case pass, warning, fail
    /// Not walked: not asked for (no --user, no --to), or not reached after a failure.
    case skipped
    /// Could not be checked (the resolver did not answer): never a pass or a failure.
    case inconclusive
    public var description: String { rawValue }
}

/// The five kinds of relay failure the troubleshooting guides sort every problem into.
public enum RelayCategory: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// The port cannot be reached: refused, filtered, unreachable, or the server hangs up.
    case connectivity
    /// Credentials, mechanisms, or relaying refused for want of authentication.
    case authentication
    /// The relay's host name, or a host name the server checks (EHLO, the sender's domain).
    case dns
    /// STARTTLS, implicit TLS, the handshake, versions and certificates.
    case tls
    /// Rate limits, relay policy, sender and recipient rules, reputation.
    case policy
    public var description: String { rawValue }

    /// The relay category of a reply's category.
    public init?(_ category: SMTPCategory) {
        switch category {
        case .success: return nil
        case .connectivity: self = .connectivity
        case .authentication: self = .authentication
        case .tls: self = .tls
        case .dns: self = .dns
        default: self = .policy
        }
    }
}

/// One step's verdict and what it saw.
public struct RelayStep: Hashable, Sendable, Codable {
    public var step: RelayStepName
    public var status: RelayStepStatus
    /// One line: what happened.
    public var summary: String
    /// What was seen: names looked up, ports tried, replies, capabilities, TLS facts.
    public var evidence: [String]
    /// For a failure or warning: which of the five kinds it is.
    public var category: RelayCategory?
    /// For a failure or warning: what to do.
    public var remedy: String?
    /// The standard behind the verdict.
    public var reference: String?
    /// The server's reply that decided the step, if any.
    public var reply: SMTPReply?

    public init(_ step: RelayStepName, _ status: RelayStepStatus, _ summary: String, evidence: [String] = [],
                category: RelayCategory? = nil, remedy: String? = nil, reference: String? = nil, reply: SMTPReply? = nil) {
        self.step = step
        self.status = status
        self.summary = summary
        self.evidence = evidence
        self.category = category
        self.remedy = remedy
        self.reference = reference
        self.reply = reply
    }

    static func skipped(_ step: RelayStepName, _ why: String) -> RelayStep { RelayStep(step, .skipped, why) }

    /// Every step from `first` on, skipped because `failed` did not pass.
    static func notReached(from first: RelayStepName, after failed: String) -> [RelayStep] {
        RelayStepName.allCases.drop { $0 != first }.map { skipped($0, "not reached: \(failed) did not pass") }
    }
}

/// How one candidate port answered the TCP connection.
public struct PortAttempt: Hashable, Sendable, Codable {
    public enum Result: String, Hashable, Sendable, Codable {
        case connected, refused
        /// No answer: a firewall drops the packets.
        case timedOut = "timed-out"
        case unreachable
        case failed
    }

    public var port: UInt16
    public var address: String
    public var result: Result
    public var detail: String?
    public var milliseconds: Int?
}

/// The root cause: the first step that failed.
public struct RelayFirstFailure: Hashable, Sendable, Codable {
    public var step: RelayStepName
    public var category: RelayCategory

    public init(step: RelayStepName, category: RelayCategory) {
        self.step = step
        self.category = category
    }
}

/// A whole relay diagnosis: every step in order, and the root cause.
public struct RelayReport: Sendable, Encodable {
    public var host: String
    /// The port the session used, once one connected.
    public var port: UInt16?
    public var security: RelaySecurity
    public var address: String?
    public var steps: [RelayStep]
    public var ports: [PortAttempt]
    public var capabilities: [String]?
    public var tls: TLSFacts?
    public var authMechanism: String?
    /// Provider-specific advice matched by the host name, when a step failed.
    public var providerHints: [String]
    /// Every line of the session; AUTH responses and the password never appear.
    public var transcript: [TranscriptLine]
    public var startedAt: Date
    public var duration: Duration

    /// The first failing step and its category, or nil when no step failed.
    public var firstFailure: RelayFirstFailure? {
        steps.first { $0.status == .fail }.map { RelayFirstFailure(step: $0.step, category: $0.category ?? .connectivity) }
    }

    /// 0 the relay works, 1 a step failed, 3 nothing failed but something could not be checked.
    public var exitCode: Int32 {
        if firstFailure != nil { return 1 }
        return steps.contains { $0.status == .inconclusive } ? 3 : 0
    }

    enum CodingKeys: String, CodingKey {
        case host, port, security, address, steps, ports, capabilities, tls, authMechanism, providerHints, transcript,
             startedAt, durationSeconds, firstFailure, exitCode, schemaVersion
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(1, forKey: .schemaVersion)
        try container.encode(host, forKey: .host)
        try container.encode(port, forKey: .port)
        try container.encode(security, forKey: .security)
        try container.encode(address, forKey: .address)
        try container.encode(steps, forKey: .steps)
        try container.encode(ports, forKey: .ports)
        try container.encode(capabilities, forKey: .capabilities)
        try container.encode(tls, forKey: .tls)
        try container.encode(authMechanism, forKey: .authMechanism)
        try container.encode(providerHints, forKey: .providerHints)
        try container.encode(transcript.map(\.description), forKey: .transcript)
        try container.encode(startedAt, forKey: .startedAt)
        let seconds = duration.inSeconds
        try container.encode((seconds * 1000).rounded() / 1000, forKey: .durationSeconds)
        // Explicit null when every step passed, so consumers can test the key.
        if let firstFailure { try container.encode(firstFailure, forKey: .firstFailure) } else { try container.encodeNil(forKey: .firstFailure) }
        try container.encode(exitCode, forKey: .exitCode)
    }
}
