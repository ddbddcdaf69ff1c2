public import MailAuditCore

/// A BIMI Assertion Record (draft-brand-indicators-for-message-identification-10 §4.3),
/// published as TXT at `default._bimi.<domain>`: where the brand's logo (`l=`) and the evidence
/// of the right to use it (`a=`, a Verified or Common Mark Certificate) are fetched from.
///
/// ```swift
/// let record = try BIMIRecord(parsing: "v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem")
/// record.location?.host   // example.com
/// record.description      // "v=BIMI1; l=https://example.com/logo.svg; a=https://example.com/vmc.pem"
/// try BIMIRecord(parsing: "v=BIMI1; l=; a=;").isDeclination   // true: BIMI declined (§4.3.1)
/// ```
///
/// `description` renders the canonical form (`v`, `l`, `a` when set or when declining, then
/// the other tags as written), and parsing it gives back an equal value.
public struct BIMIRecord: Hashable, Sendable, CustomStringConvertible {
    /// `l=`: the logo; nil when the tag is empty.
    public var location: HTTPSURL?
    /// `a=`: the evidence document; nil when the tag is empty or absent.
    public var evidence: HTTPSURL?
    /// Other tags (`lps`, `avp`, and unknown ones, which receivers ignore), as written.
    public var extensions: [TagListTag]

    public init(location: HTTPSURL?, evidence: HTTPSURL? = nil, extensions: [TagListTag] = []) {
        self.location = location
        self.evidence = evidence
        self.extensions = extensions
    }

    /// Both `l=` and `a=` empty: an explicit refusal to take part in BIMI (§4.3.1).
    public var isDeclination: Bool { location == nil && evidence == nil }

    public var description: String {
        var tags = ["v=BIMI1", "l=\(location?.text ?? "")"]
        if evidence != nil || location == nil { tags.append("a=\(evidence?.text ?? "")") }
        return (tags + extensions.map(\.description)).joined(separator: "; ")
    }

    /// Parses a record by the grammar of §4.3: DKIM's tag-list (RFC 6376 §3.2), whose tag names
    /// are case-sensitive; whitespace may stand around "=" and ";".
    ///
    /// ```swift
    /// try BIMIRecord(parsing: "v=BIMI1; l=https://example.com/logo.svg;")   // ok
    /// try BIMIRecord(parsing: "v=BIMI1; l=http://example.com/logo.svg")     // throws: https only
    /// ```
    ///
    /// `v=BIMI1` must be the first tag and match exactly; `l` is required, and it and `a` hold
    /// one `https:` URI each, or nothing. A tag written twice makes the record invalid (RFC 6376
    /// §3.2), and receivers "MUST NOT attempt to fix syntactical or capitalization errors" (§4.3).
    ///
    /// - Throws: ``BIMIRecordError`` naming the tag, its 0-based character offset and the
    ///   problem: no `v=BIMI1` first, a non-ASCII or control character, a tag without "=", a bad
    ///   or repeated tag name, a known name in the wrong case, a list of URIs where one belongs,
    ///   a URI that is not `https:` or not a URI, or no `l` tag.
    public init(parsing text: String) throws(BIMIRecordError) {
        // tag-name = ALPHA *ALNUMPUNC (RFC 6376 §3.2)
        let entries = try TagList.parse(text, reporting: BIMIRecordError.self) { scalar, isFirst in
            TagList.isAlpha(scalar) || (!isFirst && (TagList.isDigit(scalar) || scalar == "_"))
        }
        // bimi-version = "v" *WSP "=" *WSP "BIMI1", the first tag.
        guard let version = entries.first, version.name == "v", version.value == "BIMI1" else {
            throw BIMIRecordError(tag: entries.first?.name ?? "", offset: entries.first?.offset ?? 0, reason: .notBIMIVersion)
        }
        var location: HTTPSURL??
        var evidence: HTTPSURL?
        var extensions: [TagListTag] = []
        var seen: Set<String> = ["v"]
        for entry in entries.dropFirst() {
            func error(_ reason: BIMIRecordError.Reason, at offset: Int? = nil) -> BIMIRecordError {
                BIMIRecordError(tag: entry.name, offset: offset ?? entry.valueOffset, reason: reason)
            }
            guard seen.insert(entry.name).inserted else { throw error(.duplicateTag, at: entry.offset) }
            let lower = entry.name.lowercasedASCII
            if lower != entry.name && Self.knownTags.contains(lower) { throw error(.caseSensitiveName(lower), at: entry.offset) }
            switch entry.name {
            case "l":
                location = .some(try Self.uri(entry))
            case "a":
                evidence = try Self.uri(entry)
            default:
                extensions.append(TagListTag(name: entry.name, value: entry.value))
            }
        }
        guard let location else { throw BIMIRecordError(tag: "", offset: text.unicodeScalars.count, reason: .missingLocation) }
        self.init(location: location, evidence: evidence, extensions: extensions)
    }

