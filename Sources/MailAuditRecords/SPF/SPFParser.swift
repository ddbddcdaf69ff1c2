import MailAuditCore

extension SPFRecord {
    /// Parses an SPF record following the grammar of RFC 7208 §12.
    ///
    /// ```swift
    /// try SPFRecord(parsing: "v=spf1 mx a:%{d}/24//64 -all")   // ok
    /// try SPFRecord(parsing: "v=spf1 ip4:192.0.2.1/33 -all")   // throws: CIDR length over 32
    /// ```
    ///
    /// The whole record is checked, even after an `all` (RFC 7208 §4.6). Names of mechanisms and
    /// modifiers are case-insensitive; terms are separated by one or more spaces, and trailing
    /// spaces are allowed. A syntax error makes check_host() return "permerror" (§4.6).
    ///
    /// - Throws: ``SPFParseError`` naming the term, its 1-based index, the 0-based character
    ///   offset in `text`, and the problem: a missing `v=spf1`, a non-ASCII or control
    ///   character, an unknown mechanism, a bad modifier name, a missing or malformed
    ///   domain-spec, a bad macro, a bad address or CIDR length, or a repeated
    ///   `redirect`/`exp`.
    public init(parsing text: String) throws(SPFParseError) {
        let scalars = Array(text.unicodeScalars)
        var words: [(scalars: ArraySlice<Unicode.Scalar>, offset: Int)] = []
        var start = 0
        for index in 0...scalars.count where index == scalars.count || scalars[index] == " " {
            if index > start { words.append((scalars[start..<index], start)) }
            start = index + 1
        }
        // record = version terms *SP; version = "v=spf1" (case-insensitive, RFC 5234 §2.3).
        guard let version = words.first, version.offset == 0,
              String(String.UnicodeScalarView(version.scalars)).lowercasedASCII == "v=spf1"
        else {
            let first = words.first.map { String(String.UnicodeScalarView($0.scalars)) } ?? ""
            throw SPFParseError(term: first, termIndex: 0, offset: 0, reason: .notSPFVersion)
        }
        var terms: [SPFTerm] = []
        var seen: Set<String> = []
        for (number, word) in words.dropFirst().enumerated() {
            var parser = TermParser(scalars: Array(word.scalars), index: number + 1, offset: word.offset)
            let term = try parser.parse()
            if case .modifier(let modifier) = term, modifier.name == "redirect" || modifier.name == "exp" {
                // "These two modifiers MUST NOT appear in a record more than once each" (§6).
                guard seen.insert(modifier.name).inserted else {
                    throw parser.error(at: 0, .duplicateModifier(modifier.name))
                }
            }
            terms.append(term)
        }
        self.init(terms: terms)
    }
}

/// Reads one term. Offsets given to ``error(at:_:)`` are relative to the term's start.
private struct TermParser {
    let scalars: [Unicode.Scalar]
    let index: Int
    let offset: Int

    var text: String { String(String.UnicodeScalarView(scalars)) }

    func error(at position: Int, _ reason: SPFParseError.Reason) -> SPFParseError {
        SPFParseError(term: text, termIndex: index, offset: offset + position, reason: reason)
    }

    func string(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }

    mutating func parse() throws(SPFParseError) -> SPFTerm {
        for (position, scalar) in scalars.enumerated() {
            if scalar.value > 0x7E { throw error(at: position, .nonASCII(scalar)) }
            if scalar.value < 0x21 { throw error(at: position, .forbiddenCharacter(scalar)) }
        }
        // modifier = name "=" …; name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." )
        var nameEnd = 0
        while nameEnd < scalars.count, Self.isNameCharacter(scalars[nameEnd]) { nameEnd += 1 }
        if nameEnd < scalars.count, scalars[nameEnd] == "=" {
            let name = string(0..<nameEnd)
            guard let first = scalars.first, Self.isAlpha(first) else { throw error(at: 0, .badModifierName(name)) }
            return .modifier(try modifier(name: name.lowercasedASCII, valueStart: nameEnd + 1))
        }
        return .directive(try directive())
    }

    func modifier(name: String, valueStart: Int) throws(SPFParseError) -> SPFModifier {
        let value = string(valueStart..<scalars.count)
        switch name {
        case "redirect": return .redirect(try domainSpec(value, at: valueStart))
        case "exp": return .explanation(try domainSpec(value, at: valueStart))
        default: return .unknown(name: name, value: try macroString(value, at: valueStart))
        }
    }

