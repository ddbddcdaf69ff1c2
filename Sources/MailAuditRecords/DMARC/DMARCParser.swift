extension DMARCRecord {
    /// Parses a DMARC Policy Record by the grammar of RFC 9989 §4.8.
    ///
    /// ```swift
    /// try DMARCRecord(parsing: "v=DMARC1; p=quarantine; rua=mailto:d@example.com")  // ok
    /// try DMARCRecord(parsing: "v=DMARC1; p=block")   // throws: "block" is not a policy
    /// ```
    ///
    /// The record must start with `v=DMARC1` (the value is case-sensitive). Tag names are
    /// letters only and compared without regard to case; values of `p`, `sp`, `np`, `t`, `psd`,
    /// `adkim` and `aspf` too. Whitespace around ";" and "=" is allowed. The removed tags `pct`,
    /// `rf` and `ri` and unknown tags are kept, not checked.
    ///
    /// - Throws: ``DMARCParseError`` naming the tag, its 0-based character offset and the problem:
    ///   no `v=DMARC1` first, a non-ASCII or control character, a tag without "=", a bad tag name,
    ///   an empty value, a repeated tag, or a value the tag does not allow (a bad policy, flag,
    ///   reporting URI or `fo` option).
    public init(parsing text: String) throws(DMARCParseError) {
        // dmarc-tag = 1*ALPHA equals 1*dmarc-value
        let entries = try TagList.parse(text, reporting: DMARCParseError.self) { scalar, _ in TagList.isAlpha(scalar) }
        // dmarc-version = "v" equals %s"DMARC1", first and at the very start (RFC 9989 §4.7 "v").
        guard let version = entries.first, version.offset == 0, version.name.lowercasedASCII == "v", version.value == "DMARC1"
        else { throw DMARCParseError(tag: entries.first?.name ?? "", offset: 0, reason: .notDMARCVersion) }
        self.init()
        var seen: Set<String> = ["v"]
        for entry in entries.dropFirst() {
            let name = entry.name.lowercasedASCII
            func error(_ reason: DMARCParseError.Reason) -> DMARCParseError {
                DMARCParseError(tag: entry.name, offset: entry.valueOffset, reason: reason)
            }
            guard seen.insert(name).inserted else {
                throw DMARCParseError(tag: entry.name, offset: entry.offset, reason: .duplicateTag)
            }
            guard !entry.value.isEmpty else { throw error(.emptyValue) }
            let value = entry.value.lowercasedASCII
            switch name {
            case "p", "sp", "np":
                guard let policy = DMARCPolicy(rawValue: value) else { throw error(.badPolicy(entry.value)) }
                if name == "p" { self.policy = policy } else if name == "sp" { subdomainPolicy = policy } else { nonExistentPolicy = policy }
            case "psd":
                guard let flag = DMARCPublicSuffix(rawValue: value) else { throw error(.badValue(entry.value, allowed: ["y", "n", "u"])) }
                publicSuffix = flag
            case "t":
                guard value == "y" || value == "n" else { throw error(.badValue(entry.value, allowed: ["y", "n"])) }
                testing = value == "y"
            case "adkim", "aspf":
                guard let mode = DMARCAlignment(rawValue: value) else { throw error(.badValue(entry.value, allowed: ["r", "s"])) }
                if name == "adkim" { dkimAlignment = mode } else { spfAlignment = mode }
            case "rua", "ruf":
                // dmarc-urilist = dmarc-uri *(*WSP "," *WSP dmarc-uri)
                var uris: [DMARCURI] = []
                var partOffset = entry.valueOffset
                for part in entry.value.split(separator: ",", omittingEmptySubsequences: false) {
                    let uriText = part.trimmingCharacters { TagList.isWhitespace($0) }
                    let leading = part.unicodeScalars.prefix { TagList.isWhitespace($0) }.count
                    do throws(DMARCURIError) {
                        uris.append(try DMARCURI(parsing: uriText))
                    } catch {
                        throw DMARCParseError(tag: entry.name, offset: partOffset + leading, reason: .badURI(error))
                    }
                    partOffset += part.unicodeScalars.count + 1
                }
                if name == "rua" { aggregateReportURIs = uris } else { failureReportURIs = uris }
            case "fo":
                failureOptions = try Self.failureOptions(entry.value, error: error)
            case _ where Self.removedTagNames.contains(name):
                removedTags.append(DMARCTag(name: name, value: entry.value))
            default:
                unknownTags.append(DMARCTag(name: name, value: entry.value))
            }
        }
    }

    /// `dmarc-fo`: "0" or "1" (not both) and "d", "s", each at most once, separated by ":".
    private static func failureOptions(
        _ value: String, error: (DMARCParseError.Reason) -> DMARCParseError
    ) throws(DMARCParseError) -> [DMARCFailureOption] {
        var options: [DMARCFailureOption] = []
        for part in value.split(separator: ":", omittingEmptySubsequences: false) {
            let text = part.trimmingCharacters { TagList.isWhitespace($0) }
            guard let option = DMARCFailureOption(rawValue: text.lowercasedASCII), !options.contains(option) else {
                throw error(.badFailureOptions(value))
            }
            options.append(option)
        }
        if options.contains(.all) && options.contains(.any) { throw error(.badFailureOptions(value)) }
        return options
    }
}

/// Why a DMARC record could not be parsed, and where (RFC 9989 §4.8).
public typealias DMARCParseError = TagListParseError<DMARCSyntaxProblem>

/// What is wrong in a record that ``DMARCParseError`` locates.
public enum DMARCSyntaxProblem: TagListSyntaxReason {
    /// The record does not start with `v=DMARC1` (RFC 9989 §4.7 "v").
    case notDMARCVersion
    /// A character outside printable ASCII.
    case nonASCII(Unicode.Scalar)
    /// A tag with no "=".
    case missingEquals
    /// A tag name that is not letters only.
    case badTagName
    /// `tag=` with nothing after it.
    case emptyValue
    /// A tag given twice (RFC 6376 §3.2, which DMARC's syntax follows).
    case duplicateTag
    /// `p`, `sp` or `np` that is not none, quarantine or reject.
    case badPolicy(String)
    /// A flag outside its allowed values.
    case badValue(String, allowed: [String])
    /// A `rua` or `ruf` URI that is not valid.
    case badURI(DMARCURIError)
    /// An `fo` value outside `dmarc-fo`.
    case badFailureOptions(String)

    public var description: String {
        switch self {
        case .notDMARCVersion: "the record does not start with \"v=DMARC1\""
        case .nonASCII(let scalar): "\(TagList.show(scalar)) cannot appear in a DMARC record"
        case .missingEquals: "the tag has no \"=\""
        case .badTagName: "a tag name is made of letters only"
        case .emptyValue: "the tag has no value"
        case .duplicateTag: "the tag appears more than once"
        case .badPolicy(let value): "\"\(value)\" is not a policy: none, quarantine or reject"
        case .badValue(let value, let allowed): "\"\(value)\" is not one of \(allowed.joined(separator: ", "))"
        case .badURI(let error): error.description
        case .badFailureOptions(let value):
            "\"\(value)\" is not a list of failure options: 0 or 1, d, s, separated by \":\", each at most once"
        }
    }
}

extension StringProtocol {
    func trimmingCharacters(where isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = Array(unicodeScalars)
        var lower = 0, upper = scalars.count
        while lower < upper, isTrimmed(scalars[lower]) { lower += 1 }
        while upper > lower, isTrimmed(scalars[upper - 1]) { upper -= 1 }
        return String(String.UnicodeScalarView(scalars[lower..<upper]))
    }
}