    static let knownTags: Set<String> = ["v", "l", "a", "lps", "avp"]

    /// bimi-uri = [FWS] URI [FWS], or nothing; "commas within a URI MUST be encoded".
    private static func uri(_ entry: TagListEntry) throws(BIMIRecordError) -> HTTPSURL? {
        guard !entry.value.isEmpty else { return nil }
        let scalars = Array(entry.value.unicodeScalars)
        if let comma = scalars.firstIndex(of: ",") {
            throw BIMIRecordError(tag: entry.name, offset: entry.valueOffset + comma, reason: .multipleURIs)
        }
        do throws(HTTPSURLError) {
            return try HTTPSURL(parsing: entry.value)
        } catch {
            throw BIMIRecordError(tag: entry.name, offset: entry.valueOffset, reason: .badURI(error))
        }
    }
}

/// Why a BIMI Assertion Record could not be parsed, and where (draft §4.3).
public typealias BIMIRecordError = TagListParseError<BIMISyntaxProblem>

/// What is wrong in a record that ``BIMIRecordError`` locates.
public enum BIMISyntaxProblem: TagListSyntaxReason {
    /// The first tag is not exactly `v=BIMI1`.
    case notBIMIVersion
    /// A character outside printable ASCII.
    case nonASCII(Unicode.Scalar)
    /// A tag with no "=".
    case missingEquals
    /// A tag name outside `ALPHA *(ALPHA / DIGIT / "_")`.
    case badTagName
    /// A tag written twice.
    case duplicateTag
    /// `L=` for `l=` and the like: tag names are case-sensitive.
    case caseSensitiveName(String)
    /// A comma in `l=` or `a=`: one URI only, commas encoded.
    case multipleURIs
    case badURI(HTTPSURLError)
    /// No `l` tag, which is required.
    case missingLocation

    public var description: String {
        switch self {
        case .notBIMIVersion: "the record does not start with \"v=BIMI1\""
        case .nonASCII(let scalar): "\(TagList.show(scalar)) cannot appear in a BIMI record"
        case .missingEquals: "the tag has no \"=\""
        case .badTagName: "a tag name is a letter, then letters, digits or \"_\""
        case .duplicateTag: "the tag is written more than once, which makes the record invalid"
        case .caseSensitiveName(let name): "tag names are case-sensitive: write \"\(name)\""
        case .multipleURIs: "the tag holds one URI; a comma within it must be written %2C"
        case .badURI(let error): error.description
        case .missingLocation: "the record has no l= tag, which is required (empty to decline)"
        }
    }
}

extension TagListParseError where Reason == BIMISyntaxProblem {
    /// True when the only problem is a URI with another scheme than `https:`.
    public var isNotHTTPS: Bool {
        if case .badURI(let error) = reason, case .notHTTPS = error.reason { true } else { false }
    }
}

/// BIMI records among the TXT records at `default._bimi.<domain>`: records whose first tag is
/// not `v=BIMI1` are ignored (§4.3), and more than one is an error.
public typealias BIMIRecordSelection = TXTRecordSelection<BIMIRecordKind>

public enum BIMIRecordKind: TXTRecordKind {
    public static let versionWord = "bimi1"

    /// `v`, "=", `BIMI1` with optional whitespace around "=", then the end, whitespace or ";".
    public static func matches(_ text: String) -> Bool {
        BIMIRecordSelection.startsWithVersionTag(Substring(text).drop { $0 == " " || $0 == "\t" }, value: "BIMI1") { $0 == "v" }
    }
}