    func directive() throws(SPFParseError) -> SPFDirective {
        var position = 0
        var qualifier = SPFQualifier.pass
        if let first = scalars.first, let explicit = SPFQualifier(rawValue: String(first)) {
            qualifier = explicit
            position = 1
        }
        var nameEnd = position
        while nameEnd < scalars.count, scalars[nameEnd] != ":", scalars[nameEnd] != "/" { nameEnd += 1 }
        let name = string(position..<nameEnd).lowercasedASCII
        let rest = nameEnd
        guard !name.isEmpty else { throw error(at: position, .missingMechanism) }
        let mechanism: SPFMechanism
        switch name {
        case "all":
            guard rest == scalars.count else { throw error(at: rest, .unexpectedArgument(name)) }
            mechanism = .all
        case "include", "exists":
            let spec = try requiredDomainSpec(mechanism: name, from: rest)
            mechanism = name == "include" ? .include(spec) : .exists(spec)
        case "ptr":
            if rest == scalars.count {
                mechanism = .ptr(nil)
            } else {
                guard scalars[rest] == ":" else { throw error(at: rest, .unexpectedCIDR(name)) }
                mechanism = .ptr(try domainSpec(string(rest + 1..<scalars.count), at: rest + 1))
            }
        case "a", "mx":
            var spec: SPFMacroString?
            var cidrStart = rest
            if rest < scalars.count, scalars[rest] == ":" {
                cidrStart = Self.trailingCIDRStart(scalars, from: rest + 1)
                spec = try domainSpec(string(rest + 1..<cidrStart), at: rest + 1)
            }
            let cidr = try dualCIDR(from: cidrStart)
            mechanism = name == "a" ? .a(spec, cidr) : .mx(spec, cidr)
        case "ip4", "ip6":
            let isIPv6 = name == "ip6"
            guard rest < scalars.count, scalars[rest] == ":" else { throw error(at: rest, .missingNetwork(name)) }
            let slash = scalars[(rest + 1)...].firstIndex(of: "/") ?? scalars.count
            let addressText = string(rest + 1..<slash)
            guard let address = isIPv6 ? Self.ipv6(addressText) : Self.ipv4(addressText) else {
                throw error(at: rest + 1, isIPv6 ? .badIPv6(addressText) : .badIPv4(addressText))
            }
            var length: Int?
            if slash < scalars.count {
                let body = string(slash + 1..<scalars.count)
                if body.contains("/") { throw error(at: slash, .dualCIDRNotAllowed(name)) }
                length = try cidrLength(body, maximum: isIPv6 ? 128 : 32, at: slash)
            }
            mechanism = isIPv6 ? .ip6(address, prefixLength: length) : .ip4(address, prefixLength: length)
        default:
            throw error(at: position, .unknownMechanism(name))
        }
        return SPFDirective(qualifier, mechanism)
    }

    func requiredDomainSpec(mechanism: String, from rest: Int) throws(SPFParseError) -> SPFMacroString {
        guard rest < scalars.count else { throw error(at: rest, .missingDomainSpec(mechanism)) }
        guard scalars[rest] == ":" else { throw error(at: rest, .unexpectedCIDR(mechanism)) }
        return try domainSpec(string(rest + 1..<scalars.count), at: rest + 1)
    }

    /// `[ "/" ip4-cidr ] [ "//" ip6-cidr ]` from `start` to the end of the term.
    func dualCIDR(from start: Int) throws(SPFParseError) -> SPFDualCIDR {
        guard start < scalars.count else { return .none }
        let text = string(start..<scalars.count)
        guard scalars[start] == "/" else { throw error(at: start, .badCIDR(text)) }
        let body = Array(text.dropFirst())
        if body.first == "/" {
            return SPFDualCIDR(ip6: try cidrLength(String(body.dropFirst()), maximum: 128, at: start))
        }
        if let split = (0..<max(0, body.count - 1)).first(where: { body[$0] == "/" && body[$0 + 1] == "/" }) {
            let ip4 = try cidrLength(String(body[..<split]), maximum: 32, at: start)
            let ip6 = try cidrLength(String(body[(split + 2)...]), maximum: 128, at: start + split + 1)
            return SPFDualCIDR(ip4: ip4, ip6: ip6)
        }
        return SPFDualCIDR(ip4: try cidrLength(String(body), maximum: 32, at: start))
    }

