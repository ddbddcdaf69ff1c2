public import MailAuditCore

/// An MTA-STS TXT record (RFC 8461 §3.1), published at `_mta-sts.<domain>`: it tells senders
/// that the domain has a policy, and its `id` changes whenever the policy does.
///
/// ```swift
/// let record = try MTASTSRecord(parsing: "v=STSv1; id=20300101T000000")
/// record.id            // "20300101T000000"
/// record.description   // "v=STSv1; id=20300101T000000"
/// ```
///
/// `description` renders the canonical form (`v`, `id`, then the extensions as written), and
/// parsing it gives back an equal value.
public struct MTASTSRecord: Hashable, Sendable, CustomStringConvertible {
    /// `id`: 1 to 32 letters and digits that identify the current policy.
    public var id: String
    /// Extension fields, which senders ignore, in the order written.
    public var extensions: [TagListTag]
    /// Fields written again after their first occurrence; senders use the first and ignore these
    /// (RFC 8461 §3.2: "all entries except for the first SHOULD be ignored").
    public var ignoredDuplicates: [TagListTag]

    public init(id: String, extensions: [TagListTag] = [], ignoredDuplicates: [TagListTag] = []) {
        self.id = id
        self.extensions = extensions
        self.ignoredDuplicates = ignoredDuplicates
    }

    public var description: String {
        (["v=STSv1", "id=\(id)"] + extensions.map(\.description)).joined(separator: "; ")
    }

    /// Parses a record by the grammar of RFC 8461 §3.1.
    ///
    /// ```swift
    /// try MTASTSRecord(parsing: "v=STSv1; id=abc123;")     // ok: a trailing ";" is allowed
    /// try MTASTSRecord(parsing: "v=STSv1; id=2024-01-01")  // throws: "-" is not allowed in an id
    /// ```
    ///
    /// `v=STSv1` must open the record exactly (`%s"v=STSv1"`), and `id` is required; both names
    /// are case-sensitive, and no whitespace may stand around their "=". Whitespace around ";"
    /// is allowed. A field written twice keeps its first value (see ``ignoredDuplicates``).
    ///
    /// - Throws: ``MTASTSRecordError`` naming the field, its 0-based character offset and the
    ///   problem: no `v=STSv1` first, a non-ASCII or control character, a field without "=",
    ///   a bad or overlong field name, whitespace around "=", an id that is not 1 to 32 letters
    ///   and digits, an extension value with spaces or "=", or no id.
    public init(parsing text: String) throws(MTASTSRecordError) {
        // sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
        let entries = try TagList.parse(text, reporting: MTASTSRecordError.self) { scalar, isFirst in
            TagList.isAlpha(scalar) || TagList.isDigit(scalar) || (!isFirst && (scalar == "_" || scalar == "-" || scalar == "."))
        }
        // sts-version = %s"v=STSv1", the very first characters.
        guard let version = entries.first, version.offset == 0, version.name == "v", version.valueOffset == 2,
              version.value == "STSv1"
        else { throw MTASTSRecordError(tag: entries.first?.name ?? "", offset: 0, reason: .notSTSVersion) }
        var id: String?
        var extensions: [TagListTag] = []
        var duplicates: [TagListTag] = []
        var seen: Set<String> = ["v"]
        for entry in entries.dropFirst() {
            func error(_ reason: MTASTSRecordError.Reason, at offset: Int? = nil) -> MTASTSRecordError {
                MTASTSRecordError(tag: entry.name, offset: offset ?? entry.valueOffset, reason: reason)
            }
            guard entry.name.count <= 32 else { throw error(.badTagName, at: entry.offset) }
            // sts-id = %s"id=" 1*32(ALPHA / DIGIT); sts-extension = sts-ext-name "=" sts-ext-value
            guard entry.valueOffset == entry.offset + entry.name.unicodeScalars.count + 1 else {
                throw error(.whitespaceAroundEquals, at: entry.offset)
            }
            if entry.name != "id" && entry.name != "v" && ["id", "v"].contains(entry.name.lowercasedASCII) {
                throw error(.caseSensitiveName(entry.name.lowercasedASCII), at: entry.offset)
            }
            guard !entry.value.isEmpty else { throw error(.emptyValue) }
            let tag = TagListTag(name: entry.name, value: entry.value)
            guard seen.insert(entry.name).inserted else {
                duplicates.append(tag)
                continue
            }
            if entry.name == "id" {
                guard entry.value.unicodeScalars.count <= 32,
                      entry.value.unicodeScalars.allSatisfy({ TagList.isAlpha($0) || TagList.isDigit($0) })
                else { throw error(.badID(entry.value)) }
                id = entry.value
            } else {
                // sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no spaces, no "=".
                let scalars = Array(entry.value.unicodeScalars)
                if let index = scalars.firstIndex(where: { $0 == "=" || TagList.isWhitespace($0) }) {
                    throw error(.badExtensionValue(scalars[index]), at: entry.valueOffset + index)
                }
                extensions.append(tag)
            }
        }
        guard let id else { throw MTASTSRecordError(tag: "", offset: text.unicodeScalars.count, reason: .missingID) }
        self.init(id: id, extensions: extensions, ignoredDuplicates: duplicates)
    }
}

