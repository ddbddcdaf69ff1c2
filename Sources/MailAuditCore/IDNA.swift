import Foundation

/// Converts labels to A-labels: the subset of IDNA2008 (RFC 5891 §4) that a checker needs.
///
/// Unicode labels are normalised to NFC, lower-cased, checked for characters a host name
/// can hold, and encoded with Punycode (RFC 3492). The full UTS #46 mapping table is not
/// applied; labels that would need it are refused with a message rather than guessed at.
enum IDNA {
    static func toASCII(label raw: String) throws(DomainNameError) -> String {
        if raw.unicodeScalars.allSatisfy(\.isASCII) {
            let label = raw.lowercasedASCII
            try checkASCII(label)
            if label.hasPrefix("xn--") {
                guard let decoded = Punycode.decode(String(label.dropFirst(4))), !decoded.isEmpty,
                      Punycode.encode(decoded) == String(label.dropFirst(4))
                else { throw .badPunycode(label) }
            }
            return label
        }
        let label = raw.precomposedStringWithCanonicalMapping.lowercased()
        for character in label where !(character.isLetter || character.isNumber || character == "-"
            || character.unicodeScalars.allSatisfy({ $0.properties.generalCategory.isMark })) {
            throw .badCharacter(label: raw, character: character)
        }
        if label.hasPrefix("-") || label.hasSuffix("-") { throw .hyphenAtEdge(raw) }
        guard let encoded = Punycode.encode(label) else { throw .badPunycode(raw) }
        return "xn--" + encoded
    }

    /// Letters, digits and hyphen (RFC 952/1123), plus the underscore that service names use.
    private static func checkASCII(_ label: String) throws(DomainNameError) {
        for character in label {
            let ok = ("a"..."z").contains(character) || ("0"..."9").contains(character)
                || character == "-" || character == "_"
            if !ok { throw .badCharacter(label: label, character: character) }
        }
        if label.hasPrefix("-") || label.hasSuffix("-") { throw .hyphenAtEdge(label) }
    }
}

extension Unicode.GeneralCategory {
    var isMark: Bool { self == .nonspacingMark || self == .spacingMark || self == .enclosingMark }
}

/// Punycode, RFC 3492, with the parameters of §5.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 0x80

    private static func adapt(_ delta: Int, _ numPoints: Int, _ firstTime: Bool) -> Int {
        var delta = firstTime ? delta / damp : delta / 2
        delta += delta / numPoints
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ value: Int) -> Character {
        let scalar = value < 26 ? 0x61 + value : 0x30 + value - 26
        return Character(Unicode.Scalar(UInt8(scalar)))
    }

    private static func value(of character: Character) -> Int? {
        guard let ascii = character.asciiValue else { return nil }
        switch ascii {
        case 0x30...0x39: return Int(ascii) - 0x30 + 26
        case 0x41...0x5A: return Int(ascii) - 0x41
        case 0x61...0x7A: return Int(ascii) - 0x61
        default: return nil
        }
    }

    /// Encodes a Unicode label; nil on overflow.
    static func encode(_ input: String) -> String? {
        let scalars = input.unicodeScalars.map { Int($0.value) }
        var output = String(input.unicodeScalars.filter(\.isASCII).map(Character.init))
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias
        while handled < scalars.count {
            guard let m = scalars.filter({ $0 >= n }).min() else { return nil }
            let (product, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            if overflow || delta > Int(Int32.max) - product { return nil }
            delta += product
            n = m
            for c in scalars {
                if c < n { delta += 1 }
                if c == n {
                    var q = delta, k = base
                    while true {
                        let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                        if q < t { break }
                        output.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.append(digit(q))
                    bias = adapt(delta, handled + 1, handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// Decodes the part after "xn--"; nil when it is not valid Punycode.
    static func decode(_ input: String) -> String? {
        var output: [Int] = []
        var rest = Substring(input)
        if let dash = input.lastIndex(of: "-") {
            for character in input[..<dash] {
                guard let ascii = character.asciiValue, ascii < 0x80 else { return nil }
                output.append(Int(ascii))
            }
            rest = input[input.index(after: dash)...]
        }
        var n = initialN, i = 0, bias = initialBias
        var iterator = rest.makeIterator()
        while let first = iterator.next() {
            let oldI = i
            var w = 1, k = base
            var character: Character? = first
            while true {
                guard let current = character, let d = value(of: current) else { return nil }
                let (dw, o1) = d.multipliedReportingOverflow(by: w)
                if o1 || i > Int(Int32.max) - dw { return nil }
                i += dw
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if d < t { break }
                let (nw, o2) = w.multipliedReportingOverflow(by: base - t)
                if o2 || nw > Int(Int32.max) { return nil }
                w = nw
                k += base
                character = iterator.next()
            }
            bias = adapt(i - oldI, output.count + 1, oldI == 0)
            n += i / (output.count + 1)
            i %= output.count + 1
            guard n <= 0x10FFFF, Unicode.Scalar(UInt32(n)) != nil else { return nil }
            output.insert(n, at: i)
            i += 1
        }
        var text = String.UnicodeScalarView()
        for value in output {
            guard let scalar = Unicode.Scalar(UInt32(value)) else { return nil }
            text.append(scalar)
        }
        return String(text)
    }
}
