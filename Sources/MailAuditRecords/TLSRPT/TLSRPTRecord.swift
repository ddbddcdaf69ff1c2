/// A TLS-RPT policy record (RFC 8460 §3), published as TXT at `_smtp._tls.<domain>`: where
/// sending servers send their daily reports of TLS failures towards the domain's MX hosts.
///
/// ```swift
/// let record = try TLSRPTRecord(parsing: "v=TLSRPTv1; rua=mailto:tls-reports@example.com")
/// record.reportURIs.first?.address   // "tls-reports@example.com"
/// record.description                 // "v=TLSRPTv1; rua=mailto:tls-reports@example.com"
/// ```
///
/// `description` renders the canonical form (`v`, `rua`, then extensions as written), and
/// parsing it gives back an equal value.
public struct TLSRPTRecord: Hashable, Sendable, CustomStringConvertible {
    /// `rua`: where aggregate reports go, in the order written; never empty.
    public var reportURIs: [TLSRPTURI]
    /// Extension fields (`tlsrpt-extension`), which senders ignore (RFC 8460 §3).
    public var extensions: [TagListTag]

    public init(reportURIs: [TLSRPTURI], extensions: [TagListTag] = []) {
        self.reportURIs = reportURIs
        self.extensions = extensions
    }

    public var description: String {
        (["v=TLSRPTv1", "rua=" + reportURIs.map(\.description).joined(separator: ",")] + extensions.map(\.description))
            .joined(separator: "; ")
    }

    /// Parses a record by the grammar of RFC 8460 §3.
    ///
    /// ```swift
    /// try TLSRPTRecord(parsing: "v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/x")  // ok
    /// try TLSRPTRecord(parsing: "rua=mailto:a@example.com; v=TLSRPTv1")   // throws: v is not first
    /// ```
    ///
    /// `v=TLSRPTv1` must open the record exactly (`%s"v=TLSRPTv1"`: no spaces, case-sensitive);
    /// `rua` is required and its name is case-sensitive too. Whitespace is allowed around ";"
    /// and around the commas of the `rua` list, never around "=".
    ///
    /// - Throws: ``TLSRPTParseError`` naming the field, its 0-based character offset and the
    ///   problem: no `v=TLSRPTv1` first, a non-ASCII or control character, a field without "=",
    ///   a bad field name, a repeated field, an empty value, whitespace around "=", a bad URI, an extension value with
    ///   spaces or "=", or no `rua`.
    public init(parsing text: String) throws(TLSRPTParseError) {
        // tlsrpt-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
        let entries = try TagList.parse(text, reporting: TLSRPTParseError.self) { scalar, isFirst in
            TagList.isAlpha(scalar) || TagList.isDigit(scalar) || (!isFirst && (scalar == "_" || scalar == "-" || scalar == "."))
        }
        // tlsrpt-version = %s"v=TLSRPTv1", the very first characters (RFC 8460 §3 "v").
        guard let version = entries.first, version.offset == 0, version.name == "v", version.valueOffset == 2,
              version.value == "TLSRPTv1"
        else { throw TLSRPTParseError(tag: entries.first?.name ?? "", offset: 0, reason: .notTLSRPTVersion) }
        var reportURIs: [TLSRPTURI]?
        var extensions: [TagListTag] = []
        var seen: Set<String> = ["v"]
        for entry in entries.dropFirst() {
            func error(_ reason: TLSRPTParseError.Reason, at offset: Int? = nil) -> TLSRPTParseError {
                TLSRPTParseError(tag: entry.name, offset: offset ?? entry.valueOffset, reason: reason)
            }
            guard entry.name.count <= 32 else { throw error(.badTagName, at: entry.offset) }
            guard seen.insert(entry.name).inserted else { throw error(.duplicateTag, at: entry.offset) }
            if entry.name != "rua" && entry.name != "v" && ["rua", "v"].contains(entry.name.lowercasedASCII) {
                throw error(.caseSensitiveName(entry.name.lowercasedASCII), at: entry.offset)
            }
            guard !entry.value.isEmpty else { throw error(.emptyValue) }
            // %s"rua=" and tlsrpt-ext-name "=" tlsrpt-ext-value: no whitespace around "=".
            guard entry.valueOffset == entry.offset + entry.name.unicodeScalars.count + 1 else {
                throw error(.whitespaceAroundEquals, at: entry.offset)
            }
            if entry.name == "rua" {
                reportURIs = try Self.uris(entry)
            } else {
                // tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E): no spaces, no "=".
                if let bad = entry.value.unicodeScalars.first(where: { $0 == "=" || TagList.isWhitespace($0) }) {
                    throw error(.badExtensionValue(bad))
                }
                extensions.append(TagListTag(name: entry.name, value: entry.value))
            }
        }
        guard let reportURIs else {
            throw TLSRPTParseError(tag: "", offset: text.unicodeScalars.count, reason: .missingReportURIs)
        }
        self.init(reportURIs: reportURIs, extensions: extensions)
    }

