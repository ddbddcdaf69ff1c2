/// The elements of an XML document and their attributes, read by a small well-formedness scan
/// (XML 1.0 §2.1, §2.8, §3.1): enough to tell an SVG logo from anything else and to judge its
/// profile. Nothing is fetched and no entity is expanded: a document that declares entities
/// is read with their references left as written.
///
/// ```swift
/// let outline = try XMLOutline(parsing: Array(#"<svg xmlns="http://www.w3.org/2000/svg"><title>Brand</title></svg>"#.utf8))
/// outline.root.localName              // "svg"
/// outline.elements.map(\.localName)   // ["svg", "title"]
/// ```
///
/// The scan checks that tags nest and close, that attributes are quoted and not repeated,
/// that nothing but comments, processing instructions and whitespace stands outside the one
/// root element, and that character and entity references are well-formed. It does not
/// check namespaces or the characters allowed in names beyond ASCII.
public struct XMLOutline: Hashable, Sendable {
    public struct Attribute: Hashable, Sendable {
        /// The qualified name as written, such as `xlink:href`.
        public var name: String
        /// The value with character references and the five predefined entities decoded.
        public var value: String
    }

    public struct Element: Hashable, Sendable {
        /// The qualified name as written, such as `svg` or `svg:rect`.
        public var name: String
        public var attributes: [Attribute]
        /// 0 for the root element.
        public var depth: Int
        /// The text directly inside the element, references decoded, whitespace trimmed.
        public var text: String

        /// The name without its namespace prefix.
        public var localName: String { String(name.split(separator: ":", maxSplits: 1).last ?? "") }

        /// The value of the attribute named `name` exactly, if present.
        public func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }
    }

    /// Every element in document order; the first is the root.
    public var elements: [Element]
    /// The document type declaration declares entities (`<!ENTITY`).
    public var declaresEntities: Bool

    public var root: Element { elements[0] }

    /// Scans a document in UTF-8 (a byte order mark is skipped).
    ///
    /// - Throws: ``XMLOutlineError`` with the byte offset and the problem: not UTF-8, no
    ///   element, an unterminated construct, a bad name or attribute, a repeated attribute,
    ///   an end tag that does not match, text or a second element outside the root, an
    ///   undeclared or malformed reference, or elements left open.
    public init(parsing bytes: [UInt8]) throws(XMLOutlineError) {
        var scanner = try XMLScanner(bytes)
        try scanner.scan()
        guard !scanner.elements.isEmpty else { throw XMLOutlineError(offset: bytes.count, reason: .noElement) }
        elements = scanner.elements
        declaresEntities = scanner.declaresEntities
    }
}

/// Why a document is not well-formed XML, and where.
public struct XMLOutlineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 0-based byte offset of the problem.
    public var offset: Int
    public var reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        case notUTF8
        case noElement
        /// A comment, CDATA section, declaration, tag or attribute value without its end.
        case unterminated(String)
        case badName
        case badAttribute
        case duplicateAttribute(String)
        case mismatchedEndTag(expected: String, found: String)
        case textOutsideRoot
        case secondRoot(String)
        case badReference(String)
        case unclosed(String)

        public var description: String {
            switch self {
            case .notUTF8: "the document is not UTF-8 text"
            case .noElement: "the document has no element"
            case .unterminated(let what): "\(what) is not terminated"
            case .badName: "a tag has no valid name"
            case .badAttribute: "an attribute is not name=\"value\""
            case .duplicateAttribute(let name): "the attribute \(name) is written twice"
            case .mismatchedEndTag(let expected, let found): "</\(found)> closes <\(expected)>"
            case .textOutsideRoot: "text stands outside the root element"
            case .secondRoot(let name): "a second top-level element <\(name)> follows the root element"
            case .badReference(let text): "\"\(text)\" is not a defined entity or character reference"
            case .unclosed(let name): "<\(name)> is never closed"
            }
        }
    }

    public var description: String { "byte \(offset): \(reason)" }
}

/// The scan behind ``XMLOutline``.
private struct XMLScanner {
    let bytes: [UInt8]
    var index = 0
    var elements: [XMLOutline.Element] = []
    var declaresEntities = false
    /// Indices into `elements` of the open elements.
    var open: [Int] = []

    init(_ bytes: [UInt8]) throws(XMLOutlineError) {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw XMLOutlineError(offset: 0, reason: .notUTF8) }
        self.bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    func error(_ reason: XMLOutlineError.Reason, at offset: Int? = nil) -> XMLOutlineError {
        XMLOutlineError(offset: offset ?? index, reason: reason)
    }

    func starts(_ text: String) -> Bool { bytes[index...].starts(with: text.utf8) }

    /// The offset of the next `text` at or after `index`, or nil.
    func find(_ text: String) -> Int? {
        let needle = Array(text.utf8)
        var at = index
        while at + needle.count <= bytes.count {
            if bytes[at] == needle[0] && Array(bytes[at..<(at + needle.count)]) == needle { return at }
            at += 1
        }
        return nil
    }

    mutating func skip(past text: String, what: String) throws(XMLOutlineError) {
        guard let end = find(text) else { throw error(.unterminated(what)) }
        index = end + text.utf8.count
    }

