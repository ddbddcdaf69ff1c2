public import MailAuditCore
import Foundation

/// A parsed DKIM key record, the TXT record at `<selector>._domainkey.<domain>` (RFC 6376 §3.6.1).
///
/// ```swift
/// let key = try DKIMKeyRecord(parsing: "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
/// key.keyType        // "ed25519" (RFC 8463)
/// key.publicKey      // the 32 raw bytes
/// key.isRevoked      // false; an empty "p=" revokes the key
/// ```
///
/// The public key is kept decoded from base64; whether its bytes are a usable key is for
/// MailAuditTLS to say. `description` renders the canonical form (known tags in a fixed order,
/// then unknown ones as written; `p` re-encoded without whitespace), and parsing it gives back an
/// equal value.
public struct DKIMKeyRecord: Hashable, Sendable, CustomStringConvertible {
    /// `v`: the version, `DKIM1` when written.
    public var version: String?
    /// `h`: acceptable hash algorithms, as written (`sha256`, `sha1`, …); nil means all.
    public var hashAlgorithms: [String]?
    /// `k`: the key type as written, lower-cased; nil means `rsa`.
    public var keyType: String?
    /// `n`: notes for people.
    public var notes: String?
    /// `p`: the public key, decoded from base64; empty when the key is revoked.
    public var publicKey: [UInt8]
    /// `s`: service types (`email`, `*`); nil means `*`.
    public var serviceTypes: [String]?
    /// `t`: flags (`y` testing, `s` strict), as written.
    public var flags: [String]?
    /// Tags RFC 6376 does not define; verifiers ignore them.
    public var unknownTags: [DKIMTag]

    public init(
        version: String? = nil, hashAlgorithms: [String]? = nil, keyType: String? = nil, notes: String? = nil,
        publicKey: [UInt8], serviceTypes: [String]? = nil, flags: [String]? = nil, unknownTags: [DKIMTag] = []
    ) {
        self.version = version
        self.hashAlgorithms = hashAlgorithms
        self.keyType = keyType
        self.notes = notes
        self.publicKey = publicKey
        self.serviceTypes = serviceTypes
        self.flags = flags
        self.unknownTags = unknownTags
    }

    /// The key type in force: `k`, or `rsa` (RFC 6376 §3.6.1).
    public var effectiveKeyType: String { keyType ?? "rsa" }
    /// An empty `p=`: the key has been revoked (RFC 6376 §3.6.1).
    public var isRevoked: Bool { publicKey.isEmpty }
    /// `t=y`: the domain is testing DKIM; verifiers must not treat failures differently (RFC 6376 §3.6.1).
    public var isTesting: Bool { flags?.contains("y") ?? false }
    /// True when `sha256` may be used: no `h=`, or `h=` names it (RFC 6376 §3.6.1, RFC 8301 §3.1).
    public var allowsSHA256: Bool { hashAlgorithms.map { $0.contains("sha256") } ?? true }
    /// True when the key may sign email: no `s=`, or `s=` names `email` or `*` (RFC 6376 §3.6.1).
    public var allowsEmail: Bool { serviceTypes.map { $0.contains("email") || $0.contains("*") } ?? true }
    /// `p` in base64, as it would be published.
    public var publicKeyBase64: String { Data(publicKey).base64EncodedString() }

    public var description: String {
        var parts: [String] = []
        if let version { parts.append("v=\(version)") }
        if let keyType { parts.append("k=\(keyType)") }
        if let hashAlgorithms { parts.append("h=" + hashAlgorithms.joined(separator: ":")) }
        if let serviceTypes { parts.append("s=" + serviceTypes.joined(separator: ":")) }
        if let flags { parts.append("t=" + flags.joined(separator: ":")) }
        if let notes { parts.append("n=\(notes)") }
        parts += unknownTags.map(\.description)
        parts.append("p=\(publicKeyBase64)")
        return parts.joined(separator: "; ")
    }

