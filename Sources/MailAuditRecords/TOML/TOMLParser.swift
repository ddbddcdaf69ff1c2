extension TOMLTable {
    /// Parses a TOML 1.0.0 document (https://toml.io/en/v1.0.0).
    ///
    /// ```swift
    /// let table = try TOMLTable(parsing: "[relay]\nport = 587\n")
    /// table["relay"]?.table?["port"]  // .integer(587), written at line 2, column 1
    /// ```
    ///
    /// Total on any input: it returns or throws, never traps. Arrays, inline tables and
    /// dotted keys nest at most ``TOMLParser/maximumDepth`` levels.
    ///
    /// - Throws: ``TOMLSyntaxError`` with the line and column of the first error.
    public init(parsing text: String) throws(TOMLSyntaxError) {
        var parser = TOMLParser(text)
        self = try parser.parseDocument()
    }
}

/// A one-pass reader of TOML text as UTF-8 bytes. The document level is here (lines, keys,
/// headers); values, strings, numbers and dates are in the extensions beside it, and what
/// may define what is in ``TOMLTableBuilder``.
public struct TOMLParser {
    /// How deep arrays, inline tables and tables (by headers and dotted keys) may nest.
    public static let maximumDepth = 100
    static let tooDeep = "nested deeper than \(maximumDepth) levels (tables, dotted keys, arrays and inline tables together)"

    let bytes: [UInt8]
    var index = 0
    /// The current line, from 1, and the offset of its first byte.
    var line = 1
    var lineStart = 0
    /// A known column on the current line, so that columns cost linear time in all.
    private var columnMark = (offset: 0, column: 1)
    /// Numbers the sections (headers and inline tables) for the dotted-key rule.
    var sectionCount = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    // MARK: Bytes and positions

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    func peek(_ offset: Int) -> UInt8? {
        let at = index + offset
        return at < bytes.count ? bytes[at] : nil
    }

    /// The scalar at `offset`, for messages.
    func scalar(at offset: Int) -> Unicode.Scalar? {
        guard offset < bytes.count else { return nil }
        return String(decoding: bytes[offset..<min(offset + 4, bytes.count)], as: UTF8.self).unicodeScalars.first
    }

    mutating func position(at offset: Int) -> TOMLPosition {
        guard offset >= lineStart else { return earlierPosition(at: offset) }
        var (from, column) = columnMark.offset >= lineStart && columnMark.offset <= offset ? columnMark : (lineStart, 1)
        while from < offset && from < bytes.count {
            if bytes[from] & 0xC0 != 0x80 { column += 1 }
            from += 1
        }
        columnMark = (offset, column)
        return TOMLPosition(line: line, column: column)
    }

    /// A position before the current line (rare: only some errors point back).
    private func earlierPosition(at offset: Int) -> TOMLPosition {
        var line = self.line
        var start = lineStart
        while start > offset {
            line -= 1
            start -= 1
            while start > 0 && bytes[start - 1] != Self.lineFeed { start -= 1 }
        }
        let column = bytes[start..<offset].reduce(1) { $0 + ($1 & 0xC0 != 0x80 ? 1 : 0) }
        return TOMLPosition(line: line, column: column)
    }

    mutating func failure(_ message: String, at offset: Int? = nil) -> TOMLSyntaxError {
        TOMLSyntaxError(at: position(at: offset ?? index), message)
    }

    /// `found 'x'` for the byte at the current index.
    var found: String { "found " + TOMLSyntaxError.quote(scalar(at: index)) }

    // MARK: Blank space, comments and line ends

    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09

