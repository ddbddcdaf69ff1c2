/// One line of an SMTP conversation, as evidence for findings.
public struct TranscriptLine: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Direction: String, Hashable, Sendable, Codable {
        /// Sent by mailaudit ("C:").
        case client
        /// Received from the server ("S:").
        case server
        /// What happened between lines: connected, TLS started, timed out ("*").
        case note
    }

    public var direction: Direction
    public var text: String
    /// Time since the probe started.
    public var at: Duration

    public init(_ direction: Direction, _ text: String, at: Duration = .zero) {
        self.direction = direction
        self.text = text
        self.at = at
    }

    /// "C: EHLO probe.example", "S: 250 OK" or "* TLS started".
    public var description: String {
        switch direction {
        case .client: "C: \(text)"
        case .server: "S: \(text)"
        case .note: "* \(text)"
        }
    }

    /// The form of a client line that is safe to keep: AUTH keeps its mechanism and hides
    /// its initial response (RFC 4954 §4), and a secret line (a SASL response) is hidden whole.
    public static func redactedCommand(_ command: String, secret: Bool) -> String {
        if secret { return "<redacted>" }
        let words = command.split(separator: " ", omittingEmptySubsequences: true)
        guard let verb = words.first, verb.uppercased() == "AUTH" else { return command }
        return words.count > 2 ? "\(verb) \(words[1]) <redacted>" : command
    }
}
