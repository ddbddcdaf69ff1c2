public import MailAuditCore

/// Reads a small zone-file-like text into records (a subset of RFC 1035 §5.1).
///
/// ```
/// $ORIGIN example.test.
/// $TTL 300
/// @        MX   10 mx1          ; relative names get the origin
/// mx1      A    192.0.2.1
///          AAAA 2001:db8::1     ; a blank owner repeats the previous one
/// @        TXT  "v=spf1 " "mx -all"
/// _dmarc.example.test. 3600 IN TXT "v=DMARC1; p=reject"
/// ```
///
/// Each line is `owner [TTL] [IN] TYPE rdata`. `@` is the origin; a name without a trailing
/// dot is relative to `$ORIGIN`, or taken as absolute when there is none. Comments start with
/// `;` outside quotes; parentheses join lines (for SOA). A, AAAA, MX, CNAME, PTR, NS, TXT and
/// SPF are decoded; other types (SOA, SRV, TLSA, `TYPE123`, …) keep their rdata as text.
/// A quoted TXT string longer than 255 octets is split into 255-octet strings.
public enum ZoneText {
    /// Parses the text into records, in the order written.
    ///
    /// - Throws: ``ZoneTextError`` with the line number and what was wrong: an unknown type,
    ///   a bad address, a missing field, an unterminated quote, or an unsupported directive.
    public static func parse(_ text: String, origin: DomainName? = nil, defaultTTL: UInt32 = 300) throws(ZoneTextError) -> [DNSRecord] {
        var parser = Parser(origin: origin, ttl: defaultTTL)
        var pending: [Token] = []
        var pendingLine = 0
        var startsBlank = false
        var depth = 0
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let tokens = try tokenize(line, line: number)
            if depth == 0 {
                pendingLine = number
                startsBlank = line.first == " " || line.first == "\t"
            }
            for token in tokens {
                if !token.quoted && token.text == "(" { depth += 1; continue }
                if !token.quoted && token.text == ")" {
                    depth -= 1
                    guard depth >= 0 else { throw ZoneTextError(line: number, reason: "unbalanced ')'") }
                    continue
                }
                pending.append(token)
            }
            if depth == 0, !pending.isEmpty {
                try parser.entry(pending, blankOwner: startsBlank, line: pendingLine)
                pending = []
            }
        }
        guard depth == 0 else { throw ZoneTextError(line: pendingLine, reason: "unbalanced '('") }
        return parser.records
    }

    struct Token {
        var text: String
        var bytes: [UInt8]
        var quoted: Bool
    }

    /// Splits a line into words and quoted strings; `;` outside quotes ends the line.
    static func tokenize(_ line: Substring, line number: Int) throws(ZoneTextError) -> [Token] {
        var tokens: [Token] = []
        let scalars = Array(line.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            if scalar == " " || scalar == "\t" || scalar == "\r" { index += 1; continue }
            if scalar == ";" { break }
            if scalar == "(" || scalar == ")" {
                tokens.append(Token(text: String(scalar), bytes: [], quoted: false))
                index += 1
                continue
            }
            let quoted = scalar == "\""
            if quoted { index += 1 }
            var text = ""
            var bytes: [UInt8] = []
            var closed = !quoted
            while index < scalars.count {
                let current = scalars[index]
                if quoted && current == "\"" { closed = true; index += 1; break }
                if !quoted && (current == " " || current == "\t" || current == "\r" || current == ";"
                    || current == "(" || current == ")") { break }
                if current == "\\" && index + 1 < scalars.count {
                    let digits = scalars[(index + 1)...].prefix(3)
                    if digits.count == 3, digits.allSatisfy({ ("0"..."9").contains($0) }),
                       let value = UInt8(String(String.UnicodeScalarView(digits))) {
                        bytes.append(value)
                        text += "\\" + String(String.UnicodeScalarView(digits))
                        index += 4
                    } else {
                        let escaped = scalars[index + 1]
                        bytes += Array(String(escaped).utf8)
                        text += "\\" + String(escaped)
                        index += 2
                    }
                    continue
                }
                bytes += Array(String(current).utf8)
                text.unicodeScalars.append(current)
                index += 1
            }
            guard closed else { throw ZoneTextError(line: number, reason: "unterminated quoted string") }
            tokens.append(Token(text: text, bytes: bytes, quoted: quoted))
        }
        return tokens
    }

    static let typeNames: [String: RRType] = [
        "A": .a, "NS": .ns, "CNAME": .cname, "SOA": .soa, "PTR": .ptr, "MX": .mx, "TXT": .txt, "AAAA": .aaaa,
        "SRV": .srv, "TLSA": .tlsa, "SPF": RRType(rawValue: 99), "DS": RRType(rawValue: 43),
        "DNSKEY": RRType(rawValue: 48), "CAA": RRType(rawValue: 257), "HINFO": RRType(rawValue: 13),
    ]

    /// `A`, `mx`, `TYPE99`; nil for anything else.
    static func type(named text: String) -> RRType? {
        let upper = text.uppercased()
        if let type = typeNames[upper] { return type }
        if upper.hasPrefix("TYPE"), let code = UInt16(upper.dropFirst(4)) { return RRType(rawValue: code) }
        return nil
    }

    struct Parser {
        var origin: DomainName?
        var ttl: UInt32
        var owner: DomainName?
        var records: [DNSRecord] = []

        init(origin: DomainName?, ttl: UInt32) {
            self.origin = origin
            self.ttl = ttl
        }

        mutating func entry(_ tokens: [Token], blankOwner: Bool, line: Int) throws(ZoneTextError) {
            var rest = tokens[...]
            if let first = rest.first, !first.quoted, first.text.hasPrefix("$") {
                try directive(Array(rest), line: line)
                return
            }
            if !blankOwner {
                guard let first = rest.popFirst() else { return }
                owner = try name(first.text, line: line)
            }
            guard let owner else { throw ZoneTextError(line: line, reason: "no owner name") }
            var recordTTL = ttl
            var type: RRType?
            while type == nil, let token = rest.popFirst() {
                if let value = UInt32(token.text), !token.quoted {
                    recordTTL = value
                } else if token.text.uppercased() == "IN" {
                    continue
                } else if let known = ZoneText.type(named: token.text), !token.quoted {
                    type = known
                } else {
                    throw ZoneTextError(line: line, reason: "unknown record type \"\(token.text)\"")
                }
            }
            guard let type else { throw ZoneTextError(line: line, reason: "no record type") }
            let data = try rdata(type, Array(rest), line: line)
            records.append(DNSRecord(name: owner, type: type, ttl: recordTTL, data: data))
        }

        mutating func directive(_ tokens: [Token], line: Int) throws(ZoneTextError) {
            let keyword = tokens[0].text.uppercased()
            guard tokens.count == 2 else { throw ZoneTextError(line: line, reason: "\(keyword) takes one argument") }
            switch keyword {
            case "$ORIGIN":
                // A relative argument is relative to the previous origin, as in RFC 1035 §5.1.
                origin = try name(tokens[1].text, line: line)
            case "$TTL":
                guard let value = UInt32(tokens[1].text) else {
                    throw ZoneTextError(line: line, reason: "bad $TTL \"\(tokens[1].text)\"")
                }
                ttl = value
            default:
                throw ZoneTextError(line: line, reason: "unsupported directive \(keyword)")
            }
        }

        func name(_ text: String, line: Int) throws(ZoneTextError) -> DomainName {
            if text == "@" {
                guard let origin else { throw ZoneTextError(line: line, reason: "@ used without $ORIGIN") }
                return origin
            }
            if text == "." { return .root }
            var labels: [String] = []
            var label = ""
            var scalars = text.unicodeScalars[...]
            while let scalar = scalars.popFirst() {
                if scalar == "\\", let next = scalars.first {
                    let digits = scalars.prefix(3)
                    if digits.count == 3, digits.allSatisfy({ ("0"..."9").contains($0) }),
                       let value = UInt8(String(String.UnicodeScalarView(digits))) {
                        label.unicodeScalars.append(Unicode.Scalar(value))
                        scalars = scalars.dropFirst(3)
                    } else {
                        label.unicodeScalars.append(next)
                        scalars = scalars.dropFirst()
                    }
                } else if scalar == "." {
                    guard !label.isEmpty else { throw ZoneTextError(line: line, reason: "empty label in \"\(text)\"") }
                    labels.append(label)
                    label = ""
                } else {
                    label.unicodeScalars.append(scalar)
                }
            }
            let absolute = label.isEmpty
            if !absolute { labels.append(label) }
            guard !labels.isEmpty else { throw ZoneTextError(line: line, reason: "empty name") }
            if !absolute, let origin { labels += origin.labels }
            return DomainName(labels: labels)
        }

        func rdata(_ type: RRType, _ tokens: [Token], line: Int) throws(ZoneTextError) -> RData {
            func one() throws(ZoneTextError) -> String {
                guard tokens.count == 1 else {
                    throw ZoneTextError(line: line, reason: "\(type) takes one field, found \(tokens.count)")
                }
                return tokens[0].text
            }
            switch type {
            case .a, .aaaa:
                let text = try one()
                guard let address = IPAddress(text), address.isIPv6 == (type == .aaaa) else {
                    throw ZoneTextError(line: line, reason: "bad \(type) address \"\(text)\"")
                }
                return type == .a ? .a(address) : .aaaa(address)
            case .mx:
                guard tokens.count == 2, let preference = UInt16(tokens[0].text) else {
                    throw ZoneTextError(line: line, reason: "MX takes a preference and an exchange")
                }
                return .mx(preference: preference, exchange: try name(tokens[1].text, line: line))
            case .cname: return .cname(try name(try one(), line: line))
            case .ptr: return .ptr(try name(try one(), line: line))
            case .ns: return .ns(try name(try one(), line: line))
            case .txt, RRType(rawValue: 99):
                guard !tokens.isEmpty else { throw ZoneTextError(line: line, reason: "\(type) needs at least one string") }
                var strings: [[UInt8]] = []
                for token in tokens {
                    var bytes = token.bytes[...]
                    repeat {
                        strings.append(Array(bytes.prefix(255)))
                        bytes = bytes.dropFirst(255)
                    } while !bytes.isEmpty
                }
                return .txt(strings)
            default:
                guard !tokens.isEmpty else { throw ZoneTextError(line: line, reason: "\(type) has no rdata") }
                return .other(tokens.map { $0.quoted ? "\"\($0.text)\"" : $0.text }.joined(separator: " "))
            }
        }
    }
}

/// A line of zone text that could not be read.
public struct ZoneTextError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { "line \(line): \(reason)" }
}
