/// Integers and floats (TOML 1.0.0 "Integer", "Float"); a value that starts like a date or a
/// time goes to the date reader.
extension TOMLParser {
    mutating func parseNumberOrDateTime() throws(TOMLSyntaxError) -> TOMLValue {
        if looksLikeDateTime() { return .dateTime(try parseDateTime()) }
        let start = index
        while let byte = peek, Self.isBareKeyByte(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") { index += 1 }
        let token = Array(bytes[start..<index])
        let text = String(decoding: token, as: UTF8.self)
        if let value = Self.number(token) { return value }
        throw failure("\(TOMLSyntaxError.quote(text)) is not a valid number\(Self.hint(token))", at: start)
    }

    /// `1979-05-27…` (four digits and '-') or `07:32:00…` (two digits and ':').
    private func looksLikeDateTime() -> Bool {
        func isDigit(_ offset: Int) -> Bool { peek(offset).map { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } ?? false }
        if isDigit(0) && isDigit(1) && isDigit(2) && isDigit(3) && peek(4) == UInt8(ascii: "-") { return true }
        return isDigit(0) && isDigit(1) && peek(2) == UInt8(ascii: ":")
    }

    /// The value of a number token, or nil when it is not one.
    static func number(_ token: [UInt8]) -> TOMLValue? {
        var digits = token[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        switch String(decoding: digits, as: UTF8.self) {
        case "inf": return .float(negative ? -.infinity : .infinity)
        case "nan": return .float(negative ? -.nan : .nan)
        default: break
        }
        if digits.count > 2, digits.first == UInt8(ascii: "0"), let radix = radix(digits[digits.startIndex + 1]) {
            guard digits.count == token.count else { return nil }  // no sign on 0x, 0o, 0b
            return integer(digits.dropFirst(2), radix: radix, negative: false).map { .integer($0) }
        }
        if digits.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            return float(token, digits: digits)
        }
        guard !hasLeadingZero(digits) else { return nil }
        return integer(digits, radix: 10, negative: negative).map { .integer($0) }
    }

    private static func radix(_ byte: UInt8) -> UInt64? {
        switch byte {
        case UInt8(ascii: "x"): 16
        case UInt8(ascii: "o"): 8
        case UInt8(ascii: "b"): 2
        default: nil
        }
    }

    /// `0` alone is fine; `01` and `0_1` are not.
    private static func hasLeadingZero(_ digits: ArraySlice<UInt8>) -> Bool {
        digits.count > 1 && digits.first == UInt8(ascii: "0")
    }

    /// Digits in `radix` with single underscores between them, within Int64.
    private static func integer(_ digits: ArraySlice<UInt8>, radix: UInt64, negative: Bool) -> Int64? {
        guard isSeparated(digits, radix: radix) else { return nil }
        var magnitude: UInt64 = 0
        for byte in digits where byte != UInt8(ascii: "_") {
            guard let digit = hexDigit(byte) else { return nil }
            let (shifted, overflow) = magnitude.multipliedReportingOverflow(by: radix)
            let (sum, carry) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflow && !carry else { return nil }
            magnitude = sum
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Not empty, every byte a digit of `radix` or an underscore between two digits.
    private static func isSeparated(_ digits: ArraySlice<UInt8>, radix: UInt64) -> Bool {
        guard let first = digits.first, let last = digits.last, first != UInt8(ascii: "_"), last != UInt8(ascii: "_") else {
            return false
        }
        var previous: UInt8 = 0
        for byte in digits {
            if byte == UInt8(ascii: "_") {
                if previous == UInt8(ascii: "_") { return false }
            } else if let digit = hexDigit(byte), UInt64(digit) < radix {
            } else {
                return false
            }
            previous = byte
        }
        return true
    }

    /// `[+-] int ( frac [exp] / exp )`: the integer part without leading zeros, digits on
    /// both sides of the point, underscores only between digits.
    private static func float(_ token: [UInt8], digits: ArraySlice<UInt8>) -> TOMLValue? {
        var rest = digits
        let integerPart = rest.prefix { $0 != UInt8(ascii: ".") && $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
        guard isSeparated(integerPart, radix: 10), !hasLeadingZero(integerPart) else { return nil }
        rest = rest.dropFirst(integerPart.count)
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            let fraction = rest.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            guard isSeparated(fraction, radix: 10) else { return nil }
            rest = rest.dropFirst(fraction.count)
        }
        if !rest.isEmpty {
            rest = rest.dropFirst()  // e or E
            if let sign = rest.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { rest = rest.dropFirst() }
            guard isSeparated(rest, radix: 10) else { return nil }
        }
        let text = String(decoding: token.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
        return Double(text).map { .float($0) }
    }

    /// A hint for common mistakes in a number.
    private static func hint(_ token: [UInt8]) -> String {
        let unsigned = token.first == UInt8(ascii: "+") || token.first == UInt8(ascii: "-") ? token.dropFirst() : token[...]
        if token.contains(UInt8(ascii: "_")) { return " (an underscore must stand between two digits)" }
        guard unsigned.allSatisfy(isDecimalDigit) else { return "" }
        if unsigned.count > 1 && unsigned.first == UInt8(ascii: "0") { return " (no leading zeros)" }
        return " (integers are 64-bit: -9223372036854775808 to 9223372036854775807)"
    }
}
