/// Splits master-file text into entries (RFC 1035 §5.1): a line, or several joined by
/// parentheses, without comment-only and blank lines, each with the line it starts on.
/// Quotes and backslash escapes are honoured, so `;`, `(` and `)` inside a quoted string
/// neither start a comment nor join lines. The entry's text is handed to ldns unchanged.
enum ZoneEntries {
    struct Entry: Hashable {
        var line: Int
        var bytes: [UInt8]
    }

    static func split(_ bytes: [UInt8]) -> [Entry] {
        var entries: [Entry] = []
        var current: [UInt8] = []
        var start = 1, line = 1
        var depth = 0, quoted = false, escaped = false, comment = false, hasContent = false
        func finish() {
            if hasContent { entries.append(Entry(line: start, bytes: current)) }
            current = []
            hasContent = false
        }
        for byte in bytes {
            if byte == 0x0A {
                line += 1
                comment = false
                escaped = false
                if depth > 0 || quoted {
                    current.append(byte)
                    continue
                }
                finish()
                start = line
                continue
            }
            current.append(byte)
            if comment { continue }
            if escaped { escaped = false; continue }
            switch byte {
            case 0x5C: escaped = true; hasContent = true
            case 0x22: quoted.toggle(); hasContent = true
            case 0x3B where !quoted: comment = true
            case 0x28 where !quoted: depth += 1; hasContent = true
            case 0x29 where !quoted: depth = max(0, depth - 1); hasContent = true
            case 0x20, 0x09, 0x0D: break
            default: hasContent = true
            }
        }
        finish()
        return entries
    }

    /// `$INCLUDE <file> [<origin>]`: the file name and the optional origin; nil for other entries.
    static func include(_ entry: [UInt8]) -> (path: String, origin: String?)? {
        let text = String(decoding: entry, as: UTF8.self)
        let code = text.prefix { $0 != ";" }
        let words = code.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
        guard let first = words.first, first.uppercased() == "$INCLUDE" else { return nil }
        guard words.count >= 2 else { return ("", nil) }
        let path = words[1].hasPrefix("\"") && words[1].hasSuffix("\"") && words[1].count >= 2
            ? String(words[1].dropFirst().dropLast()) : String(words[1])
        return (path, words.count >= 3 ? String(words[2]) : nil)
    }

    /// The certificate type of a CERT entry when it is a number that is 0 as a 16-bit value
    /// (reserved, RFC 4398 §2.1); nil otherwise. ldns rejects such a record but leaks the value
    /// it parsed (ldns_str2rdf_cert_alg; found by the zone-file fuzz target), so the reader
    /// rejects it before ldns sees it.
    static func reservedCertificateType(_ entry: [UInt8]) -> String? {
        let startsWithOwner = entry.first.map { !isBlank($0) } ?? false
        var words = self.words(entry)[...]
        if startsWithOwner { words = words.dropFirst() }
        let classes: Set<String> = ["IN", "CH", "CS", "HS", "NONE", "ANY"]
        // TTL and class come in either order before the type.
        while let word = words.first?.uppercased(),
              classes.contains(word) || word.hasPrefix("CLASS") || word.first?.isNumber == true {
            words = words.dropFirst()
        }
        guard let type = words.first?.uppercased(), type == "CERT" || type == "TYPE37",
              let field = words.dropFirst().first else { return nil }
        // As ldns reads it: a mnemonic, else strtol in base 10 over the whole word.
        let mnemonics: Set<String> = ["PKIX", "SPKI", "PGP", "IPKIX", "ISPKI", "IPGP", "ACPKIX", "IACPKIX", "URI", "OID"]
        guard !mnemonics.contains(field.uppercased()) else { return nil }
        let digits = field.drop { $0 == "+" || $0 == "-" }
        guard field.count - digits.count <= 1, !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        // strtol saturates: an overflowing negative number is LONG_MIN, whose low 16 bits are 0.
        let value = Int64(field) ?? (field.hasPrefix("-") ? Int64.min : Int64.max)
        return UInt16(truncatingIfNeeded: value) == 0 ? String(field) : nil
    }

    /// Space, tab, CR, LF, vertical tab and form feed: what separates words in an entry.
    static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }

    /// The words of an entry before its comment, as ldns splits them: parentheses and blanks
    /// separate words, and a backslash keeps the byte after it in the word (`a\ b` is one word).
    static func words(_ entry: [UInt8]) -> [String] {
        var words: [String] = []
        var word: [UInt8] = []
        var escaped = false, quoted = false
        func finish() {
            if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)) }
            word = []
        }
        for byte in entry {
            if escaped { word.append(byte); escaped = false; continue }
            switch byte {
            case 0x5C: word.append(byte); escaped = true
            case 0x22: word.append(byte); quoted.toggle()
            case 0x3B where !quoted: finish(); return words
            case 0x28, 0x29: if quoted { word.append(byte) } else { finish() }
            default:
                if isBlank(byte) && !quoted { finish() } else { word.append(byte) }
            }
        }
        finish()
        return words
    }
}
