/// One SMTP server reply: a three-digit code and one or more lines of text (RFC 5321 §4.2).
///
/// ```
/// 250-mx1.example.com
/// 250-PIPELINING
/// 250 STARTTLS
/// ```
/// parses to `SMTPReply(code: 250, lines: ["mx1.example.com", "PIPELINING", "STARTTLS"])`,
/// and `description` renders that text again (lines joined by CRLF).
public struct SMTPReply: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The reply code, 200…559 (RFC 5321 §4.2.1: first digit 2–5, second 0–5).
    public var code: Int
    /// The text of each line, after the code and its separator; may be empty.
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// Parses a whole reply, its lines separated by CRLF (or LF); a final CRLF is optional.
    ///
    /// - Throws: ``SMTPReplyError`` for a malformed line, a code that changes between lines,
    ///   a line before the last that ends the reply, or a reply that never ends.
    public init(parsing text: String, limits: SMTPLimits = SMTPLimits()) throws(SMTPReplyError) {
        // Split on the byte LF: in a Swift String, CR LF is one Character.
        var rawLines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        if rawLines.last == "" { rawLines.removeLast() }
        var assembler = SMTPReplyAssembler(limits: limits)
        for (index, raw) in rawLines.enumerated() {
            if let reply = try assembler.add(try SMTPReplyLine(parsing: raw, limits: limits)) {
                guard index == rawLines.count - 1 else { throw .textAfterLastLine }
                self = reply
                return
            }
        }
        throw rawLines.isEmpty ? .empty : .unterminated
    }

    /// The reply as the server sends it, lines joined by CRLF, without the final CRLF.
    public var description: String {
        lines.enumerated().map { index, line in
            let separator = index == lines.count - 1 ? (line.isEmpty ? "" : " ") : "-"
            return "\(code)\(separator)\(line)"
        }.joined(separator: "\r\n")
    }

    /// All lines' text joined by a space, for messages.
    public var text: String { lines.joined(separator: " ") }

    /// 2yz: the command was accepted (RFC 5321 §4.2.1).
    public var isPositive: Bool { (200..<300).contains(code) }
    /// 4yz: a transient failure; try again later.
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    /// 5yz: a permanent failure.
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// The enhanced status code at the start of the first line (RFC 3463 §2, RFC 2034 §4),
    /// for example 4.7.0 in "454 4.7.0 TLS not available"; nil when the text has none, or its
    /// class disagrees with the reply code's first digit (RFC 3463 §2: they must agree).
    public var enhancedStatusCode: EnhancedStatusCode? {
        guard let first = lines.first?.split(separator: " ", maxSplits: 1).first,
              let code = EnhancedStatusCode(String(first)), code.klass.rawValue == self.code / 100 else { return nil }
        return code
    }

    /// True when the server says it is busy or limiting this client, so the probe is
    /// inconclusive rather than failed: a 421 (service not available, closing the channel,
    /// RFC 5321 §3.8 and §4.2.2), 450 or 451 reply, or any failure reply whose text speaks of
    /// being busy, too many connections or a rate limit.
    public var indicatesRateLimiting: Bool {
        if [421, 450, 451].contains(code) { return true }
        guard isTransientFailure || isPermanentFailure else { return false }
        let lowered = text.lowercased()
        return Self.rateLimitPhrases.contains { lowered.contains($0) }
    }

    static let rateLimitPhrases = [
        "busy", "too many connections", "too many concurrent", "too many sessions", "rate limit", "ratelimit",
        "rate-limit", "throttl", "try again later", "try later",
    ]
}

/// One line of a reply: `Reply-code [ ("-" / SP) textstring ]` (RFC 5321 §4.2).
public struct SMTPReplyLine: Hashable, Sendable {
    public var code: Int
    /// False for a `-` continuation line, true for the reply's last line.
    public var isLast: Bool
    public var text: String

    public init(code: Int, isLast: Bool, text: String) {
        self.code = code
        self.isLast = isLast
        self.text = text
    }

