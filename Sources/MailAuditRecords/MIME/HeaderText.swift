import Foundation

/// The pieces of a header section (RFC 5322 §2.2): folding, neutralising untrusted text,
/// unstructured values, MIME parameters and the date.
enum HeaderText {
    /// The preferred longest line, CRLF excluded (RFC 5322 §2.1.1).
    static let preferredLineLength = 78
    /// The longest line allowed, CRLF excluded (RFC 5322 §2.1.1).
    static let maximumLineLength = 998

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }

    /// CR, LF and the Unicode line and paragraph separators.
    static func isLineBreak(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\r" || scalar == "\n" || scalar == "\u{85}" || scalar == "\u{2028}" || scalar == "\u{2029}"
    }

    /// `text` with every control character (CR and LF among them), DEL and Unicode line separator
    /// replaced by a space. Untrusted text goes through here before it reaches a header, so it can
    /// never end the field and start another (header injection).
    static func neutralised(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let isControl = scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
            out.append(isControl || isLineBreak(scalar) ? " " : scalar)
        }
        return String(out)
    }

    /// A header field folded (RFC 5322 §2.2.3) so each line is at most 78 characters where the
    /// tokens allow: a fold (CRLF SP) goes between two tokens, never inside one, and never
    /// before the first. The result ends with CRLF.
    ///
    /// The tokens are separated by one space when they share a line; unfolding gives back
    /// `tokens.joined(separator: " ")`.
    static func field(_ name: String, _ tokens: [String]) -> String {
        var out = name + ":"
        var lineLength = out.utf8.count
        for (index, token) in tokens.enumerated() {
            let length = token.utf8.count
            if index > 0 && lineLength + 1 + length > preferredLineLength {
                out += "\r\n"
                lineLength = 0
            }
            out += " " + token
            lineLength += 1 + length
        }
        return out + "\r\n"
    }

    /// An unstructured value (RFC 5322 §3.2.5), such as a Subject, split where folds may go.
    ///
    /// Control characters become spaces first. Words of printable ASCII stay as they are;
    /// each run of other words (non-ASCII, looking like an encoded-word, or too long for a
    /// line) becomes RFC 2047 encoded-words, the spaces inside the run encoded with it, so the
    /// decoded text is exact. A value with runs of spaces, or spaces at its ends, is encoded as
    /// a whole, since folding could not keep those.
    ///
    /// - Parameter longestWord: the longest plain word allowed; 78 minus the header name keeps
    ///   every line within 78 characters.
    static func unstructured(_ text: String, headerName: String, longestWord: Int) -> [String] {
        let clean = neutralised(text)
        return words(clean, firstRoom: preferredLineLength - headerName.utf8.count - 2) { word in
            word.utf8.count <= longestWord && !word.contains("=?")
                && word.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
        }
    }

    /// `text` as fold tokens: the words `isPlain` accepts as they are, each run of the others as
    /// encoded-words (RFC 2047 §5 (1): an encoded-word is always set off by white space).
    ///
    /// - Parameter firstRoom: the room for an encoded-word that starts the value.
    static func words(_ text: String, firstRoom: Int, isPlain: (Substring) -> Bool) -> [String] {
        if text.isEmpty { return [] }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        if words.contains(where: \.isEmpty) { return EncodedWord.encode(text, firstMaximumLength: firstRoom) }
        var tokens: [String] = []
        var run: [Substring] = []
        func flush() {
            guard !run.isEmpty else { return }
            let room = tokens.isEmpty ? firstRoom : EncodedWord.maximumLength
            tokens += EncodedWord.encode(run.joined(separator: " "), firstMaximumLength: room)
            run.removeAll()
        }
        for word in words {
            if isPlain(word) {
                flush()
                tokens.append(String(word))
            } else {
                run.append(word)
            }
        }
        flush()
        return tokens
    }

    /// `name` when it is a header field name (RFC 5322 §3.6.8: printable ASCII but ":"), else nil.
    static func fieldName(_ name: String) -> String? {
        let isValid = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != ":" }
        return isValid ? name : nil
    }

    // MARK: MIME parameters

    /// A token (RFC 2045 §5.1): printable ASCII without space and tspecials.
    static func isToken(_ text: some StringProtocol) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy(isAttributeChar)
    }

    /// attribute-char (RFC 2231 §7): a token character other than `*`, `'` and `%`.
    /// (The three are allowed in a token but have a meaning in an extended parameter.)
    static func isAttributeChar(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.value > 0x20, scalar.value < 0x7F else { return false }
        return !"()<>@,;:\\\"/[]?=".unicodeScalars.contains(scalar)
    }

    /// A parameter `name="value"` as fold tokens, each but the last ending with ";".
    ///
    /// A short printable ASCII value is a quoted-string (RFC 2045 §5.1). Any other value uses
    /// RFC 2231: percent-encoded UTF-8 (§4, `name*=utf-8''r%C3%A9port.json`), cut into
    /// numbered continuations (§3, `name*0*=…; name*1*=…`) when it is long, never inside
    /// a `%XX` triplet.
    static func parameter(_ name: String, _ value: String) -> [String] {
        let clean = neutralised(value)
        let isPlain = clean.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
        if isPlain {
            let quoted = MailAddress.quote(clean)
            if name.utf8.count + 1 + quoted.utf8.count <= 70 { return ["\(name)=\(quoted)"] }
        }
        var pieces: [String] = []
        for byte in clean.utf8 {
            let scalar = Unicode.Scalar(byte)
            if byte < 0x80 && isAttributeChar(scalar) && scalar != "*" && scalar != "'" && scalar != "%" {
                pieces.append(String(scalar))
            } else {
                pieces.append("%" + String(QuotedPrintable.hex(byte).dropFirst()))
            }
        }
        // Cut into sections of at most 60 characters.
        var sections: [String] = [""]
        for piece in pieces {
            let room = sections.count == 1 ? 60 - "utf-8''".count : 60
            if sections[sections.count - 1].utf8.count + piece.utf8.count > room { sections.append("") }
            sections[sections.count - 1] += piece
        }
        if sections.count == 1 { return ["\(name)*=utf-8''\(sections[0])"] }
        return sections.enumerated().map { index, section in
            let charset = index == 0 ? "utf-8''" : ""
            let separator = index == sections.count - 1 ? "" : ";"
            return "\(name)*\(index)*=\(charset)\(section)\(separator)"
        }
    }

    // MARK: Date

    /// `date` as an RFC 5322 §3.3 date-time in UTC: `Tue, 01 Dec 2026 21:00:00 +0000`.
    static func date(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[((days % 7) + 7 + 4) % 7]  // 1970-01-01 was a Thursday
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) "
            + "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) +0000"
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01
    /// (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms", civil_from_days).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
