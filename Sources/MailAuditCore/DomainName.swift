/// A DNS name held as lower-case ASCII labels, without the root label.
///
/// User input goes through ``init(parsing:)``, which converts Unicode to A-labels (IDNA),
/// folds case and rejects what cannot be a host name. Names read off the wire go through
/// ``init(labels:)``, which accepts any label DNS can carry.
public struct DomainName: Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    /// Labels from the leftmost to the top-level one, lower-cased.
    public let labels: [String]

    /// The root name (".").
    public static let root = DomainName(trustedLabels: [])

    /// Builds a name from labels read off the wire. Case is folded; nothing else is checked.
    public init(labels: [String]) {
        self.labels = labels.map { $0.lowercasedASCII }
    }

    init(trustedLabels: [String]) { self.labels = trustedLabels }

    /// Parses a domain name typed by a user, for example `Example.COM.` or `bücher.example`.
    ///
    /// - Throws: ``DomainNameError`` naming the problem: empty input, an IP address,
    ///   an empty, overlong or badly formed label, a bad character, or an overlong name.
    public init(parsing input: String) throws(DomainNameError) {
        var text = input.trimmingASCIIWhitespace
        if text.isEmpty { throw .empty }
        if IPAddress(text) != nil || (text.hasPrefix("[") && text.hasSuffix("]")) {
            throw .ipAddress(text)
        }
        // Full stops that IDNA treats as label separators (ideographic, fullwidth, halfwidth).
        text = String(text.map { "\u{3002}\u{FF0E}\u{FF61}".contains($0) ? "." : $0 })
        if text == "." { throw .empty }
        if text.hasSuffix(".") { text.removeLast() }
        var labels: [String] = []
        for raw in text.split(separator: ".", omittingEmptySubsequences: false) {
            if raw.isEmpty { throw .emptyLabel(input) }
            let label = try IDNA.toASCII(label: String(raw))
            if label.utf8.count > 63 { throw .labelTooLong(String(raw), label.utf8.count) }
            labels.append(label)
        }
        let wireLength = labels.reduce(1) { $0 + $1.utf8.count + 1 }
        if wireLength > 255 { throw .nameTooLong(wireLength) }
        if labels.count == 1 { throw .singleLabel(labels[0]) }
        if let last = labels.last, last.allSatisfy(\.isASCIIDigit) {
            throw .numericTopLevel(input)
        }
        self.labels = labels
    }

    /// The name in presentation form without the trailing dot ("." for the root).
    public var description: String {
        labels.isEmpty ? "." : labels.map(Self.escape).joined(separator: ".")
    }

    /// True when `self` equals `other` or lies below it.
    public func isSubdomain(of other: DomainName) -> Bool {
        labels.count >= other.labels.count && Array(labels.suffix(other.labels.count)) == other.labels
    }

    /// The name with one more label on the left, for example `_dmarc` + `example.com`.
    public func prepending(_ label: String) -> DomainName {
        DomainName(labels: [label] + labels)
    }

    /// The parent name, or nil for the root.
    public var parent: DomainName? {
        labels.isEmpty ? nil : DomainName(trustedLabels: Array(labels.dropFirst()))
    }

    public static func < (lhs: DomainName, rhs: DomainName) -> Bool {
        lhs.labels.reversed().lexicographicallyPrecedes(rhs.labels.reversed())
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self.init(labels: text == "." ? [] : text.split(separator: ".").map(String.init))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    private static func escape(_ label: String) -> String {
        if label.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "\\") }) {
            return label
        }
        var out = ""
        for scalar in label.unicodeScalars {
            switch scalar {
            case ".", "\\": out += "\\\(scalar)"
            case _ where scalar.value < 0x21 || scalar.value > 0x7E:
                let code = String(scalar.value)
                out += "\\" + String(repeating: "0", count: max(0, 3 - code.count)) + code
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// Why a typed domain name was refused. Each case renders a message naming the problem.
public enum DomainNameError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case ipAddress(String)
    case emptyLabel(String)
    case labelTooLong(String, Int)
    case nameTooLong(Int)
    case badCharacter(label: String, character: Character)
    case hyphenAtEdge(String)
    case singleLabel(String)
    case numericTopLevel(String)
    case badPunycode(String)

    public var description: String {
        switch self {
        case .empty: "the domain name is empty"
        case .ipAddress(let text): "\"\(text)\" is an IP address, not a domain name"
        case .emptyLabel(let text): "\"\(text)\" has an empty label (two dots in a row, or a leading dot)"
        case .labelTooLong(let label, let count):
            "the label \"\(label)\" is \(count) octets long; a label holds at most 63 (RFC 1035 §2.3.4)"
        case .nameTooLong(let count):
            "the name is \(count) octets long in wire form; a name holds at most 255 (RFC 1035 §2.3.4)"
        case .badCharacter(let label, let character):
            "the label \"\(label)\" contains \(Self.show(character)), which a host name cannot hold"
        case .hyphenAtEdge(let label): "the label \"\(label)\" starts or ends with a hyphen"
        case .singleLabel(let label): "\"\(label)\" is a single label; give a full domain name such as \(label).com"
        case .numericTopLevel(let text): "\"\(text)\" ends in an all-numeric label, so it is not a domain name"
        case .badPunycode(let label): "the label \"\(label)\" is not valid Punycode"
        }
    }

    private static func show(_ character: Character) -> String {
        let scalars = character.unicodeScalars.map { "U+" + String($0.value, radix: 16, uppercase: true) }
        if character.isLetter || character.isNumber || character.isPunctuation || character.isSymbol {
            return "'\(character)' (\(scalars.joined(separator: " ")))"
        }
        return scalars.joined(separator: " ")
    }
}

extension StringProtocol {
    var lowercasedASCII: String {
        guard utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return String(self) }
        return String(String.UnicodeScalarView(unicodeScalars.map { scalar in
            (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value + 32)) : scalar
        }))
    }

    var trimmingASCIIWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