    /// A byte that is not allowed raw in a comment or string: a control character other than
    /// tab (U+0000 to U+0008, U+000A to U+001F, U+007F).
    static func isControl(_ byte: UInt8) -> Bool { (byte < 0x20 && byte != tab) || byte == 0x7F }

    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }

    mutating func skipWhitespace() {
        while let byte = peek, byte == Self.space || byte == Self.tab { index += 1 }
    }

    /// Consumes LF or CR LF and counts the line; false when neither is next.
    mutating func consumeNewline() throws(TOMLSyntaxError) -> Bool {
        if peek == Self.lineFeed {
            index += 1
        } else if peek == Self.carriageReturn {
            guard peek(1) == Self.lineFeed else { throw failure("a carriage return must be followed by a line feed") }
            index += 2
        } else {
            return false
        }
        line += 1
        lineStart = index
        return true
    }

    /// From `#` to the end of the line, not consuming the line break.
    mutating func skipComment() throws(TOMLSyntaxError) {
        index += 1
        while let byte = peek {
            if byte == Self.lineFeed || (byte == Self.carriageReturn && peek(1) == Self.lineFeed) { return }
            if Self.isControl(byte) {
                throw failure("\(TOMLSyntaxError.quote(scalar(at: index))) (a control character) is not allowed in a comment")
            }
            index += 1
        }
    }

    /// White space, comments and line breaks, as between the elements of an array.
    mutating func skipBlankLines() throws(TOMLSyntaxError) {
        while true {
            skipWhitespace()
            if peek == UInt8(ascii: "#") { try skipComment() }
            guard try consumeNewline() else { return }
        }
    }

    /// After a key/value pair or a header: white space, maybe a comment, then a line break or
    /// the end of the file.
    mutating func endLine(after what: String) throws(TOMLSyntaxError) {
        skipWhitespace()
        if peek == UInt8(ascii: "#") { try skipComment() }
        guard peek != nil else { return }
        guard try consumeNewline() else { throw failure("expected the end of the line after \(what), \(found)") }
    }

    // MARK: The document

    mutating func parseDocument() throws(TOMLSyntaxError) -> TOMLTable {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {  // a byte order mark
            index = 3
            lineStart = 3
        }
        let root = TOMLTableBuilder(position: TOMLPosition(line: 1, column: 1))
        var current = root
        var currentDepth = 0
        var currentSection = 0
        while true {
            skipWhitespace()
            guard let byte = peek else { break }
            switch byte {
            case UInt8(ascii: "#"), Self.lineFeed, Self.carriageReturn:
                try endLine(after: "a comment")
            case UInt8(ascii: "["):
                (current, currentDepth) = try parseHeader(root)
                sectionCount += 1
                currentSection = sectionCount
                try endLine(after: "the table header")
            default:
                try parseKeyValue(into: current, section: currentSection, depth: currentDepth)
                try endLine(after: "the value")
            }
        }
        return root.frozen()
    }

    /// `[a.b]` or `[[a.b]]`; returns the table that the following keys go into, and its depth.
    mutating func parseHeader(_ root: TOMLTableBuilder) throws(TOMLSyntaxError) -> (TOMLTableBuilder, Int) {
        let header = position(at: index)
        index += 1
        let isArray = peek == UInt8(ascii: "[")
        if isArray { index += 1 }
        let parts = try parseKey(inHeader: true)
        let closing = isArray ? "']]'" : "']'"
        guard peek == UInt8(ascii: "]") else { throw failure("expected \(closing) to close the table header, \(found)") }
        index += 1
        if isArray {
            guard peek == UInt8(ascii: "]") else { throw failure("expected ']]' to close the array-of-tables header, \(found)") }
            index += 1
        }
        guard parts.count <= Self.maximumDepth else {
            throw TOMLSyntaxError(at: header, Self.tooDeep)
        }
        let table = isArray
            ? try TOMLTableBuilder.appendTable(parts, in: root, header: header)
            : try TOMLTableBuilder.defineTable(parts, in: root, header: header)
        return (table, parts.count)
    }

    /// `key = value` into `table`, whose depth is `depth`.
    mutating func parseKeyValue(into table: TOMLTableBuilder, section: Int, depth: Int) throws(TOMLSyntaxError) {
        let parts = try parseKey(inHeader: false)
        guard depth + parts.count <= Self.maximumDepth else {
            throw TOMLSyntaxError(at: parts.first?.position ?? position(at: index), Self.tooDeep)
        }
        guard peek == UInt8(ascii: "=") else {
            throw failure("expected '=' after the key \(TOMLKeyPart.display(parts)), \(found)")
        }
        index += 1
        skipWhitespace()
        let value = try parseValue(depth: depth + parts.count)
        try table.insert(value, at: parts, section: section)
    }

    // MARK: Keys

    /// A dotted key, with the white space around it and its dots.
    mutating func parseKey(inHeader: Bool) throws(TOMLSyntaxError) -> [TOMLKeyPart] {
        var parts: [TOMLKeyPart] = []
        while true {
            skipWhitespace()
            let start = position(at: index)
            let name = try parseSimpleKey(inHeader: inHeader, afterDot: !parts.isEmpty)
            parts.append(TOMLKeyPart(name: name, position: start))
            skipWhitespace()
            guard peek == UInt8(ascii: ".") else { return parts }
            index += 1
        }
    }

    /// A bare key (`A-Za-z0-9_-`), a basic string or a literal string.
    mutating func parseSimpleKey(inHeader: Bool, afterDot: Bool) throws(TOMLSyntaxError) -> String {
        switch peek {
        case UInt8(ascii: "\"")?, UInt8(ascii: "'")?:
            if peek(1) == peek && peek(2) == peek { throw failure("a multi-line string cannot be a key") }
            return peek == UInt8(ascii: "\"") ? try parseBasicString() : try parseLiteralString()
        case let byte? where Self.isBareKeyByte(byte):
            let start = index
            while let byte = peek, Self.isBareKeyByte(byte) { index += 1 }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        default:
            if afterDot { throw failure("expected a key after '.', \(found)") }
            if inHeader { throw failure("a table name must start with a letter, a digit, '-', '_' or a quote, \(found)") }
            throw failure("expected a key (letters, digits, '-', '_' or a quoted string), \(found)")
        }
    }
}