    /// `"0" / %x31-39 *DIGIT` up to `maximum` (RFC 7208 §12; leading zeros are refused as
    /// the RFC 7208 test suite requires, `ip4:1.2.3.4/032`).
    func cidrLength(_ digits: String, maximum: Int, at position: Int) throws(SPFParseError) -> Int {
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit) else {
            throw error(at: position, .badCIDR("/" + digits))
        }
        guard digits == "0" || digits.first != "0" else { throw error(at: position, .cidrLeadingZero("/" + digits)) }
        guard digits.count <= 3, let value = Int(digits), value <= maximum else {
            throw error(at: position, .cidrTooLong("/" + digits, maximum: maximum))
        }
        return value
    }

    /// A domain-spec: a macro-string ending in a macro or in "." toplabel ["."] (RFC 7208 §7.1).
    func domainSpec(_ text: String, at position: Int) throws(SPFParseError) -> SPFMacroString {
        guard !text.isEmpty else { throw error(at: position, .emptyDomainSpec) }
        let spec = try macroString(text, at: position)
        if case .literal(let literal)? = spec.tokens.last {
            var body = Substring(literal)
            if body.hasSuffix(".") { body.removeLast() }
            guard let dot = body.lastIndex(of: "."), Self.isTopLabel(body[body.index(after: dot)...]) else {
                throw error(at: position, .badDomainEnd(text))
            }
        }
        return spec
    }

    func macroString(_ text: String, at position: Int) throws(SPFParseError) -> SPFMacroString {
        do throws(SPFMacroError) {
            return try SPFMacroString(parsing: text)
        } catch {
            throw self.error(at: position + error.offset, .badMacro(error))
        }
    }

    /// Where the CIDR suffix of `a:`/`mx:` starts: a domain-spec can never end in "/" DIGITS,
    /// so a trailing `/N`, `//N` or `/N//M` is always the CIDR part.
    static func trailingCIDRStart(_ scalars: [Unicode.Scalar], from lower: Int) -> Int {
        func digitsStart(before end: Int) -> Int? {
            var start = end
            while start > lower, ("0"..."9").contains(scalars[start - 1]) { start -= 1 }
            return start < end ? start : nil
        }
        var cut = scalars.count
        if let start = digitsStart(before: cut), start - 2 >= lower, scalars[start - 1] == "/", scalars[start - 2] == "/" {
            cut = start - 2
        }
        if let start = digitsStart(before: cut), start - 1 >= lower, scalars[start - 1] == "/",
           !(start - 2 >= lower && scalars[start - 2] == "/") {
            cut = start - 1
        }
        return cut
    }

    /// `toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )`
    static func isTopLabel(_ label: Substring) -> Bool {
        let isAlphanumeric: (Character) -> Bool = { $0.isASCII && ($0.isLetter || $0.isNumber) }
        guard let first = label.first, let last = label.last, isAlphanumeric(first), isAlphanumeric(last),
              label.allSatisfy({ isAlphanumeric($0) || $0 == "-" })
        else { return false }
        return label.contains { $0.isLetter } || label.contains("-")
    }

    /// `ip4-network = qnum "." qnum "." qnum "." qnum`, each 0-255 without leading zeros.
    static func ipv4(_ text: String) -> IPAddress? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCIIDigit), part == "0" || part.first != "0",
                  let value = UInt8(part) else { return nil }
            bytes.append(value)
        }
        return .v4(bytes)
    }

    /// `ip6-network` as in RFC 4291 §2.2.
    static func ipv6(_ text: String) -> IPAddress? {
        guard text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }),
              let address = IPAddress(text), address.isIPv6 else { return nil }
        return address
    }

    static func isAlpha(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }

    static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        isAlpha(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == "."
    }
}

