public import MailAuditCore
public import MailAuditRecords
public import MailAuditTLS
import Foundation

/// A synchronous SMTP client dialogue over a ``ByteStream``: read replies, send commands,
/// upgrade to TLS, with a deadline on every call and bounded lines and replies.
///
/// ```swift
/// let client = SMTPClient(stream: try TCPConnection.connect(to: address, port: 25, timeout: .seconds(10)))
/// let greeting = try client.readReply(deadline: .now + .seconds(30))      // 220 (RFC 5321 §4.3.1)
/// let ehlo = try client.command("EHLO probe.example", deadline: .now + .seconds(30))
/// if SMTPCapabilities(ehloReply: ehlo).supportsSTARTTLS { … }
/// ```
///
/// It knows no SMTP state: the caller decides what to send, so the MX probe (EHLO,
/// STARTTLS, QUIT), and later submission on 587 (RFC 6409, with AUTH) and 465 (RFC 8314
/// §3.3, over a ``TLSClient`` from the start) share it. Every call blocks the calling thread:
/// run it on a dedicated thread. AUTH arguments and secret lines are redacted in the transcript.
public final class SMTPClient {
    /// The stream in use: the TCP connection, or TLS over it after ``startTLS(configuration:deadline:)``.
    public private(set) var stream: any ByteStream
    public let limits: SMTPLimits
    /// Everything sent and received so far, bounded by ``maximumTranscriptLines``.
    public private(set) var transcript: [TranscriptLine] = []
    /// The transcript keeps this many lines, then one note saying it was cut.
    public let maximumTranscriptLines: Int
    private var buffer: [UInt8] = []
    private let started = ContinuousClock.now
    private var transcriptCut = false
    /// Texts never written to the transcript: each secret, and its base64 forms in SASL.
    private var scrubbed: [String] = []

    public init(stream: any ByteStream, limits: SMTPLimits = SMTPLimits(), maximumTranscriptLines: Int = 1000) {
        self.stream = stream
        self.limits = limits
        self.maximumTranscriptLines = maximumTranscriptLines
    }

    deinit { stream.close() }

    /// Reads one whole reply, which may span several lines (RFC 5321 §4.2.1).
    ///
    /// - Throws: ``SMTPClientError/timedOut`` at the deadline (also when a server drips bytes),
    ///   ``SMTPClientError/closed`` when the server closes first,
    ///   ``SMTPClientError/malformedReply(_:)`` for a line too long, a bad code or too many
    ///   lines, ``SMTPClientError/network(_:)`` for a socket or TLS error.
    public func readReply(deadline: ContinuousClock.Instant) throws(SMTPClientError) -> SMTPReply {
        var assembler = SMTPReplyAssembler(limits: limits)
        while true {
            let line = try readLine(deadline: deadline)
            record(.server, line)
            let parsed: SMTPReplyLine
            do { parsed = try SMTPReplyLine(parsing: line, limits: limits) } catch { throw .malformedReply(error) }
            do {
                if let reply = try assembler.add(parsed) { return reply }
            } catch {
                throw .malformedReply(error)
            }
        }
    }

    /// Sends one command line (CRLF is added).
    ///
    /// - Parameter secret: hides the whole line in the transcript (a SASL response).
    /// - Throws: ``SMTPClientError/invalidCommand(_:)`` when the line holds CR or LF (that
    ///   would smuggle a second command), and the stream errors of ``readReply(deadline:)``.
    public func send(_ command: String, secret: Bool = false, deadline: ContinuousClock.Instant) throws(SMTPClientError) {
        guard !command.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else {
            throw .invalidCommand(TranscriptLine.redactedCommand(command, secret: secret))
        }
        record(.client, TranscriptLine.redactedCommand(command, secret: secret))
        do { try stream.write(Array((command + "\r\n").utf8), deadline: deadline) } catch { throw SMTPClientError(error) }
    }

    /// Sends a command and reads its reply.
    ///
    /// - Throws: the errors of ``send(_:secret:deadline:)`` and ``readReply(deadline:)``.
    public func command(_ command: String, secret: Bool = false, deadline: ContinuousClock.Instant) throws(SMTPClientError) -> SMTPReply {
        try send(command, secret: secret, deadline: deadline)
        return try readReply(deadline: deadline)
    }

    /// Starts TLS over the current TCP connection, after the server's 220 reply to STARTTLS
    /// (RFC 3207 §4), or right after connecting for implicit TLS (RFC 8314 §3.3).
    ///
    /// Bytes the server sent before the handshake are discarded and noted: they were not
    /// protected by TLS (RFC 3207 §4.2 requires forgetting everything learnt before it).
    /// - Throws: ``SMTPClientError/tls(_:)`` when the handshake fails,
    ///   ``SMTPClientError/invalidCommand(_:)`` when the stream is not a plain TCP connection.
    @discardableResult
    public func startTLS(configuration: TLSClientConfiguration, deadline: ContinuousClock.Instant) throws(SMTPClientError) -> TLSFacts {
        guard let connection = stream as? TCPConnection else { throw .invalidCommand("TLS is already on") }
        if !buffer.isEmpty {
            note("discarded \(buffer.count) bytes the server sent before the TLS handshake")
            buffer = []
        }
        let client: TLSClient
        do { client = try TLSClient.handshake(over: connection, configuration: configuration, deadline: deadline) } catch {
            throw .tls(error)
        }
        stream = client
        let facts = client.facts
        note("TLS started: \(facts.protocolVersion), \(facts.cipher), verify result \(facts.verification.result)")
        return facts
    }

