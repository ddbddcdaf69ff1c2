/// RFC 2047 encoded-words, which carry non-ASCII text in a header: `=?utf-8?Q?Pr=C3=BCfung?=`.
///
/// ```swift
/// EncodedWord.encode("Prüfung bestanden")   // ["=?utf-8?Q?Pr=C3=BCfung_bestanden?="]
/// EncodedWord.encode("監査レポート")           // ["=?utf-8?B?55uj5p+744Os44Od44O844OI?="]
/// ```
///
/// The charset is always UTF-8. The encoding is Q (§4.2) or B (§4.1), whichever is shorter for
/// the whole text; Q uses only the characters §5 (3) allows in a phrase, so the same words serve a
/// Subject and a display name. Every word is at most 75 characters (§2) and holds whole characters
/// (§5: a multi-octet character is never split across words); a decoder joins adjacent words and
/// drops the white space between them (§6.2), so the words may be folded onto separate lines.
public enum EncodedWord {
    /// The longest encoded-word (RFC 2047 §2).
    public static let maximumLength = 75

    /// The two encodings of RFC 2047 §4.
    public enum Encoding: String, Sendable {
        /// Base64 (§4.1), for text that is mostly not ASCII.
        case b = "B"
        /// The "Q" encoding (§4.2), for text that is mostly ASCII.
        case q = "Q"
    }

    /// Encodes `text` as one or more encoded-words.
    ///
    /// - Parameters:
    ///   - firstMaximumLength: the room for the first word, when it shares a line with a header
    ///     name; at least 20 and at most 75.
    /// - Returns: the words, to be separated by white space (a space or a fold); empty for "".
    public static func encode(_ text: String, firstMaximumLength: Int = maximumLength) -> [String] {
        guard !text.isEmpty else { return [] }
        let bytes = Array(text.utf8)
        let qLength = bytes.reduce(0) { $0 + qEncode($1).utf8.count }
        let bLength = (bytes.count + 2) / 3 * 4
        let encoding: Encoding = qLength <= bLength ? .q : .b
        let overhead = "=?utf-8?Q??=".utf8.count
        var words: [String] = []
        var pending: [UInt8] = []
        func room() -> Int {
            (words.isEmpty ? min(max(firstMaximumLength, 20), maximumLength) : maximumLength) - overhead
        }
        func emit() {
            guard !pending.isEmpty else { return }
            words.append("=?utf-8?\(encoding.rawValue)?\(encodedText(pending, encoding))?=")
            pending.removeAll()
        }
        // Whole grapheme clusters where they fit, else whole Unicode scalars (one UTF-8 character).
        for character in text {
            let piece = Array(String(character).utf8)
            if encodedLength(pending + piece, encoding) <= room() {
                pending += piece
                continue
            }
            emit()
            if encodedLength(piece, encoding) <= room() {
                pending = piece
                continue
            }
            for scalar in character.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                if encodedLength(pending + scalarBytes, encoding) > room() { emit() }
                pending += scalarBytes
            }
        }
        emit()
        return words
    }

    /// The encoded-text of `bytes`.
    static func encodedText(_ bytes: [UInt8], _ encoding: Encoding) -> String {
        switch encoding {
        case .q: bytes.map(qEncode).joined()
        case .b: Base64.encode(bytes)
        }
    }

    static func encodedLength(_ bytes: [UInt8], _ encoding: Encoding) -> Int {
        switch encoding {
        case .q: bytes.reduce(0) { $0 + qEncode($1).utf8.count }
        case .b: (bytes.count + 2) / 3 * 4
        }
    }

    /// One octet in the Q encoding (§4.2), restricted to the characters allowed in a phrase (§5 (3)):
    /// letters, digits, `!*+-/` stand for themselves, a space is `_`, anything else is `=XX`.
    static func qEncode(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "!"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"):
            String(UnicodeScalar(byte))
        case UInt8(ascii: " "): "_"
        default: QuotedPrintable.hex(byte)
        }
    }
}

/// Base64 (RFC 4648 §4), written out here so the encoder is the same on every platform.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// `bytes` in base64 with padding, on one line.
    static func encode(_ bytes: some Collection<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(alphabet[Int(group >> 18 & 63)])
            out.append(alphabet[Int(group >> 12 & 63)])
            out.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 63)])
            out.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(group & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `bytes` in base64 as lines of at most `lineLength` characters (76 for a MIME body,
    /// RFC 2045 §6.8), joined by CRLF, without a final line break.
    static func encodeLines(_ bytes: some Collection<UInt8>, lineLength: Int = 76) -> String {
        let text = Array(encode(bytes).utf8)
        var lines: [String] = []
        var start = 0
        while start < text.count {
            let end = min(start + lineLength, text.count)
            lines.append(String(decoding: text[start..<end], as: UTF8.self))
            start = end
        }
        return lines.joined(separator: "\r\n")
    }
}