/// Why a record could not be parsed, and where: check_host() returns "permerror" (RFC 7208 §4.6).
public struct SPFParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The offending term as written; for `termIndex` 0, the first word of the record.
    public var term: String
    /// 1-based index of the term after `v=spf1`; 0 for the version tag itself.
    public var termIndex: Int
    /// 0-based character offset of the problem in the record text.
    public var offset: Int
    /// What is wrong.
    public var reason: Reason

    public init(term: String, termIndex: Int, offset: Int, reason: Reason) {
        self.term = term
        self.termIndex = termIndex
        self.offset = offset
        self.reason = reason
    }

    /// What is wrong with a term (RFC 7208 §12 unless noted).
    public enum Reason: Hashable, Sendable, CustomStringConvertible {
        /// The record does not start with `v=spf1` followed by a space or the end (§4.5).
        case notSPFVersion
        /// A character outside 7-bit ASCII (§3.1).
        case nonASCII(Unicode.Scalar)
        /// A control character or other character that cannot appear in a term (§4.6.1).
        case forbiddenCharacter(Unicode.Scalar)
        /// A term that is only a qualifier, or starts with ':' or '/'.
        case missingMechanism
        /// A name that is not a mechanism (§5).
        case unknownMechanism(String)
        /// `name=` where the name does not start with a letter or is empty (§6, `name`).
        case badModifierName(String)
        /// `all` with something after it (§5.1).
        case unexpectedArgument(String)
        /// A CIDR length or other suffix on a mechanism that takes none (§5.2, §5.5, §5.7).
        case unexpectedCIDR(String)
        /// `include` or `exists` without `:domain-spec` (§5.2, §5.7).
        case missingDomainSpec(String)
        /// `ip4`/`ip6` without `:network` (§5.6).
        case missingNetwork(String)
        /// `a:`, `exp=`, `redirect=` and the like with nothing after (§7.1).
        case emptyDomainSpec
        /// A domain-spec that does not end in a macro or in "." toplabel (§7.1).
        case badDomainEnd(String)
        /// A macro that cannot be read (§7.1).
        case badMacro(SPFMacroError)
        /// A CIDR length that is not digits.
        case badCIDR(String)
        /// A CIDR length with a leading zero (§5.6).
        case cidrLeadingZero(String)
        /// A CIDR length over 32 for IPv4 or 128 for IPv6 (§5.6).
        case cidrTooLong(String, maximum: Int)
        /// `ip4` or `ip6` with `//` (§5.6).
        case dualCIDRNotAllowed(String)
        /// An `ip4` network that is not a dotted quad (§5.6).
        case badIPv4(String)
        /// An `ip6` network that is not an IPv6 address (§5.6).
        case badIPv6(String)
        /// `redirect` or `exp` given twice (§6).
        case duplicateModifier(String)

        public var description: String {
            switch self {
            case .notSPFVersion: "the record does not start with \"v=spf1\" followed by a space"
            case .nonASCII(let scalar): "\(SPFParseError.show(scalar)) is not 7-bit ASCII (RFC 7208 §3.1)"
            case .forbiddenCharacter(let scalar):
                "\(SPFParseError.show(scalar)) cannot appear in a term; terms are separated by spaces only"
            case .missingMechanism: "the term has no mechanism name"
            case .unknownMechanism(let name):
                "\"\(name)\" is not a mechanism (all, include, a, mx, ptr, ip4, ip6, exists)"
            case .badModifierName(let name):
                name.isEmpty ? "a modifier must have a name before '='"
                    : "\"\(name)\" is not a modifier name: a name starts with a letter"
            case .unexpectedArgument(let name): "\"\(name)\" takes no argument"
            case .unexpectedCIDR(let name): "\"\(name)\" takes no CIDR length; write \(name):domain"
            case .missingDomainSpec(let name): "\"\(name)\" needs a domain: \(name):example.com"
            case .missingNetwork(let name): "\"\(name)\" needs a network: \(name):\(name == "ip4" ? "192.0.2.0/24" : "2001:db8::/32")"
            case .emptyDomainSpec: "the domain is empty"
            case .badDomainEnd(let spec):
                "\"\(spec)\" is not a valid domain-spec: it must end in a macro or in a top label such as \".com\" that is not all digits"
            case .badMacro(let error): error.description
            case .badCIDR(let text): "\"\(text)\" is not a CIDR length"
            case .cidrLeadingZero(let text): "the CIDR length \"\(text)\" has a leading zero"
            case .cidrTooLong(let text, let maximum): "the CIDR length \"\(text)\" is more than \(maximum)"
            case .dualCIDRNotAllowed(let name): "\"\(name)\" takes a single CIDR length, not \"//\""
            case .badIPv4(let text): "\"\(text)\" is not an IPv4 address in dotted-quad form"
            case .badIPv6(let text): "\"\(text)\" is not an IPv6 address"
            case .duplicateModifier(let name): "\"\(name)=\" appears more than once"
            }
        }
    }

    public var description: String {
        let place = termIndex == 0 ? "the version tag" : "term \(termIndex) \"\(term)\""
        return "\(place), offset \(offset): \(reason)"
    }

    /// A character as a person can read it: `'x'` or `U+000D`.
    static func show(_ scalar: Unicode.Scalar) -> String {
        if scalar.value >= 0x21 && scalar.value <= 0x7E { return "'\(scalar)'" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

extension StringProtocol {
    var lowercasedASCII: String {
        String(String.UnicodeScalarView(unicodeScalars.map { scalar in
            (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value + 32)) : scalar
        }))
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