    /// Parses a key record by the tag-list grammar of RFC 6376 §3.2 and the tags of §3.6.1.
    ///
    /// ```swift
    /// try DKIMKeyRecord(parsing: "v=DKIM1; p=")              // a revoked key
    /// try DKIMKeyRecord(parsing: "v=DKIM1; p=MIGf!!")        // throws: not base64
    /// try DKIMKeyRecord(parsing: "k=rsa; v=DKIM1; p=…")      // throws: v must come first
    /// ```
    ///
    /// Tag names are case-sensitive (`ALPHA *ALNUMPUNC`). Whitespace inside `p=` is removed
    /// before decoding (§3.6.1 allows folding). Values of `k`, `h`, `s` and `t` are lower-cased.
    ///
    /// - Throws: ``DKIMParseError`` naming the tag, its 0-based character offset and the problem:
    ///   a non-ASCII character, a tag without "=", a bad tag name, a repeated tag, `v` that is not
    ///   first or not `DKIM1`, a missing `p=`, or a `p=` that is not base64.
    public init(parsing text: String) throws(DKIMParseError) {
        // tag-name = ALPHA *ALNUMPUNC; ALNUMPUNC = ALPHA / DIGIT / "_"
        let entries = try TagList.parse(text, reporting: DKIMParseError.self) { scalar, isFirst in
            TagList.isAlpha(scalar) || (!isFirst && (TagList.isDigit(scalar) || scalar == "_"))
        }
        var publicKey: [UInt8]?
        self.init(publicKey: [])
        var seen: Set<String> = []
        for (index, entry) in entries.enumerated() {
            func error(_ reason: DKIMParseError.Reason) -> DKIMParseError {
                DKIMParseError(tag: entry.name, offset: entry.valueOffset, reason: reason)
            }
            // "Tags with duplicate names MUST NOT occur within a single tag-list" (§3.2).
            guard seen.insert(entry.name).inserted else {
                throw DKIMParseError(tag: entry.name, offset: entry.offset, reason: .duplicateTag)
            }
            let list = entry.value.lowercasedASCII.split(separator: ":").map { $0.trimmingCharacters { TagList.isWhitespace($0) } }
            switch entry.name {
            case "v":
                // "This tag MUST be the first tag in the record"; any value but DKIM1 is discarded (§3.6.1).
                guard index == 0 else { throw DKIMParseError(tag: "v", offset: entry.offset, reason: .versionNotFirst) }
                guard entry.value == "DKIM1" else { throw error(.badVersion(entry.value)) }
                version = entry.value
            case "h": hashAlgorithms = list
            case "k":
                guard !entry.value.isEmpty else { throw error(.emptyValue) }
                keyType = entry.value.lowercasedASCII
            case "n": notes = entry.value
            case "s": serviceTypes = list
            case "t": flags = list
            case "p":
                let base64 = String(String.UnicodeScalarView(entry.value.unicodeScalars.filter { !TagList.isWhitespace($0) }))
                guard let data = Self.decodeBase64(base64) else { throw error(.badBase64) }
                publicKey = data
            default:
                unknownTags.append(DKIMTag(name: entry.name, value: entry.value))
            }
        }
        guard let publicKey else { throw DKIMParseError(tag: "p", offset: text.unicodeScalars.count, reason: .missingPublicKey) }
        self.publicKey = publicKey
    }

    /// Strict base64 (RFC 4648 §4): the alphabet, length a multiple of 4, "=" padding only at the end.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        if text.isEmpty { return [] }
        let valid = text.unicodeScalars.allSatisfy {
            TagList.isAlpha($0) || TagList.isDigit($0) || $0 == "+" || $0 == "/" || $0 == "="
        }
        guard valid, text.utf8.count % 4 == 0, let data = Data(base64Encoded: text) else { return nil }
        return Array(data)
    }
}

/// A tag of a key record that RFC 6376 does not define, kept as written.
public typealias DKIMTag = TagListTag

/// Why a DKIM key record could not be parsed, and where (RFC 6376 §3.2, §3.6.1).
public typealias DKIMParseError = TagListParseError<DKIMSyntaxProblem>

/// What is wrong in a record that ``DKIMParseError`` locates.
public enum DKIMSyntaxProblem: TagListSyntaxReason {
    case nonASCII(Unicode.Scalar)
    case missingEquals
    /// A name that is not `ALPHA *(ALPHA / DIGIT / "_")`.
    case badTagName
    case duplicateTag
    case emptyValue
    /// `v=` is not the first tag.
    case versionNotFirst
    /// `v=` other than `DKIM1`.
    case badVersion(String)
    /// No `p=` tag (it is required; an empty value revokes the key).
    case missingPublicKey
    /// `p=` is not base64.
    case badBase64

    public var description: String {
        switch self {
        case .nonASCII(let scalar): "\(TagList.show(scalar)) cannot appear in a DKIM key record"
        case .missingEquals: "the tag has no \"=\""
        case .badTagName: "a tag name is a letter followed by letters, digits or \"_\""
        case .duplicateTag: "the tag appears more than once, which makes the whole record invalid"
        case .emptyValue: "the tag has no value"
        case .versionNotFirst: "\"v=\" must be the first tag"
        case .badVersion(let value): "the version is \"\(value)\"; it must be DKIM1"
        case .missingPublicKey: "there is no \"p=\" tag with the public key"
        case .badBase64: "the public key is not valid base64"
        }
    }
}

/// DKIM selectors: names under `_domainkey` (RFC 6376 §3.1).
public enum DKIMSelector {
    /// The name of a selector's key record: `<selector>._domainkey.<domain>`.
    ///
    /// - Returns: nil when `selector` is not a sequence of DNS labels (`sub-domain *("." sub-domain)`)
    ///   or the name would be longer than DNS allows.
    /// `_domainkey.<domain>`, under which every selector's record lives; nil when too long.
    public static func subtree(of domain: DomainName) -> DomainName? {
        let name = DomainName(labels: ["_domainkey"] + domain.labels)
        return name.labels.reduce(1, { $0 + $1.utf8.count + 1 }) <= 255 ? name : nil
    }

    public static func recordName(_ selector: String, domain: DomainName) -> DomainName? {
        let labels = selector.lowercasedASCII.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let labelsAreValid = labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { TagList.isAlpha($0) || TagList.isDigit($0) || $0 == "-" || $0 == "_" }
        }
        let name = DomainName(labels: labels + ["_domainkey"] + domain.labels)
        guard labelsAreValid, name.labels.reduce(1, { $0 + $1.utf8.count + 1 }) <= 255 else { return nil }
        return name
    }
}
