public import MailAuditCore

/// An `https:` URL naming a host by its domain name (RFC 3986 §3, RFC 9110 §4.2.2): where a
/// document such as a BIMI logo is fetched from. The port is honoured; user information and IP
/// addresses are refused, since the certificate must name the host.
///
/// ```swift
/// let url = try HTTPSURL(parsing: "https://brand.example.com:8443/logo.svg?v=2")
/// url.host     // brand.example.com
/// url.port     // 8443
/// url.target   // "/logo.svg?v=2"
/// try HTTPSURL(parsing: "http://brand.example.com/logo.svg")   // throws .notHTTPS("http")
/// ```
///
/// `description` is the URL as written, and parsing it gives back an equal value.
public struct HTTPSURL: Hashable, Sendable, CustomStringConvertible {
    /// The URL as written.
    public var text: String
    public var host: DomainName
    /// The port: 443 unless the URL names another.
    public var port: UInt16
    /// The path and query sent in the request, starting with "/"; the fragment is not sent.
    public var target: String

    /// Parses an `https:` URL; the scheme's case does not matter (RFC 3986 §3.1).
    ///
    /// - Throws: ``HTTPSURLError`` for an empty text, no scheme, another scheme than `https`, no
    ///   `//host`, user information, an IP address or a name that is not a domain name, a bad
    ///   port, a character a URI cannot hold, or a `%` not followed by two hexadecimal digits.
    public init(parsing text: String) throws(HTTPSURLError) {
        func error(_ reason: HTTPSURLError.Reason) -> HTTPSURLError { HTTPSURLError(url: text, reason: reason) }
        guard !text.isEmpty else { throw error(.empty) }
        let scalars = Array(text.unicodeScalars)
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
        guard let colon = scalars.firstIndex(of: ":"), colon > 0, TagList.isAlpha(scalars[0]),
              scalars[..<colon].allSatisfy({ TagList.isAlpha($0) || TagList.isDigit($0) || "+-.".unicodeScalars.contains($0) })
        else { throw error(.noScheme) }
        let scheme = String(String.UnicodeScalarView(scalars[..<colon])).lowercasedASCII
        guard scheme == "https" else { throw error(.notHTTPS(scheme)) }
        var index = 0
        while index < scalars.count {
            if scalars[index] == "%" {
                guard index + 2 < scalars.count, scalars[index + 1].properties.isASCIIHexDigit, scalars[index + 2].properties.isASCIIHexDigit
                else { throw error(.badPercentEncoding) }
                index += 3
                continue
            }
            guard Self.isURICharacter(scalars[index]) else { throw error(.badCharacter(scalars[index])) }
            index += 1
        }
        let rest = scalars[(colon + 1)...]
        guard rest.starts(with: "//".unicodeScalars) else { throw error(.noHost) }
        let authorityStart = colon + 3
        let authorityEnd = scalars[authorityStart...].firstIndex { "/?#".unicodeScalars.contains($0) } ?? scalars.count
        let authority = String(String.UnicodeScalarView(scalars[authorityStart..<authorityEnd]))
        guard !authority.contains("@") else { throw error(.userInformation) }
        guard !authority.hasPrefix("[") else { throw error(.ipAddress(authority)) }
        var hostText = Substring(authority)
        port = 443
        if let portColon = authority.lastIndex(of: ":") {
            let digits = authority[authority.index(after: portColon)...]
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let number = UInt16(digits), number > 0 else {
                throw error(.badPort(String(digits)))
            }
            port = number
            hostText = authority[..<portColon]
        }
        guard !hostText.isEmpty else { throw error(.noHost) }
        guard IPAddress(String(hostText)) == nil else { throw error(.ipAddress(String(hostText))) }
        do throws(DomainNameError) {
            host = try DomainName(parsing: String(hostText))
        } catch {
            throw HTTPSURLError(url: text, reason: .badHost(String(hostText)))
        }
        let end = scalars[authorityEnd...].firstIndex(of: "#") ?? scalars.count
        let target = String(String.UnicodeScalarView(scalars[authorityEnd..<end]))
        self.target = target.hasPrefix("/") ? target : "/" + target
        self.text = text
    }

    public var description: String { text }

    /// The characters of RFC 3986 §2 (unreserved, gen-delims, sub-delims); "%" is checked apart.
    static func isURICharacter(_ scalar: Unicode.Scalar) -> Bool {
        TagList.isAlpha(scalar) || TagList.isDigit(scalar) || "-._~:/?#[]@!$&'()*+,;=".unicodeScalars.contains(scalar)
    }
}

/// Why a text is not an ``HTTPSURL``.
public struct HTTPSURLError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The text as written.
    public var url: String
    public var reason: Reason

    public init(url: String, reason: Reason) {
        self.url = url
        self.reason = reason
    }

    public enum Reason: Hashable, Sendable {
        case empty
        /// No `scheme:` at the start.
        case noScheme
        /// A scheme other than `https`, lower-cased.
        case notHTTPS(String)
        /// No `//host` after the scheme.
        case noHost
        /// `user@` before the host.
        case userInformation
        /// An IP address where a domain name must stand.
        case ipAddress(String)
        /// A host that is not a domain name of two labels or more.
        case badHost(String)
        /// A port that is not a number from 1 to 65535.
        case badPort(String)
        /// A character that must be percent-encoded.
        case badCharacter(Unicode.Scalar)
        /// A "%" not followed by two hexadecimal digits.
        case badPercentEncoding
    }

    public var description: String {
        let url = "\"\(url)\""
        return switch reason {
        case .empty: "the URL is empty"
        case .noScheme: "\(url) is not a URL: it needs a scheme, as in https://example.com/logo.svg"
        case .notHTTPS(let scheme): "\(url) uses \(scheme):, but only https: is allowed"
        case .noHost: "\(url) names no host, as in https://example.com/logo.svg"
        case .userInformation: "\(url) has user information before the host, which is not allowed"
        case .ipAddress(let host): "\(url) names the IP address \(host); a domain name is required"
        case .badHost(let host): "\(url): \"\(host)\" is not a fully qualified domain name"
        case .badPort(let port): "\(url): \"\(port)\" is not a port from 1 to 65535"
        case .badCharacter(let scalar): "\(url) contains \(TagList.show(scalar)), which must be percent-encoded"
        case .badPercentEncoding: "\(url) has a \"%\" that is not followed by two hexadecimal digits"
        }
    }
}