/// Why an MTA-STS TXT record could not be parsed, and where (RFC 8461 §3.1).
public typealias MTASTSRecordError = TagListParseError<MTASTSSyntaxProblem>

/// What is wrong in a record that ``MTASTSRecordError`` locates.
public enum MTASTSSyntaxProblem: TagListSyntaxReason {
    /// The record does not start with exactly `v=STSv1`.
    case notSTSVersion
    /// A character outside printable ASCII.
    case nonASCII(Unicode.Scalar)
    /// A field with no "=".
    case missingEquals
    /// A field name outside `sts-ext-name`, or longer than 32 characters.
    case badTagName
    /// Whitespace between a field's name and "=", or between "=" and its value.
    case whitespaceAroundEquals
    /// `ID=` or `V=`: the names `id` and `v` are case-sensitive.
    case caseSensitiveName(String)
    /// `field=` with nothing after it.
    case emptyValue
    /// An `id` that is not 1 to 32 letters and digits.
    case badID(String)
    /// An extension value with a space or "=".
    case badExtensionValue(Unicode.Scalar)
    /// No `id` field.
    case missingID

    public var description: String {
        switch self {
        case .notSTSVersion: "the record does not start with \"v=STSv1\""
        case .nonASCII(let scalar): "\(TagList.show(scalar)) cannot appear in an MTA-STS record"
        case .missingEquals: "the field has no \"=\""
        case .badTagName: "a field name is a letter or digit, then at most 31 letters, digits, \"_\", \"-\" or \".\""
        case .whitespaceAroundEquals: "no whitespace may stand around \"=\""
        case .caseSensitiveName(let name): "field names are case-sensitive: write \"\(name)\""
        case .emptyValue: "the field has no value"
        case .badID(let value): "\"\(value)\" is not an id: 1 to 32 letters and digits, nothing else"
        case .badExtensionValue(let scalar): "\(TagList.show(scalar)) cannot appear in an extension value"
        case .missingID: "the record has no id field, which is required"
        }
    }
}

/// MTA-STS records among the TXT records at `_mta-sts.<domain>` (RFC 8461 §3.1): records that do
/// not begin with `v=STSv1` are discarded, and when more than one is left senders assume the
/// domain has no policy.
public typealias MTASTSRecordSelection = TXTRecordSelection<MTASTSRecordKind>

public enum MTASTSRecordKind: TXTRecordKind {
    public static let versionWord = "stsv1"

    /// `v=STSv1` then the end, whitespace or ";".
    public static func matches(_ text: String) -> Bool { MTASTSRecordSelection.startsWithVersion(text, "v=STSv1") }
}