    /// Parses one line without its CRLF.
    ///
    /// - Throws: ``SMTPReplyError/lineTooLong(_:)`` beyond the limit,
    ///   ``SMTPReplyError/invalidCode(_:)`` when the line does not start with a code
    ///   2–5 / 0–5 / 0–9, ``SMTPReplyError/malformedLine(_:)`` when the code is followed by
    ///   anything but a space, a hyphen or the end of the line.
    public init(parsing line: String, limits: SMTPLimits = SMTPLimits()) throws(SMTPReplyError) {
        let bytes = Array(line.utf8)
        guard bytes.count <= limits.maximumLineLength else { throw .lineTooLong(bytes.count) }
        guard bytes.count >= 3 else { throw .invalidCode(Self.excerpt(line)) }
        let digits = bytes.prefix(3)
        let ranges: [ClosedRange<UInt8>] = [UInt8(ascii: "2")...UInt8(ascii: "5"), UInt8(ascii: "0")...UInt8(ascii: "5"),
                                            UInt8(ascii: "0")...UInt8(ascii: "9")]
        guard zip(digits, ranges).allSatisfy({ $1.contains($0) }) else { throw .invalidCode(Self.excerpt(line)) }
        code = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        if bytes.count == 3 {
            isLast = true
            text = ""
            return
        }
        switch bytes[3] {
        case UInt8(ascii: " "): isLast = true
        case UInt8(ascii: "-"): isLast = false
        default: throw .malformedLine(Self.excerpt(line))
        }
        text = String(decoding: bytes.dropFirst(4), as: UTF8.self)
    }

    static func excerpt(_ line: String) -> String {
        line.count > 80 ? String(line.prefix(80)) + "…" : line
    }
}

/// Collects reply lines until the last one, with the count bounded.
public struct SMTPReplyAssembler: Sendable {
    public let limits: SMTPLimits
    private var code: Int?
    private var lines: [String] = []

    public init(limits: SMTPLimits = SMTPLimits()) { self.limits = limits }

    /// Adds a line; returns the reply when it was the last line.
    ///
    /// - Throws: ``SMTPReplyError/codeChanged(expected:found:)`` when lines disagree on the
    ///   code (RFC 5321 §4.2.1 requires one code per reply),
    ///   ``SMTPReplyError/tooManyLines(_:)`` past the limit.
    public mutating func add(_ line: SMTPReplyLine) throws(SMTPReplyError) -> SMTPReply? {
        if let code, code != line.code { throw .codeChanged(expected: code, found: line.code) }
        code = line.code
        lines.append(line.text)
        guard lines.count <= limits.maximumReplyLines else { throw .tooManyLines(lines.count) }
        guard line.isLast else { return nil }
        defer { self = SMTPReplyAssembler(limits: limits) }
        return SMTPReply(code: line.code, lines: lines)
    }
}

/// Bounds on what the client accepts from a server.
public struct SMTPLimits: Hashable, Sendable {
    /// The longest reply line accepted, without CRLF. RFC 5321 §4.5.3.1.5 allows 512 octets
    /// with CRLF; servers exceed it in practice, so the default allows four times that.
    public var maximumLineLength: Int
    /// The most lines in one reply. An EHLO reply has one per extension (a dozen usually).
    public var maximumReplyLines: Int

    public init(maximumLineLength: Int = 2048, maximumReplyLines: Int = 100) {
        self.maximumLineLength = maximumLineLength
        self.maximumReplyLines = maximumReplyLines
    }
}

/// Why server text is not a valid reply.
public enum SMTPReplyError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    /// The line does not start with a valid three-digit code.
    case invalidCode(String)
    /// The code is followed by something other than a space, a hyphen or the end of the line.
    case malformedLine(String)
    /// A continuation line carried another code than the first line.
    case codeChanged(expected: Int, found: Int)
    /// A line longer than ``SMTPLimits/maximumLineLength`` (its length so far).
    case lineTooLong(Int)
    /// More lines than ``SMTPLimits/maximumReplyLines``.
    case tooManyLines(Int)
    /// The text ended before the reply's last line.
    case unterminated
    /// More lines followed the reply's last line.
    case textAfterLastLine

    public var description: String {
        switch self {
        case .empty: "empty reply"
        case .invalidCode(let line): "reply line without a valid code: \"\(line)\""
        case .malformedLine(let line): "malformed reply line: \"\(line)\""
        case .codeChanged(let expected, let found): "reply code changed from \(expected) to \(found) within one reply"
        case .lineTooLong(let count): "reply line longer than the limit (\(count) bytes without an end of line)"
        case .tooManyLines(let count): "reply longer than the limit (\(count) lines)"
        case .unterminated: "reply without a last line"
        case .textAfterLastLine: "text after the reply's last line"
        }
    }
}
