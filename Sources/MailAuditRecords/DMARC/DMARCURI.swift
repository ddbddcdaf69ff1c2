public import MailAuditCore

/// A DMARC reporting URI from `rua` or `ruf` (RFC 9989 §4.6, §4.8): a URI (RFC 3986), in
/// practice `mailto:` (RFC 6068), with the obsolete size suffix of RFC 7489 allowed.
///
/// ```swift
/// let uri = try DMARCURI(parsing: "mailto:dmarc@example.com!10m")
/// uri.address     // "dmarc@example.com"
/// uri.host        // example.com: the destination host (RFC 7489 §7.1)
/// uri.sizeLimit   // "10m": obsolete, receivers ignore it (RFC 9989 §4.8 obs-dmarc-report-size)
/// ```
public struct DMARCURI: Hashable, Sendable, CustomStringConvertible {
    /// The URI as written, without the size suffix.
    public var uri: String
    /// The scheme, lower-cased: `mailto`, `https`, ….
    public var scheme: String
    /// For `mailto:`, the address with percent-encoding decoded: `dmarc@example.com`.
    public var address: String?
    /// The destination host: the domain of a `mailto:` address, or the host of `scheme://host/…`.
    /// Nil when there is none or it is an IP address.
    public var host: DomainName?
    /// The obsolete size limit after "!", as written (`10m`); receivers ignore it.
    public var sizeLimit: String?

    /// A `mailto:` URI for `local@domain`.
    public init(mailbox local: String, at domain: DomainName) {
        uri = "mailto:\(local)@\(domain)"
        scheme = "mailto"
        address = "\(local)@\(domain)"
        host = domain
        sizeLimit = nil
    }

    /// Parses one URI of a `rua` or `ruf` list.
    ///
    /// - Throws: ``DMARCURIError`` for an empty URI, a missing or bad scheme, a character that
    ///   must be percent-encoded (commas and "!" included), a bad `%XX` escape, a bad size suffix,
    ///   or a `mailto:` without `local@domain`.
    public init(parsing text: String) throws(DMARCURIError) {
        guard !text.isEmpty else { throw DMARCURIError(uri: text, reason: .empty) }
        var body = Substring(text)
        if let bang = text.lastIndex(of: "!") {
            let suffix = text[text.index(after: bang)...]
            let digits = suffix.prefix { $0.isASCII && $0.isNumber }
            let unit = suffix.dropFirst(digits.count)
            guard !digits.isEmpty, unit.isEmpty || (unit.count == 1 && "kmgtKMGT".contains(unit)) else {
                throw DMARCURIError(uri: text, reason: .badSizeLimit(String(suffix)))
            }
            sizeLimit = String(suffix)
            body = text[..<bang]
        } else {
            sizeLimit = nil
        }
        uri = String(body)
        guard let colon = body.firstIndex(of: ":"), let first = body.first, first.isASCII, first.isLetter,
              body[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { throw DMARCURIError(uri: text, reason: .noScheme) }
        scheme = body[..<colon].lowercasedASCII
        let scalars = Array(body.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "%" {
                guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit,
                      scalars[index + 2].properties.isASCIIHexDigit
                else { throw DMARCURIError(uri: text, reason: .badPercentEncoding) }
                index += 3
                continue
            }
            guard Self.isURICharacter(scalar) else { throw DMARCURIError(uri: text, reason: .mustBeEncoded(scalar)) }
            index += 1
        }
        let rest = body[body.index(after: colon)...]
        if scheme == "mailto" {
            let to = Self.percentDecoded(rest.prefix { $0 != "?" })
            guard let at = to.lastIndex(of: "@"), at != to.startIndex,
                  let domain = try? DomainName(parsing: String(to[to.index(after: at)...]))
            else { throw DMARCURIError(uri: text, reason: .badMailbox(to)) }
            address = to
            host = domain
        } else {
            address = nil
            host = nil
            if rest.hasPrefix("//") {
                var authority = rest.dropFirst(2).prefix { !"/?#".contains($0) }
                if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
                if !authority.hasPrefix("["), let colon = authority.lastIndex(of: ":") { authority = authority[..<colon] }
                host = try? DomainName(parsing: String(authority))
            }
            guard !rest.isEmpty else { throw DMARCURIError(uri: text, reason: .noScheme) }
        }
    }

    /// The URI as written, with its size suffix.
    public var description: String { uri + (sizeLimit.map { "!" + $0 } ?? "") }

    /// unreserved, gen-delims and sub-delims of RFC 3986 §2, less "," and "!", which a DMARC URI
    /// must encode (RFC 9989 §4.8), and ";", which ends the tag.
    static func isURICharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        case "-", ".", "_", "~", ":", "/", "?", "#", "[", "]", "@", "$", "&", "'", "(", ")", "*", "+", "=": true
        default: false
        }
    }

    static func percentDecoded(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "%", let end = text.index(index, offsetBy: 3, limitedBy: text.endIndex),
               let byte = UInt8(text[text.index(after: index)..<end], radix: 16) {
                bytes.append(byte)
                index = end
            } else {
                bytes += Array(String(character).utf8)
                index = text.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a reporting URI is not valid (RFC 9989 §4.8, RFC 3986, RFC 6068).
public struct DMARCURIError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The URI as written.
    public var uri: String
    public var reason: Reason

    public init(uri: String, reason: Reason) {
        self.uri = uri
        self.reason = reason
    }

    public enum Reason: Hashable, Sendable {
        case empty
        /// No `scheme:` at the start, or nothing after it.
        case noScheme
        /// A character that must be percent-encoded, such as a space, "," or "!".
        case mustBeEncoded(Unicode.Scalar)
        /// A "%" not followed by two hexadecimal digits.
        case badPercentEncoding
        /// Text after "!" that is not digits with an optional k, m, g or t.
        case badSizeLimit(String)
        /// A `mailto:` whose address is not `local@domain`.
        case badMailbox(String)
    }

    public var description: String {
        switch reason {
        case .empty: "an empty URI"
        case .noScheme: "\"\(uri)\" is not a URI: it needs a scheme, as in mailto:dmarc@example.com"
        case .mustBeEncoded(let scalar):
            "\"\(uri)\" contains \(TagList.show(scalar)), which must be percent-encoded in a DMARC URI"
        case .badPercentEncoding: "\"\(uri)\" has a \"%\" that is not followed by two hexadecimal digits"
        case .badSizeLimit(let suffix): "\"\(uri)\" ends in \"!\(suffix)\", which is not a size such as !10m"
        case .badMailbox(let address): "\"\(uri)\": \"\(address)\" is not an address of the form local@domain"
        }
    }
}
