public import MailAuditCore

/// A macro-string: literal text mixed with macros (RFC 7208 §7.1), as found in a domain-spec,
/// an unknown modifier's value, or an explanation TXT record.
///
/// ```
/// %{ir}.%{v}._spf.%{d2}      →  [macro i r, ".", macro v, "._spf.", macro d 2]
/// ```
///
/// Adjacent literals are merged and empty ones dropped, so two strings that render the same
/// compare equal.
public struct SPFMacroString: Hashable, Sendable, CustomStringConvertible {
    /// The pieces in order.
    public let tokens: [SPFMacroToken]

    public init(tokens: [SPFMacroToken]) {
        var merged: [SPFMacroToken] = []
        for token in tokens {
            if case .literal(let text) = token {
                if text.isEmpty { continue }
                if case .literal(let previous)? = merged.last {
                    merged[merged.count - 1] = .literal(previous + text)
                    continue
                }
            }
            merged.append(token)
        }
        self.tokens = merged
    }

    /// A string with no macros.
    public init(literal: String) { self.init(tokens: [.literal(literal)]) }

    /// Reads a macro-string (RFC 7208 §7.1).
    ///
    /// - Parameters:
    ///   - allowsSpaces: true for an explanation string (`explain-string` allows SP).
    ///   - allowsExplanationLetters: true where `c`, `r` and `t` may appear (explanation text only).
    /// - Throws: ``SPFMacroError`` with the 0-based offset of the problem inside `text`.
    public init(parsing text: String, allowsSpaces: Bool = false, allowsExplanationLetters: Bool = false) throws(SPFMacroError) {
        let scalars = Array(text.unicodeScalars)
        var tokens: [SPFMacroToken] = []
        var literal = ""
        var index = 0
        func flush() {
            if !literal.isEmpty { tokens.append(.literal(literal)) }
            literal = ""
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == "%" {
                guard index + 1 < scalars.count else { throw SPFMacroError(offset: index, reason: .loneMacroCharacter) }
                switch scalars[index + 1] {
                case "%": flush(); tokens.append(.percent); index += 2
                case "_": flush(); tokens.append(.space); index += 2
                case "-": flush(); tokens.append(.urlSpace); index += 2
                case "{":
                    flush()
                    let (macro, next) = try Self.parseMacro(scalars, from: index, allowsExplanationLetters: allowsExplanationLetters)
                    tokens.append(.macro(macro))
                    index = next
                default:
                    throw SPFMacroError(offset: index, reason: .badMacroCharacter(Character(scalars[index + 1])))
                }
                continue
            }
            // macro-literal = %x21-24 / %x26-7E; an explain-string also allows SP.
            let visible = scalar.value >= 0x21 && scalar.value <= 0x7E
            guard visible || (allowsSpaces && scalar == " ") else {
                throw SPFMacroError(offset: index, reason: .forbiddenCharacter(scalar))
            }
            literal.unicodeScalars.append(scalar)
            index += 1
        }
        flush()
        self.init(tokens: tokens)
    }

    /// `%{` letter transformers delimiters `}` starting at `start` (the `%`).
    private static func parseMacro(
        _ scalars: [Unicode.Scalar], from start: Int, allowsExplanationLetters: Bool
    ) throws(SPFMacroError) -> (SPFMacro, Int) {
        var index = start + 2
        guard index < scalars.count else { throw SPFMacroError(offset: start, reason: .unterminatedMacro) }
        let letterScalar = scalars[index]
        let lower = Character(letterScalar).lowercased()
        guard let letter = SPFMacroLetter(rawValue: lower) else {
            throw SPFMacroError(offset: index, reason: .unknownMacroLetter(Character(letterScalar)))
        }
        if letter.isExplanationOnly && !allowsExplanationLetters {
            throw SPFMacroError(offset: index, reason: .explanationOnlyLetter(Character(letterScalar)))
        }
        let escaped = lower != String(letterScalar)
        index += 1
        var digits = ""
        while index < scalars.count, ("0"..."9").contains(scalars[index]) {
            digits.unicodeScalars.append(scalars[index])
            index += 1
        }
        var parts: Int?
        if !digits.isEmpty {
            // "If a DIGIT is specified, the value MUST be nonzero" (RFC 7208 §7.3).
            // More digits than any name has labels keep every part; cap them to stay an Int.
            let significant = digits.drop { $0 == "0" }
            let value = significant.count > 6 ? 999_999 : Int(significant) ?? 0
            guard value > 0 else { throw SPFMacroError(offset: index - digits.count, reason: .zeroTransformer) }
            parts = value
        }
        var reversed = false
        if index < scalars.count, scalars[index] == "r" || scalars[index] == "R" {
            reversed = true
            index += 1
        }
        var delimiters = ""
        while index < scalars.count, scalars[index] != "}" {
            let scalar = scalars[index]
            guard SPFMacro.delimiterSet.contains(Character(scalar)) else {
                throw SPFMacroError(offset: index, reason: .badDelimiter(Character(scalar)))
            }
            delimiters.unicodeScalars.append(scalar)
            index += 1
        }
        guard index < scalars.count else { throw SPFMacroError(offset: start, reason: .unterminatedMacro) }
        let macro = SPFMacro(letter: letter, urlEscaped: escaped, rightParts: parts, reversed: reversed, delimiters: delimiters)
        return (macro, index + 1)
    }

