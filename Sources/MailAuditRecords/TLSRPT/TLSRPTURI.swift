public import MailAuditCore

/// A reporting URI of a TLS-RPT record's `rua` (RFC 8460 §3): a URI (RFC 3986) in which ",",
/// "!" and ";" are percent-encoded. Any scheme parses; RFC 8460 §3 supports only `mailto:`
/// and `https:`, which is the rules' business, not the grammar's.
///
/// ```swift
/// let uri = try TLSRPTURI(parsing: "mailto:tls-reports@example.com")
/// uri.scheme    // "mailto"
/// uri.address   // "tls-reports@example.com"
/// try TLSRPTURI(parsing: "https://reports.example.com/v1/tlsrpt").host   // reports.example.com
/// ```
public struct TLSRPTURI: Hashable, Sendable, CustomStringConvertible {
    /// The URI as written.
    public var uri: String
    /// The scheme, lower-cased: `mailto`, `https`, ….
    public var scheme: String
    /// For `mailto:`, the address with percent-encoding decoded.
    public var address: String?
    /// The domain of a `mailto:` address, or the host of `scheme://host/…`; nil for an IP address.
    public var host: DomainName?

    /// `mailto:local@domain`.
    public static func mailto(_ local: String, at domain: DomainName) -> TLSRPTURI {
        TLSRPTURI(uri: "mailto:\(local)@\(domain)", scheme: "mailto", address: "\(local)@\(domain)", host: domain)
    }

    private init(uri: String, scheme: String, address: String?, host: DomainName?) {
        self.uri = uri
        self.scheme = scheme
        self.address = address
        self.host = host
    }

    /// Parses one URI of a `rua` list.
    ///
    /// - Throws: ``TLSRPTURIError`` for an empty URI, a missing or bad scheme, a character that
    ///   must be percent-encoded (",", "!", ";", spaces), a bad `%XX` escape, a `mailto:` without
    ///   `local@domain`, or an `http:`/`https:` URI without a host.
    public init(parsing text: String) throws(TLSRPTURIError) {
        func error(_ reason: TLSRPTURIError.Reason) -> TLSRPTURIError { TLSRPTURIError(uri: text, reason: reason) }
        guard !text.isEmpty else { throw error(.empty) }
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1)
        guard let colon = text.firstIndex(of: ":"), let first = text.first, first.isASCII, first.isLetter,
              text[..<colon].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }),
              text.index(after: colon) != text.endIndex
        else { throw error(.noScheme) }
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "%" {
                guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit,
                      scalars[index + 2].properties.isASCIIHexDigit
                else { throw error(.badPercentEncoding) }
                index += 3
                continue
            }
            // RFC 8460 §3: commas, exclamation points and semicolons MUST be encoded; the
            // DMARC URI character set excludes exactly "," and "!" beyond what RFC 3986 does.
            guard DMARCURI.isURICharacter(scalars[index]) else { throw error(.mustBeEncoded(scalars[index])) }
            index += 1
        }
        uri = text
        scheme = text[..<colon].lowercasedASCII
        let rest = text[text.index(after: colon)...]
        switch scheme {
        case "mailto":
            let to = DMARCURI.percentDecoded(rest.prefix { $0 != "?" })
            guard let at = to.lastIndex(of: "@"), at != to.startIndex,
                  let domain = try? DomainName(parsing: String(to[to.index(after: at)...]))
            else { throw error(.badMailbox(to)) }
            address = to
            host = domain
        case "https", "http":
            var authority = rest.hasPrefix("//") ? rest.dropFirst(2).prefix { !"/?#".contains($0) } : ""
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            if !authority.hasPrefix("["), let port = authority.lastIndex(of: ":") { authority = authority[..<port] }
            guard !authority.isEmpty else { throw error(.noHost) }
            address = nil
            host = try? DomainName(parsing: String(authority))
        default:
            address = nil
            host = nil
        }
    }

    /// The URI as written.
    public var description: String { uri }
}

/// Why a TLS-RPT reporting URI is not valid (RFC 8460 §3, RFC 3986, RFC 6068).
public struct TLSRPTURIError: Error, Hashable, Sendable, CustomStringConvertible {
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
        /// A character that must be percent-encoded: a space, ",", "!" or ";".
        case mustBeEncoded(Unicode.Scalar)
        /// A "%" not followed by two hexadecimal digits.
        case badPercentEncoding
        /// A `mailto:` whose address is not `local@domain`.
        case badMailbox(String)
        /// An `https:` (or `http:`) URI with no `//host`.
        case noHost
    }

    public var description: String {
        switch reason {
        case .empty: "an empty URI (two commas in a row, or a comma at the end)"
        case .noScheme: "\"\(uri)\" is not a URI: it needs a scheme, as in mailto:tls-reports@example.com"
        case .mustBeEncoded(let scalar): "\"\(uri)\" contains \(TagList.show(scalar)), which must be percent-encoded in a TLS-RPT URI"
        case .badPercentEncoding: "\"\(uri)\" has a \"%\" that is not followed by two hexadecimal digits"
        case .badMailbox(let address): "\"\(uri)\": \"\(address)\" is not an address of the form local@domain"
        case .noHost: "\"\(uri)\" names no host, as in https://reports.example.com/tlsrpt"
        }
    }
}
