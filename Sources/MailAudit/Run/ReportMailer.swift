import Foundation
public import MailAuditCore

/// Sends a rendered report through the relay, with the relay walk's own session: STARTTLS or
/// implicit TLS, AUTH only over verified TLS, every recipient, DATA. A 4xx refusal is retried
/// with backoff; when sending still fails, the last walk is the diagnosis of the failing step,
/// exactly as `mailaudit relay` would give it.
public struct ReportMailer: Sendable {
    public var relay: RelayOptions
    public var resolver: any Resolver
    /// Walks in all, the first included.
    public var attempts: Int
    /// The wait before the second walk; it doubles each time.
    public var backoff: Duration

    public init(relay: RelayOptions, resolver: any Resolver, attempts: Int = 3, backoff: Duration = .seconds(10)) {
        self.relay = relay
        self.resolver = resolver
        self.attempts = max(1, attempts)
        self.backoff = backoff
    }

    /// What sending did: every walk, the last one deciding.
    public struct Outcome: Sendable {
        public var walks: [RelayReport]
        public var delivered: Bool { walks.last.map { $0.firstFailure == nil && $0.steps.contains { $0.step == .data && $0.status == .pass } } ?? false }
        public var last: RelayReport? { walks.last }
    }

    public func send(_ message: String, from: String, to recipients: [String]) async -> Outcome {
        var options = relay
        options.from = from
        options.to = recipients.first
        options.moreRecipients = Array(recipients.dropFirst())
        options.sendTest = true
        options.message = message
        var walks: [RelayReport] = []
        var wait = backoff
        for attempt in 1...attempts {
            let report = await RelayDiagnosis(resolver: resolver, options: options).run()
            walks.append(report)
            guard let failure = report.firstFailure, attempt < attempts, Self.isTransient(report, failure) else { break }
            try? await Task.sleep(for: wait)
            wait = wait * 2
        }
        return Outcome(walks: walks)
    }

    /// A 4xx reply (RFC 5321 §4.2.1: the same command may succeed later) or a connection that
    /// could not be made this time.
    static func isTransient(_ report: RelayReport, _ failure: RelayFirstFailure) -> Bool {
        if let reply = report.steps.first(where: { $0.step == failure.step && $0.status == .fail })?.reply { return reply.isTransientFailure }
        return failure.step == .connect && report.ports.contains { $0.result == .timedOut }
    }
}
