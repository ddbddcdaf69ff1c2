/// An HTTP/1.1 response (RFC 9112): the status, the header fields and the decoded body.
///
/// ```swift
/// let bytes = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok".utf8)
/// if case .complete(let response) = try HTTPResponse.parse(bytes, atEnd: false) {
///     response.status                      // 200
///     response.header("content-type")      // "text/plain"
/// }
/// ```
public struct HTTPResponse: Hashable, Sendable {
    public var status: Int
    /// The reason phrase as sent, for example "Moved Permanently".
    public var reason: String
    /// Header fields in the order sent, names as written.
    public var headers: [HTTPHeader]
    /// The body, with any chunked framing removed.
    public var body: [UInt8]

    public init(status: Int, reason: String, headers: [HTTPHeader], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// The first value of the header field `name`, compared without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// "HTTP/1.1 200 OK" and one line per header field, for evidence.
    public var headLines: [String] {
        ["HTTP/1.1 \(status) \(reason)"] + headers.map { "\($0.name): \($0.value)" }
    }
}

/// One header field.
public struct HTTPHeader: Hashable, Sendable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// How much of a response a client accepts.
public struct HTTPResponseLimits: Hashable, Sendable {
    /// The status line and header fields together.
    public var headerBytes: Int
    /// The decoded body.
    public var bodyBytes: Int

    public init(headerBytes: Int = 16 * 1024, bodyBytes: Int = 64 * 1024) {
        self.headerBytes = headerBytes
        self.bodyBytes = bodyBytes
    }
}

/// Why a response could not be read.
public enum HTTPResponseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The first line is not `HTTP/1.x NNN reason`.
    case badStatusLine(String)
    /// A header line without ":", or a folded one (RFC 9112 §5.2 obsoletes folding).
    case badHeader(String)
    /// The head is longer than the limit.
    case headerTooLarge(limit: Int)
    /// The body is longer than the limit.
    case bodyTooLarge(limit: Int)
    /// A Content-Length that is not a number, or two that differ.
    case badContentLength(String)
    /// A transfer coding other than chunked.
    case unsupportedTransferEncoding(String)
    /// Bad chunked framing.
    case badChunk(String)
    /// The connection ended before the response did.
    case truncated

    public var description: String {
        switch self {
        case .badStatusLine(let line): "not an HTTP status line: \"\(line)\""
        case .badHeader(let line): "not a header field: \"\(line)\""
        case .headerTooLarge(let limit): "the response head is longer than \(limit) bytes"
        case .bodyTooLarge(let limit): "the body is longer than \(limit) bytes"
        case .badContentLength(let value): "bad Content-Length \"\(value)\""
        case .unsupportedTransferEncoding(let value): "unsupported Transfer-Encoding \"\(value)\""
        case .badChunk(let reason): "bad chunked encoding: \(reason)"
        case .truncated: "the connection ended before the whole response arrived"
        }
    }
}

extension HTTPResponse {
    /// How far a read got.
    public enum Progress: Hashable, Sendable {
        /// The response is not complete yet: read more.
        case needMore
        case complete(HTTPResponse)
    }

    /// Parses the whole of `bytes` at once: ``HTTPResponseReader`` for bytes already in hand.
    ///
    /// - Throws: ``HTTPResponseError`` as the reader does.
    public static func parse(
        _ bytes: [UInt8], atEnd: Bool, limits: HTTPResponseLimits = HTTPResponseLimits()
    ) throws(HTTPResponseError) -> Progress {
        var reader = HTTPResponseReader(limits: limits)
        return try reader.read(bytes, atEnd: atEnd)
    }
}