    mutating func scan() throws(XMLOutlineError) {
        while index < bytes.count {
            if bytes[index] != UInt8(ascii: "<") {
                let start = index
                while index < bytes.count && bytes[index] != UInt8(ascii: "<") { index += 1 }
                let text = try decoded(start..<index)
                if let current = open.last {
                    elements[current].text += text
                } else if !text.allSatisfy(\.isWhitespace) {
                    throw error(.textOutsideRoot, at: start)
                }
            } else if starts("<?") {
                try skip(past: "?>", what: "a processing instruction")
            } else if starts("<!--") {
                try skip(past: "-->", what: "a comment")
            } else if starts("<![CDATA[") {
                guard let current = open.last else { throw error(.textOutsideRoot) }
                let start = index + 9
                try skip(past: "]]>", what: "a CDATA section")
                elements[current].text += String(decoding: bytes[start..<(index - 3)], as: UTF8.self)
            } else if starts("<!") {
                try doctype()
            } else if starts("</") {
                try endTag()
            } else {
                try startTag()
            }
        }
        if let current = open.last { throw error(.unclosed(elements[current].name)) }
        for index in elements.indices { elements[index].text = elements[index].text.trimmingSpaces }
    }

    /// `<!DOCTYPE …>`, with an internal subset in brackets and quoted literals.
    mutating func doctype() throws(XMLOutlineError) {
        let start = index
        var depth = 0
        var quote: UInt8?
        index += 2
        while index < bytes.count {
            let byte = bytes[index]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "[") {
                depth += 1
            } else if byte == UInt8(ascii: "]") {
                depth -= 1
            } else if byte == UInt8(ascii: ">") && depth <= 0 {
                index += 1
                if String(decoding: bytes[start..<index], as: UTF8.self).contains("<!ENTITY") { declaresEntities = true }
                return
            }
            index += 1
        }
        throw error(.unterminated("a declaration"), at: start)
    }

    mutating func endTag() throws(XMLOutlineError) {
        let start = index
        index += 2
        let name = try readName()
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else { throw error(.unterminated("the end tag </\(name)"), at: start) }
        index += 1
        guard let current = open.popLast() else { throw error(.mismatchedEndTag(expected: "", found: name), at: start) }
        guard elements[current].name == name else {
            throw error(.mismatchedEndTag(expected: elements[current].name, found: name), at: start)
        }
    }

    mutating func startTag() throws(XMLOutlineError) {
        let start = index
        index += 1
        let name = try readName()
        if open.isEmpty && !elements.isEmpty { throw error(.secondRoot(name), at: start) }
        var attributes: [XMLOutline.Attribute] = []
        while true {
            let spaced = skipSpace()
            guard index < bytes.count else { throw error(.unterminated("the tag <\(name)"), at: start) }
            if bytes[index] == UInt8(ascii: ">") || starts("/>") { break }
            guard spaced else { throw error(.badAttribute) }
            let attribute = try readName()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else { throw error(.badAttribute) }
            index += 1
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw error(.badAttribute)
            }
            let quote = bytes[index]
            let valueStart = index + 1
            guard let end = bytes[valueStart...].firstIndex(of: quote) else { throw error(.unterminated("the value of \(attribute)")) }
            if let angle = bytes[valueStart..<end].firstIndex(of: UInt8(ascii: "<")) { throw error(.badAttribute, at: angle) }
            guard !attributes.contains(where: { $0.name == attribute }) else { throw error(.duplicateAttribute(attribute)) }
            attributes.append(XMLOutline.Attribute(name: attribute, value: try decoded(valueStart..<end)))
            index = end + 1
        }
        let selfClosing = bytes[index] == UInt8(ascii: "/")
        index += selfClosing ? 2 : 1
        elements.append(XMLOutline.Element(name: name, attributes: attributes, depth: open.count, text: ""))
        if !selfClosing { open.append(elements.count - 1) }
    }

    /// A name: a letter, "_", ":" or non-ASCII, then also digits, "-" and ".".
    mutating func readName() throws(XMLOutlineError) -> String {
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            let isStart = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ":") || byte >= 0x80
            let isName = isStart || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            guard index == start ? isStart : isName else { break }
            index += 1
        }
        guard index > start else { throw error(.badName) }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Skips whitespace; true when there was some.
    @discardableResult
    mutating func skipSpace() -> Bool {
        let start = index
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        return index > start
    }

    /// Text with its references decoded (XML 1.0 §4.1, §4.6); references to declared entities
    /// are kept as written.
    func decoded(_ range: Range<Int>) throws(XMLOutlineError) -> String {
        let text = String(decoding: bytes[range], as: UTF8.self)
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { throw error(.badReference(String(rest[amp...].prefix(12))), at: range.lowerBound) }
            let reference = String(rest[rest.index(after: amp)..<semicolon])
            if let character = Self.predefined[reference] {
                out.append(character)
            } else if reference.hasPrefix("#"), let scalar = Self.characterReference(reference.dropFirst()) {
                out.unicodeScalars.append(scalar)
            } else if declaresEntities, !reference.isEmpty, !reference.hasPrefix("#") {
                out += "&\(reference);"
            } else {
                throw error(.badReference("&\(reference);"), at: range.lowerBound)
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return out + rest
    }

    static let predefined: [String: Character] = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'"]

    static func characterReference(_ text: Substring) -> Unicode.Scalar? {
        let value = text.hasPrefix("x") ? UInt32(text.dropFirst(), radix: 16) : UInt32(text, radix: 10)
        return value.flatMap(Unicode.Scalar.init)
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
