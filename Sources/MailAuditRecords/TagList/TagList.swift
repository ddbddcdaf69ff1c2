/// One `name=value` pair of a tag-list, with where it was written.
struct TagListEntry: Hashable, Sendable {
    /// The tag name as written.
    var name: String
    /// The value with the whitespace around it removed; inner whitespace is kept.
    var value: String
    /// 0-based offset of the name in the record, in Unicode scalars.
    var offset: Int
    /// 0-based offset of the value.
    var valueOffset: Int
}

/// Why a tag-list could not be split into tags.
enum TagListError: Error, Hashable, Sendable {
    case nonASCII(Unicode.Scalar, offset: Int)
    case missingEquals(String, offset: Int)
    case badName(String, offset: Int)
}

/// A tag of a tag-list record kept as written: one the record's standard does not define, or
/// (for DMARC) one it has removed. DKIM keeps the name as written, DMARC lower-cases it.
public struct TagListTag: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public var description: String { "\(name)=\(value)" }
}

/// The reasons a tag-list record's parser gives for the problems of the tag-list syntax itself;
/// the cases of the same names in ``DKIMSyntaxProblem``, ``DMARCSyntaxProblem`` and the others.
public protocol TagListSyntaxReason: Hashable, Sendable, CustomStringConvertible {
    /// A character outside printable ASCII and whitespace.
    static func nonASCII(_ scalar: Unicode.Scalar) -> Self
    /// A tag with no "=".
    static var missingEquals: Self { get }
    /// A tag name the record's grammar does not allow.
    static var badTagName: Self { get }
}

/// Why a tag-list record could not be parsed, and where; each record names its own reasons,
/// for example ``DKIMParseError``, which is `TagListParseError<DKIMSyntaxProblem>`.
public struct TagListParseError<Reason: TagListSyntaxReason>: TagListRecordError, Hashable, Sendable, CustomStringConvertible {
    /// The tag name as written ("" when the problem is not in a tag).
    public var tag: String
    /// 0-based character offset of the problem in the record text.
    public var offset: Int
    public var reason: Reason

    public init(tag: String, offset: Int, reason: Reason) {
        self.tag = tag
        self.offset = offset
        self.reason = reason
    }

    public var description: String { located }
}

/// What the tag-list parsers need of a record's error.
public protocol TagListRecordError: Error {
    associatedtype Reason: TagListSyntaxReason
    /// The tag name as written ("" when the problem is not in a tag).
    var tag: String { get }
    /// 0-based character offset of the problem in the record text.
    var offset: Int { get }
    var reason: Reason { get }
    init(tag: String, offset: Int, reason: Reason)
}

extension TagListRecordError {
    /// The record's error for a tag-list that could not be split into tags.
    init(_ error: TagListError) {
        switch error {
        case .nonASCII(let scalar, let offset): self.init(tag: "", offset: offset, reason: .nonASCII(scalar))
        case .missingEquals(let segment, let offset): self.init(tag: segment, offset: offset, reason: .missingEquals)
        case .badName(let name, let offset): self.init(tag: name, offset: offset, reason: .badTagName)
        }
    }

    /// `tag "p" at offset 12: reason`, or `offset 3: reason` when the problem is not in a tag.
    var located: String {
        (tag.isEmpty ? "offset \(offset)" : "tag \"\(tag)\" at offset \(offset)") + ": \(reason)"
    }
}

/// The "tag=value" list syntax of DKIM key records (RFC 6376 §3.2), shared by DMARC records,
/// which "follow the extensible tag-value syntax for DNS-based key records defined in DKIM"
/// (RFC 9989 §4.7), and by the MTA-STS and TLS-RPT TXT records of the same shape
/// (RFC 8461 §3.1, RFC 8460 §3). The one place this grammar lives.
///
/// Tags are separated by ";"; whitespace around names, "=" and values is ignored. A segment
/// made only of whitespace (as in "a=1;;b=2" or a trailing ";") is skipped. Tag names are checked
/// by the caller's rule; duplicates are the caller's business too.
enum TagList {
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n"
    }

    static func parse(
        _ text: String, isNameCharacter: (Unicode.Scalar, _ isFirst: Bool) -> Bool
    ) throws(TagListError) -> [TagListEntry] {
        let scalars = Array(text.unicodeScalars)
        for (offset, scalar) in scalars.enumerated() where scalar.value > 0x7E || (scalar.value < 0x20 && !isWhitespace(scalar)) {
            throw .nonASCII(scalar, offset: offset)
        }
        var entries: [TagListEntry] = []
        var start = 0
        for index in 0...scalars.count where index == scalars.count || scalars[index] == ";" {
            let range = trimmed(scalars, start..<index)
            start = index + 1
            if range.isEmpty { continue }
            let segment = String(String.UnicodeScalarView(scalars[range]))
            guard let equals = scalars[range].firstIndex(of: "=") else { throw .missingEquals(segment, offset: range.lowerBound) }
            let nameRange = trimmed(scalars, range.lowerBound..<equals)
            let name = String(String.UnicodeScalarView(scalars[nameRange]))
            let nameIsValid = !nameRange.isEmpty
                && nameRange.enumerated().allSatisfy { isNameCharacter(scalars[$0.element], $0.offset == 0) }
            guard nameIsValid else { throw .badName(name, offset: range.lowerBound) }
            let valueRange = trimmed(scalars, equals + 1..<range.upperBound)
            entries.append(TagListEntry(
                name: name, value: String(String.UnicodeScalarView(scalars[valueRange])),
                offset: nameRange.lowerBound, valueOffset: valueRange.lowerBound))
        }
        return entries
    }

    /// ``parse(_:isNameCharacter:)``, throwing a record's own error (`Failure`) for the problems of the syntax.
    static func parse<Failure: TagListRecordError>(
        _ text: String, reporting _: Failure.Type, isNameCharacter: (Unicode.Scalar, _ isFirst: Bool) -> Bool
    ) throws(Failure) -> [TagListEntry] {
        do throws(TagListError) {
            return try parse(text, isNameCharacter: isNameCharacter)
        } catch {
            throw Failure(error)
        }
    }

    private static func trimmed(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound, upper = range.upperBound
        while lower < upper, isWhitespace(scalars[lower]) { lower += 1 }
        while upper > lower, isWhitespace(scalars[upper - 1]) { upper -= 1 }
        return lower..<upper
    }

    static func isAlpha(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// A character as a person can read it: `'x'` or `U+000D`.
    static func show(_ scalar: Unicode.Scalar) -> String {
        if scalar.value >= 0x21 && scalar.value <= 0x7E { return "'\(scalar)'" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