/// Reads a response to a GET as its bytes arrive, looking at each byte a bounded number of
/// times, so a server that sends a byte at a time costs no more than one that sends it all.
/// The body ends by Content-Length, by chunked framing, or at the end of the connection
/// (RFC 9112 §6.3). Lines may end in CRLF or a bare LF (RFC 9112 §2.2).
///
/// ```swift
/// var reader = HTTPResponseReader()
/// while case .needMore = try reader.read(try stream.read(upTo: 16_384, deadline: deadline), atEnd: false) { … }
/// ```
public struct HTTPResponseReader: Sendable {
    public let limits: HTTPResponseLimits
    private var bytes: [UInt8] = []
    /// Where the search for the end of the head resumes.
    private var scanned = 0
    private var response: HTTPResponse?
    private var framing = Framing.close
    /// Where the next unread part of the body starts.
    private var cursor = 0
    private var bodyStart = 0
    /// The chunked body decoded so far.
    private var decoded: [UInt8] = []
    private var inTrailer = false

    private enum Framing { case length(Int), chunked, close }

    public init(limits: HTTPResponseLimits = HTTPResponseLimits()) { self.limits = limits }

    /// Adds `more` bytes; `atEnd` says the peer closed the connection.
    ///
    /// - Throws: ``HTTPResponseError`` as soon as the bytes cannot become a valid response
    ///   within ``limits``.
    public mutating func read(_ more: [UInt8], atEnd: Bool) throws(HTTPResponseError) -> HTTPResponse.Progress {
        bytes += more
        if response == nil {
            guard let (headEnd, bodyStart) = findEndOfHead() else {
                if bytes.count > limits.headerBytes { throw .headerTooLarge(limit: limits.headerBytes) }
                if atEnd { throw .truncated }
                return .needMore
            }
            if headEnd > limits.headerBytes { throw .headerTooLarge(limit: limits.headerBytes) }
            try startBody(head: Array(bytes[..<headEnd]), at: bodyStart)
        }
        guard var response else { return .needMore }
        switch framing {
        case .length(let length):
            guard bytes.count - cursor >= length else {
                if atEnd { throw .truncated }
                return .needMore
            }
            response.body = Array(bytes[cursor..<cursor + length])
        case .close:
            if bytes.count - cursor > limits.bodyBytes { throw .bodyTooLarge(limit: limits.bodyBytes) }
            guard atEnd else { return .needMore }
            response.body = Array(bytes[cursor...])
        case .chunked:
            guard try dechunk() else {
                // Tiny chunks with long extensions could grow the buffer far beyond the body.
                if bytes.count - bodyStart > 4 * limits.bodyBytes + 16 * 1024 {
                    throw .badChunk("the framing takes far more bytes than the body it carries")
                }
                if atEnd { throw .truncated }
                return .needMore
            }
            response.body = decoded
        }
        return .complete(response)
    }

    /// The end of the head (after its last line end) and the start of the body.
    private mutating func findEndOfHead() -> (Int, Int)? {
        while scanned < bytes.count {
            if bytes[scanned] == 0x0A {
                let next = scanned + 1
                if next < bytes.count, bytes[next] == 0x0A { return (next, next + 1) }
                if next + 1 < bytes.count, bytes[next] == 0x0D, bytes[next + 1] == 0x0A { return (next, next + 2) }
                // Not decidable yet: look at this line end again when more bytes come.
                if next == bytes.count || (bytes[next] == 0x0D && next + 1 == bytes.count) { return nil }
            }
            scanned += 1
        }
        return nil
    }