    /// tlsrpt-rua = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
    private static func uris(_ entry: TagListEntry) throws(TLSRPTParseError) -> [TLSRPTURI] {
        var uris: [TLSRPTURI] = []
        var partOffset = entry.valueOffset
        for part in entry.value.split(separator: ",", omittingEmptySubsequences: false) {
            let leading = part.unicodeScalars.prefix { TagList.isWhitespace($0) }.count
            do throws(TLSRPTURIError) {
                uris.append(try TLSRPTURI(parsing: part.trimmingCharacters { TagList.isWhitespace($0) }))
            } catch {
                throw TLSRPTParseError(tag: entry.name, offset: partOffset + leading, reason: .badURI(error))
            }
            partOffset += part.unicodeScalars.count + 1
        }
        return uris
    }
}

/// Why a TLS-RPT record could not be parsed, and where (RFC 8460 §3).
public typealias TLSRPTParseError = TagListParseError<TLSRPTSyntaxProblem>

/// What is wrong in a record that ``TLSRPTParseError`` locates.
public enum TLSRPTSyntaxProblem: TagListSyntaxReason {
    /// The record does not start with exactly `v=TLSRPTv1`.
    case notTLSRPTVersion
    /// A character outside printable ASCII.
    case nonASCII(Unicode.Scalar)
    /// A field with no "=".
    case missingEquals
    /// A field name that is not a letter or digit then up to 31 letters, digits, "_", "-" or ".".
    case badTagName
    /// `RUA=` or `V=`: the names of RFC 8460's fields are case-sensitive.
    case caseSensitiveName(String)
    /// A field given twice.
    case duplicateTag
    /// `name=` with nothing after it.
    case emptyValue
    /// `rua = …`: the grammar allows no whitespace around "=".
    case whitespaceAroundEquals
    /// A `rua` URI that is not valid.
    case badURI(TLSRPTURIError)
    /// An extension value holding a space or "=".
    case badExtensionValue(Unicode.Scalar)
    /// No `rua` field: it is required.
    case missingReportURIs

    public var description: String {
        switch self {
        case .notTLSRPTVersion: "the record does not start with exactly \"v=TLSRPTv1\""
        case .nonASCII(let scalar): "\(TagList.show(scalar)) cannot appear in a TLS-RPT record"
        case .missingEquals: "the field has no \"=\""
        case .badTagName: "a field name is a letter or digit followed by at most 31 letters, digits, \"_\", \"-\" or \".\""
        case .caseSensitiveName(let name): "field names are case-sensitive: write \"\(name)\""
        case .duplicateTag: "the field appears more than once"
        case .emptyValue: "the field has no value"
        case .whitespaceAroundEquals: "no whitespace is allowed around \"=\""
        case .badURI(let error): error.description
        case .badExtensionValue(let scalar): "an extension value cannot contain \(TagList.show(scalar))"
        case .missingReportURIs: "the record has no rua field, which is required"
        }
    }
}