    /// Makes sure `secret` never reaches the transcript, as itself or base64-encoded with the
    /// user name as SASL PLAIN and LOGIN send it, whatever line it turns up in.
    public func neverRecord(_ secret: Secret, user: String = "") {
        let value = secret.revealed
        guard !value.isEmpty else { return }
        let forms = [
            value, Data(value.utf8).base64EncodedString(),
            Data(("\0" + user + "\0" + value).utf8).base64EncodedString(),
        ]
        scrubbed += forms.filter { $0.count >= 2 && !scrubbed.contains($0) }
    }

    /// Writes raw bytes (a message body prepared by ``SMTPMessageData``), noting only their size.
    ///
    /// - Throws: the stream errors of ``send(_:secret:deadline:)``.
    public func write(_ bytes: [UInt8], describedAs summary: String, deadline: ContinuousClock.Instant) throws(SMTPClientError) {
        record(.client, summary)
        do { try stream.write(bytes, deadline: deadline) } catch { throw SMTPClientError(error) }
    }

    /// Adds a note line to the transcript.
    public func note(_ text: String) { record(.note, text) }

    /// Closes the stream (and TLS over it).
    public func close() { stream.close() }

    /// Reads up to LF (CR before it dropped), with the line length bounded.
    private func readLine(deadline: ContinuousClock.Instant) throws(SMTPClientError) -> String {
        var searchedUpTo = 0
        while true {
            if let end = buffer[searchedUpTo...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = buffer[..<end]
                buffer.removeSubrange(...end)
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                guard line.count <= limits.maximumLineLength else {
                    note("server line of \(line.count) bytes, over the limit of \(limits.maximumLineLength): \(excerpt(line))")
                    throw .malformedReply(.lineTooLong(line.count))
                }
                // A server that echoes what it was sent must not carry a secret into a reply.
                return scrub(String(decoding: line, as: UTF8.self))
            }
            searchedUpTo = buffer.count
            guard buffer.count <= limits.maximumLineLength + 1 else {
                note("server sent \(buffer.count) bytes without an end of line: \(excerpt(buffer[...]))")
                throw .malformedReply(.lineTooLong(buffer.count))
            }
            let chunk: [UInt8]
            do { chunk = try stream.read(upTo: 4096, deadline: deadline) } catch {
                if !buffer.isEmpty { note("partial line, then \(error): \(excerpt(buffer[...]))") }
                throw SMTPClientError(error)
            }
            if chunk.isEmpty {
                if !buffer.isEmpty { note("partial line, then the connection closed: \(excerpt(buffer[...]))") }
                throw .closed
            }
            buffer += chunk
        }
    }

    private func excerpt(_ bytes: ArraySlice<UInt8>) -> String {
        let text = scrub(String(decoding: bytes, as: UTF8.self)).prefix(80)
        return bytes.count > 80 ? text + "…" : String(text)
    }

    private func record(_ direction: TranscriptLine.Direction, _ text: String) {
        guard !transcriptCut else { return }
        if transcript.count >= maximumTranscriptLines {
            transcriptCut = true
            transcript.append(TranscriptLine(.note, "transcript cut at \(maximumTranscriptLines) lines", at: .now - started))
            return
        }
        transcript.append(TranscriptLine(direction, scrub(text), at: .now - started))
    }

    /// The text with every registered secret form replaced by `<redacted>`.
    private func scrub(_ text: String) -> String {
        var text = text
        for secret in scrubbed where text.contains(secret) {
            text = text.replacingOccurrences(of: secret, with: "<redacted>")
        }
        return text
    }
}

/// Why an ``SMTPClient`` call did not complete.
public enum SMTPClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The deadline passed before the reply (or the write) was complete.
    case timedOut
    /// The server closed the connection.
    case closed
    /// The server's text is no valid reply, or exceeds the limits.
    case malformedReply(SMTPReplyError)
    /// The TLS handshake failed.
    case tls(TLSFailure)
    /// A socket or TLS record error.
    case network(String)
    /// The command cannot be sent as given.
    case invalidCommand(String)
    /// The session would not send credentials: the reason (no TLS, an unverified certificate,
    /// no usable mechanism). Nothing was sent.
    case credentialsWithheld(String)
    /// AUTH was not tried: the server offers none of the mechanisms the session speaks (or none at all).
    case noUsableMechanism([String])

    init(_ error: StreamError) {
        switch error {
        case .timedOut: self = .timedOut
        case .closed: self = .closed
        case .failed(let reason): self = .network(reason)
        }
    }

    public var description: String {
        switch self {
        case .timedOut: "timed out"
        case .closed: "connection closed by the server"
        case .malformedReply(let error): error.description
        case .tls(let failure): failure.description
        case .network(let reason): reason
        case .invalidCommand(let command): "invalid command: \(command)"
        case .credentialsWithheld(let reason): "credentials not sent: \(reason)"
        case .noUsableMechanism(let offered):
            offered.isEmpty ? "the server offers no AUTH mechanism"
                : "none of the offered AUTH mechanisms (\(offered.joined(separator: " "))) is PLAIN, LOGIN or CRAM-MD5"
        }
    }
}
