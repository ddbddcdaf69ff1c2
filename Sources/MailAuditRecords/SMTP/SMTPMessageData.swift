/// The bytes sent after DATA's 354 reply: the message with CRLF line endings, every line
/// that starts with "." doubled (RFC 5321 §4.5.2), and the ending "CRLF . CRLF"
/// (§4.1.1.4).
///
/// ```swift
/// let data = try SMTPMessageData(message: "Subject: hi\n\n.hidden line\n")
/// String(decoding: data.bytes, as: UTF8.self)   // "Subject: hi\r\n\r\n..hidden line\r\n.\r\n"
/// ```
public struct SMTPMessageData: Hashable, Sendable {
    /// The longest line, without CRLF (RFC 5321 §4.5.3.1.6: 1000 octets with CRLF).
    public static let maximumLineLength = 998

    /// Everything to write, the final "." line included.
    public let bytes: [UInt8]
    /// The number of lines of the message (without the final ".").
    public let lineCount: Int

    /// Encodes `message`. CR LF, a lone LF and a lone CR all end a line.
    ///
    /// - Throws: ``SMTPMessageDataError/lineTooLong(line:length:)`` for a line over 998
    ///   octets: the caller must encode the body (quoted-printable or base64) instead of
    ///   letting a server cut or refuse it.
    public init(message: String) throws(SMTPMessageDataError) {
        var out: [UInt8] = []
        out.reserveCapacity(message.utf8.count + message.utf8.count / 40 + 8)
        var lines = 0
        var current: [UInt8] = []
        var previousWasCR = false
        func finishLine() throws(SMTPMessageDataError) {
            guard current.count <= Self.maximumLineLength else { throw .lineTooLong(line: lines + 1, length: current.count) }
            if current.first == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out += current
            out += [13, 10]
            current.removeAll(keepingCapacity: true)
            lines += 1
        }
        for byte in message.utf8 {
            switch byte {
            case 13:
                try finishLine()
                previousWasCR = true
                continue
            case 10:
                if !previousWasCR { try finishLine() }
            default:
                current.append(byte)
            }
            previousWasCR = false
        }
        if !current.isEmpty { try finishLine() }
        out += Array(".\r\n".utf8)
        bytes = out
        lineCount = lines
    }
}

/// Why a message cannot be sent as it is.
public enum SMTPMessageDataError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Line `line` (from 1) is `length` octets long, over the 998 allowed.
    case lineTooLong(line: Int, length: Int)

    public var description: String {
        switch self {
        case .lineTooLong(let line, let length):
            "line \(line) of the message is \(length) octets long; SMTP allows \(SMTPMessageData.maximumLineLength) (RFC 5321 §4.5.3.1.6)"
        }
    }
}
