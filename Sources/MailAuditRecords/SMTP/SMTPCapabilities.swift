/// The service extensions a server announced in its EHLO reply (RFC 5321 §4.1.1.1).
///
/// ```
/// 250-mx1.example.com at your service
/// 250-SIZE 35882577
/// 250-STARTTLS
/// 250 AUTH PLAIN LOGIN
/// ```
/// gives `domain` "mx1.example.com", `size` 35882577, `supportsSTARTTLS` true and
/// `authMechanisms` ["PLAIN", "LOGIN"].
public struct SMTPCapabilities: Hashable, Sendable, Codable {
    /// The name the server gave for itself: the first word of the reply's first line.
    public var domain: String
    /// The rest of the first line, often a greeting.
    public var greeting: String
    /// The extensions, one per later line, in order.
    public var extensions: [SMTPExtension]
    /// Lines that are no `ehlo-keyword *(SP ehlo-param)`, kept as evidence.
    public var malformedLines: [String]

    public init(domain: String, greeting: String = "", extensions: [SMTPExtension], malformedLines: [String] = []) {
        self.domain = domain
        self.greeting = greeting
        self.extensions = extensions
        self.malformedLines = malformedLines
    }

    /// Reads the capabilities from a 250 reply to EHLO (any other code gives the same
    /// parsing; the caller checks the code).
    public init(ehloReply reply: SMTPReply) {
        let first = reply.lines.first ?? ""
        let words = first.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        domain = words.first.map(String.init) ?? ""
        greeting = words.count > 1 ? String(words[1]) : ""
        extensions = []
        malformedLines = []
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard var keyword = words.first else { continue }
            var parameters = Array(words.dropFirst())
            // "AUTH=LOGIN PLAIN", the form of some old servers, means AUTH LOGIN PLAIN.
            if keyword.uppercased().hasPrefix("AUTH=") {
                parameters.insert(String(keyword.dropFirst(5)), at: 0)
                keyword = "AUTH"
            }
            guard SMTPExtension.isKeyword(keyword) else {
                malformedLines.append(line)
                continue
            }
            let upper = keyword.uppercased()
            if let index = extensions.firstIndex(where: { $0.keyword == upper }) {
                for parameter in parameters where !extensions[index].parameters.contains(parameter) {
                    extensions[index].parameters.append(parameter)
                }
            } else {
                extensions.append(SMTPExtension(keyword: upper, parameters: parameters))
            }
        }
    }

    /// The extension with this keyword (case-insensitive), if announced.
    public subscript(keyword: String) -> SMTPExtension? {
        let upper = keyword.uppercased()
        return extensions.first { $0.keyword == upper }
    }

    /// True when the keyword was announced.
    public func supports(_ keyword: String) -> Bool { self[keyword] != nil }

    /// STARTTLS (RFC 3207 §4).
    public var supportsSTARTTLS: Bool { supports("STARTTLS") }
    /// PIPELINING (RFC 2920).
    public var supportsPipelining: Bool { supports("PIPELINING") }
    /// The message size limit of SIZE (RFC 1870 §4); 0 means no fixed limit; nil when SIZE
    /// is not announced or its parameter is not a number.
    public var size: Int? { self["SIZE"].flatMap { $0.parameters.isEmpty ? 0 : Int($0.parameters[0]) } }
    /// The SASL mechanisms of AUTH (RFC 4954 §3), upper-cased.
    public var authMechanisms: [String] { self["AUTH"]?.parameters.map { $0.uppercased() } ?? [] }
    /// The keywords, in order, for evidence.
    public var keywords: [String] { extensions.map(\.keyword) }
}

/// One announced extension: a keyword and its parameters (RFC 5321 §4.1.1.1).
public struct SMTPExtension: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The keyword, upper-cased, for example "SIZE".
    public var keyword: String
    public var parameters: [String]

    public init(keyword: String, parameters: [String] = []) {
        self.keyword = keyword.uppercased()
        self.parameters = parameters
    }

    public var description: String { ([keyword] + parameters).joined(separator: " ") }

    /// `ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`.
    static func isKeyword(_ word: String) -> Bool {
        guard let first = word.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
        return word.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "-" }
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
