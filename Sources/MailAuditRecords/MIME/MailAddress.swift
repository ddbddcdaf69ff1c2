import MailAuditCore

/// A mailbox: an optional display name and an address `local@domain` (RFC 5322 §3.4).
///
/// ```swift
/// let ops = MailAddress(parsing: "Ops Team <ops@example.com>")!
/// ops.displayName        // "Ops Team"
/// ops.address            // "ops@example.com"
/// MailAddress(parsing: "Jörg Müller <jm@example.com>")!.headerText
///                        // "=?utf-8?B?SsO2cmcgTcO8bGxlcg==?= <jm@example.com>"
/// ```
///
/// The address is checked when the value is made, so a rendered message never carries a broken
/// one: the local part is a dot-atom of at most 64 octets (RFC 5322 §3.2.3, RFC 5321 §4.5.3.1.1)
/// and the domain is a host name (`DomainName(parsing:)`; an internationalised domain is kept in
/// its A-label form). Quoted local parts and address literals are refused to keep this simple.
/// A display name may hold anything: it is rendered safely (see ``headerText``).
public struct MailAddress: Hashable, Sendable, CustomStringConvertible {
    /// The display name, or nil.
    public let displayName: String?
    /// The address `local@domain`, the domain in lower-case A-labels.
    public let address: String

    /// Makes an address from its parts, or nil when `address` is not `local@domain`.
    public init?(address: String, displayName: String? = nil) {
        guard let checked = Self.checkedAddress(address) else { return nil }
        self.address = checked
        self.displayName = displayName.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Parses `local@domain`, `Name <local@domain>` or `"Name, Quoted" <local@domain>`.
    ///
    /// - Returns: nil for a line break or other control character anywhere, white space
    ///   inside the address, a missing `@`, a local part that is not a dot-atom, or a domain
    ///   that is not a host name.
    public init?(parsing text: String) {
        guard !text.unicodeScalars.contains(where: Self.isControl) else { return nil }
        let trimmed = text.trimmingCharacters(where: HeaderText.isWhitespace)
        var name: String?
        var spec = trimmed
        if trimmed.hasSuffix(">") {
            guard let open = trimmed.lastIndex(of: "<") else { return nil }
            spec = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            let phrase = String(trimmed[..<open]).trimmingCharacters(where: HeaderText.isWhitespace)
            if phrase.hasPrefix("\"") {
                guard let unquoted = Self.unquote(phrase) else { return nil }
                name = unquoted
            } else if !phrase.isEmpty {
                guard !phrase.contains("\"") else { return nil }
                name = phrase
            }
        }
        self.init(address: spec, displayName: name)
    }

    /// The readable form, which ``init(parsing:)`` reads back: `Name <local@domain>`, the name
    /// quoted when it holds a special character, kept in Unicode.
    public var description: String {
        guard let name = renderedName else { return address }
        return Self.isAtomPhrase(name) ? "\(name) <\(address)>" : "\(Self.quote(name)) <\(address)>"
    }

    /// The form written into a From or To header, in ASCII: the display name as words
    /// (RFC 5322 §3.2.5), a quoted-string when it holds specials, or, when it is not ASCII,
    /// words with RFC 2047 encoded-words for those that need them (§5 (3)). A line break or other control character in the name becomes a space, so
    /// a display name can never start a new header field.
    public var headerText: String { headerTokens().joined(separator: " ") }

    /// The header form split where a fold may go.
    func headerTokens() -> [String] {
        guard let name = renderedName else { return [address] }
        let addressToken = "<\(address)>"
        if Self.isAtomPhrase(name) {
            return name.split(separator: " ").map(String.init) + [addressToken]
        }
        if name.unicodeScalars.allSatisfy({ $0.isASCII }) && !name.contains("=?") {
            let quoted = Self.quote(name)
            if quoted.utf8.count <= EncodedWord.maximumLength { return [quoted, addressToken] }
        }
        let words = HeaderText.words(name, firstRoom: EncodedWord.maximumLength) { word in
            !word.contains("=?") && word.unicodeScalars.allSatisfy(Self.isAtext)
        }
        return words + [addressToken]
    }

    /// The display name with control characters turned into spaces; nil when nothing is left.
    private var renderedName: String? {
        guard let displayName else { return nil }
        let name = HeaderText.neutralised(displayName).trimmingCharacters(where: HeaderText.isWhitespace)
        return name.isEmpty ? nil : name
    }

    // MARK: Checks

    /// `local@domain` with a dot-atom local part and a host-name domain, or nil.
    static func checkedAddress(_ text: String) -> String? {
        guard let at = text.lastIndex(of: "@") else { return nil }
        let local = text[..<at]
        let domainText = String(text[text.index(after: at)...])
        guard !local.isEmpty, local.utf8.count <= 64,
            local.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ atom in
                !atom.isEmpty && atom.unicodeScalars.allSatisfy(isAtext)
            })
        else { return nil }
        guard !domainText.isEmpty,
            !domainText.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" || isControl($0) }),
            !domainText.hasSuffix("."),
            let domain = try? DomainName(parsing: domainText)
        else { return nil }
        return "\(local)@\(domain)"
    }

    /// atext (RFC 5322 §3.2.3): letters, digits and ``!#$%&'*+-/=?^_`{|}~``.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9": true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", "/", "=", "?", "^", "_", "`", "{", "|", "}", "~": true
        default: false
        }
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || scalar.value == 0x7F || HeaderText.isLineBreak(scalar)
    }

    /// Words of atext separated by single spaces, and not looking like an encoded-word.
    static func isAtomPhrase(_ name: String) -> Bool {
        !name.contains("=?")
            && name.split(separator: " ", omittingEmptySubsequences: false).allSatisfy { word in
                !word.isEmpty && word.unicodeScalars.allSatisfy(isAtext)
            }
    }

    /// A quoted-string (RFC 5322 §3.2.4): `"` and `\` escaped with `\`.
    static func quote(_ text: String) -> String {
        var out = "\""
        for character in text {
            if character == "\"" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        return out + "\""
    }

    /// The content of a quoted-string that spans all of `text`, or nil.
    static func unquote(_ text: String) -> String? {
        var out = ""
        var iterator = text.dropFirst().makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\\":
                guard let escaped = iterator.next() else { return nil }
                out.append(escaped)
            case "\"":
                return iterator.next() == nil ? out : nil
            default:
                out.append(character)
            }
        }
        return nil
    }
}