    /// The text as written in a record, with `%%`, `%_` and `%-` where they were.
    public var description: String { tokens.map(\.description).joined() }

    /// True when some token is a macro or an escape, so the text differs from its expansion.
    public var hasMacros: Bool { tokens.contains { if case .literal = $0 { false } else { true } } }

    /// True when a `%{letter}` macro with this letter appears.
    public func uses(_ letter: SPFMacroLetter) -> Bool {
        tokens.contains { if case .macro(let macro) = $0 { macro.letter == letter } else { false } }
    }

    /// Expands every macro (RFC 7208 §7.3). Pure: the validated name for `%{p}` must already
    /// be in `context`.
    public func expand(in context: SPFMacroContext) -> String {
        var out = ""
        for token in tokens {
            switch token {
            case .literal(let text): out += text
            case .percent: out += "%"
            case .space: out += " "
            case .urlSpace: out += "%20"
            case .macro(let macro): out += macro.expand(in: context)
            }
        }
        return out
    }
}

/// One piece of a ``SPFMacroString``.
public enum SPFMacroToken: Hashable, Sendable, CustomStringConvertible {
    /// Text copied as is.
    case literal(String)
    /// `%{…}` (RFC 7208 §7.1).
    case macro(SPFMacro)
    /// `%%`: a percent sign.
    case percent
    /// `%_`: a space.
    case space
    /// `%-`: a URL-encoded space, `%20`.
    case urlSpace

    public var description: String {
        switch self {
        case .literal(let text): text
        case .macro(let macro): macro.description
        case .percent: "%%"
        case .space: "%_"
        case .urlSpace: "%-"
        }
    }
}

/// The letter of a macro (RFC 7208 §7.2).
public enum SPFMacroLetter: String, Hashable, Sendable, CaseIterable {
    /// `<sender>`
    case s
    /// The local-part of `<sender>`.
    case l
    /// The domain of `<sender>`.
    case o
    /// `<domain>`, the domain whose record is being evaluated.
    case d
    /// `<ip>`: dotted quad, or dot-separated nibbles for IPv6.
    case i
    /// The validated domain name of `<ip>` (do not use: RFC 7208 §7.2).
    case p
    /// The HELO/EHLO domain.
    case h
    /// The SMTP client IP in its readable form (explanation only).
    case c
    /// The domain name of the host performing the check (explanation only).
    case r
    /// The current timestamp (explanation only).
    case t
    /// `in-addr` for IPv4, `ip6` for IPv6.
    case v

    /// `c`, `r` and `t` are allowed only in explanation text (RFC 7208 §7.2).
    public var isExplanationOnly: Bool { self == .c || self == .r || self == .t }
}

/// A `%{…}` macro: a letter, transformers and delimiters (RFC 7208 §7.1, §7.3).
///
/// `%{l2r-}` splits the local-part on `-`, reverses the parts, keeps the two rightmost and
/// joins them with dots. An upper-case letter (`%{L}`) URL-escapes the result.
public struct SPFMacro: Hashable, Sendable, CustomStringConvertible {
    /// What the macro expands (RFC 7208 §7.2).
    public var letter: SPFMacroLetter
    /// True for an upper-case letter: the expansion is URL-escaped (RFC 7208 §7.3).
    public var urlEscaped: Bool
    /// The DIGIT transformer: how many right-hand parts to keep; nil keeps all.
    public var rightParts: Int?
    /// The `r` transformer: reverse the parts.
    public var reversed: Bool
    /// The delimiters to split on, as written; empty means ".".
    public var delimiters: String

    /// The characters `delimiter` allows (RFC 7208 §7.1).
    public static let delimiterSet: Set<Character> = [".", "-", "+", ",", "/", "_", "="]

    public init(letter: SPFMacroLetter, urlEscaped: Bool = false, rightParts: Int? = nil, reversed: Bool = false, delimiters: String = "") {
        self.letter = letter
        self.urlEscaped = urlEscaped
        self.rightParts = rightParts
        self.reversed = reversed
        self.delimiters = delimiters
    }

    public var description: String {
        let name = urlEscaped ? letter.rawValue.uppercased() : letter.rawValue
        return "%{" + name + (rightParts.map(String.init) ?? "") + (reversed ? "r" : "") + delimiters + "}"
    }