    /// Parses the status line and header fields, and chooses how the body ends.
    private mutating func startBody(head: [UInt8], at bodyStart: Int) throws(HTTPResponseError) {
        var lines = head.split(separator: 0x0A, omittingEmptySubsequences: false).map { Self.text($0) }
        let statusLine = lines.isEmpty ? "" : lines.removeFirst()
        // status-line = HTTP-version SP status-code SP [ reason-phrase ]
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0] == "HTTP/1.1" || parts[0] == "HTTP/1.0", parts[1].count == 3,
              let status = Int(parts[1]), (100...599).contains(status)
        else { throw .badStatusLine(statusLine) }
        var headers: [HTTPHeader] = []
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex, line.first != " ", line.first != "\t" else {
                throw .badHeader(line)
            }
            let name = String(line[..<colon])
            guard !name.contains(" ") && !name.contains("\t") else { throw .badHeader(line) }
            headers.append(HTTPHeader(name: name, value: line[line.index(after: colon)...].trimmed(of: " \t")))
        }
        let response = HTTPResponse(status: status, reason: parts.count > 2 ? String(parts[2]) : "", headers: headers, body: [])
        cursor = bodyStart
        self.bodyStart = bodyStart
        // 1xx, 204 and 304 responses have no body (RFC 9112 §6.3).
        if status < 200 || status == 204 || status == 304 {
            framing = .length(0)
        } else if let coding = response.header("transfer-encoding") {
            guard coding.split(separator: ",").last?.trimmed(of: " \t").lowercased() == "chunked" else {
                throw .unsupportedTransferEncoding(coding)
            }
            framing = .chunked
        } else {
            let lengths = Set(headers.filter { $0.name.lowercased() == "content-length" }.map(\.value))
            if let text = lengths.first {
                guard lengths.count == 1, !text.isEmpty, text.utf8.count <= 18, text.allSatisfy({ $0.isASCII && $0.isNumber }),
                      let length = Int(text)
                else { throw .badContentLength(lengths.sorted().joined(separator: ", ")) }
                if length > limits.bodyBytes { throw .bodyTooLarge(limit: limits.bodyBytes) }
                framing = .length(length)
            }
        }
        self.response = response
    }

    /// Decodes the chunks that have arrived (RFC 9112 §7.1) into the response's body; true
    /// once the last chunk and the trailer section are in.
    private mutating func dechunk() throws(HTTPResponseError) -> Bool {
        while true {
            guard let lineEnd = bytes[cursor...].firstIndex(of: 0x0A) else {
                if bytes.count - cursor > 1024 { throw .badChunk("a line longer than 1024 bytes") }
                return false
            }
            let line = Self.text(bytes[cursor..<lineEnd])
            if inTrailer {
                // The trailer section ends with an empty line; its fields are not used.
                cursor = lineEnd + 1
                if line.isEmpty { return true }
                continue
            }
            // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
            let sizeText = line.prefix { $0 != ";" }.trimmed(of: " \t")
            guard !sizeText.isEmpty, sizeText.count <= 8, let size = Int(sizeText, radix: 16) else {
                throw .badChunk("\"\(line)\" is not a chunk size")
            }
            if size == 0 {
                inTrailer = true
                cursor = lineEnd + 1
                continue
            }
            if decoded.count + size > limits.bodyBytes { throw .bodyTooLarge(limit: limits.bodyBytes) }
            let dataStart = lineEnd + 1
            // The data, then CRLF or LF.
            guard bytes.count >= dataStart + size + 1 else { return false }
            var dataEnd = dataStart + size
            if bytes[dataEnd] == 0x0D {
                guard bytes.count >= dataEnd + 2 else { return false }
                dataEnd += 1
            }
            guard bytes[dataEnd] == 0x0A else { throw .badChunk("a chunk is longer than its size says") }
            decoded.append(contentsOf: bytes[dataStart..<dataStart + size])
            cursor = dataEnd + 1
        }
    }

    /// Latin-1 text of a line without its trailing CR: header bytes are octets (RFC 9110 §5.5).
    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        let trimmed = bytes.last == 0x0D ? bytes.dropLast() : bytes
        return String(String.UnicodeScalarView(trimmed.map { Unicode.Scalar($0) }))
    }
}

extension StringProtocol {
    fileprivate func trimmed(of characters: String) -> String {
        let set = Set(characters)
        guard let first = firstIndex(where: { !set.contains($0) }), let last = lastIndex(where: { !set.contains($0) }) else { return "" }
        return String(self[first...last])
    }
}