    /// The expansion of this macro (RFC 7208 §7.3).
    public func expand(in context: SPFMacroContext) -> String {
        let value = context.value(of: letter)
        var result = value
        if rightParts != nil || reversed || !delimiters.isEmpty {
            let splitters = delimiters.isEmpty ? ["."] : Set(delimiters)
            var parts = value.split(omittingEmptySubsequences: false) { splitters.contains($0) }.map(String.init)
            if reversed { parts.reverse() }
            if let rightParts, rightParts < parts.count { parts = Array(parts.suffix(rightParts)) }
            result = parts.joined(separator: ".")
        }
        return urlEscaped ? Self.urlEscape(result) : result
    }

    /// Escapes every octet outside RFC 3986's unreserved set as `%XX`.
    static func urlEscape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }
}

/// The values macros expand to during one `check_host()` (RFC 7208 §7.2).
public struct SPFMacroContext: Hashable, Sendable {
    /// `<sender>`: `local-part@domain`.
    public var sender: String
    /// The local-part of the sender; "postmaster" when it has none (RFC 7208 §4.3).
    public var localPart: String
    /// The domain of the sender.
    public var senderDomain: String
    /// `<domain>`: the domain whose record is being evaluated.
    public var domain: String
    /// `<ip>`, with IPv4-mapped IPv6 addresses already turned into IPv4 (RFC 7208 §5).
    public var ip: IPAddress
    /// The HELO/EHLO domain, or "unknown".
    public var helo: String
    /// The validated domain name of `<ip>` for `%{p}`, or "unknown" (RFC 7208 §5.5).
    public var validatedName: String
    /// The domain name of the host performing the check, for `%{r}`.
    public var receiver: String
    /// Seconds since the epoch, for `%{t}`.
    public var timestamp: Int

    public init(
        sender: String, localPart: String, senderDomain: String, domain: String, ip: IPAddress, helo: String = "unknown",
        validatedName: String = "unknown", receiver: String = "unknown", timestamp: Int = 0
    ) {
        self.sender = sender
        self.localPart = localPart
        self.senderDomain = senderDomain
        self.domain = domain
        self.ip = ip
        self.helo = helo
        self.validatedName = validatedName
        self.receiver = receiver
        self.timestamp = timestamp
    }

    /// The value of a letter before transformers.
    public func value(of letter: SPFMacroLetter) -> String {
        switch letter {
        case .s: sender
        case .l: localPart
        case .o: senderDomain
        case .d: domain
        case .i:
            switch ip {
            case .v4: ip.description
            case .v6(let bytes):
                bytes.flatMap { [String($0 >> 4, radix: 16), String($0 & 0xF, radix: 16)] }.joined(separator: ".")
            }
        case .p: validatedName
        case .h: helo
        case .c: ip.description
        case .r: receiver
        case .t: String(timestamp)
        case .v: ip.isIPv6 ? "ip6" : "in-addr"
        }
    }
}

/// A macro-string that could not be read (RFC 7208 §7.1).
public struct SPFMacroError: Error, Hashable, Sendable, CustomStringConvertible {
    /// 0-based offset of the problem inside the macro-string.
    public var offset: Int
    /// What is wrong.
    public var reason: Reason

    public init(offset: Int, reason: Reason) {
        self.offset = offset
        self.reason = reason
    }

    /// The ways a macro-string can be malformed (RFC 7208 §7.1).
    public enum Reason: Hashable, Sendable {
        /// `%` at the end of the text.
        case loneMacroCharacter
        /// `%` followed by something other than `{`, `%`, `_` or `-`.
        case badMacroCharacter(Character)
        /// `%{` without a closing `}`.
        case unterminatedMacro
        /// A letter that is not one of `slodiphcrtv`.
        case unknownMacroLetter(Character)
        /// `c`, `r` or `t` outside explanation text.
        case explanationOnlyLetter(Character)
        /// A DIGIT transformer of zero.
        case zeroTransformer
        /// A character after the transformers that is not a delimiter.
        case badDelimiter(Character)
        /// A space, control character or non-ASCII character.
        case forbiddenCharacter(Unicode.Scalar)
    }

    public var description: String {
        switch reason {
        case .loneMacroCharacter: "a '%' ends the text; write '%%' for a percent sign"
        case .badMacroCharacter(let character):
            "'%' is followed by '\(character)'; it must be followed by '{', '%', '_' or '-'"
        case .unterminatedMacro: "a macro '%{' has no closing '}'"
        case .unknownMacroLetter(let character):
            "'\(character)' is not a macro letter; the letters are s l o d i p h v (and c r t in explanations)"
        case .explanationOnlyLetter(let character):
            "the macro letter '\(character)' is allowed only in explanation text"
        case .zeroTransformer: "a macro's digit transformer must not be zero"
        case .badDelimiter(let character):
            "'\(character)' is not a macro delimiter; the delimiters are . - + , / _ ="
        case .forbiddenCharacter(let scalar): "\(SPFParseError.show(scalar)) is not allowed here"
        }
    }
}
