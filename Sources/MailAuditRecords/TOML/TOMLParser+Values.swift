/// Values: the kind is chosen by the first byte; arrays and inline tables recurse, at most
/// ``TOMLParser/maximumDepth`` levels deep.
extension TOMLParser {
    /// A value inside a container at `depth`.
    mutating func parseValue(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard let byte = peek else { throw failure("expected a value, found the end of the file") }
        switch byte {
        case UInt8(ascii: "\""):
            return .string(peek(1) == byte && peek(2) == byte ? try parseMultilineBasicString() : try parseBasicString())
        case UInt8(ascii: "'"):
            return .string(peek(1) == byte && peek(2) == byte ? try parseMultilineLiteralString() : try parseLiteralString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .boolean(try parseBoolean())
        case UInt8(ascii: "["):
            return try parseArray(depth: depth + 1)
        case UInt8(ascii: "{"):
            return try parseInlineTable(depth: depth + 1)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "i"), UInt8(ascii: "n"):
            return try parseNumberOrDateTime()
        default:
            throw failure("expected a value (a string, number, boolean, date, array or inline table), \(found)")
        }
    }

    mutating func parseBoolean() throws(TOMLSyntaxError) -> Bool {
        for (word, flag) in [("true", true), ("false", false)] where bytes[index...].starts(with: word.utf8) {
            let end = index + word.utf8.count
            if end >= bytes.count || !Self.isBareKeyByte(bytes[end]) {
                index = end
                return flag
            }
        }
        let start = index
        while let byte = peek, Self.isBareKeyByte(byte) { index += 1 }
        let word = String(decoding: bytes[start..<index], as: UTF8.self)
        throw failure("\(TOMLSyntaxError.quote(word)) is not a value; booleans are true and false, in lower case", at: start)
    }

    /// `[ 1, "two", [3], ]`: any values, across lines, with comments, a trailing comma allowed.
    mutating func parseArray(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth <= Self.maximumDepth else {
            throw failure(Self.tooDeep)
        }
        let opening = position(at: index)
        index += 1
        var array = TOMLArray()
        while true {
            try skipBlankLines()
            if peek == UInt8(ascii: "]") { break }
            let position = position(at: index)
            array.append(try parseValue(depth: depth), at: position)
            try skipBlankLines()
            if peek == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard peek == UInt8(ascii: "]") else {
                throw failure("expected ',' or ']' to close the array opened at line \(opening.line), column \(opening.column), \(found)")
            }
            break
        }
        index += 1
        return .array(array)
    }

    /// `{ a = 1, b.c = "x" }`: on one line, no trailing comma, closed for good at `}`.
    mutating func parseInlineTable(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
        guard depth <= Self.maximumDepth else {
            throw failure(Self.tooDeep)
        }
        let table = TOMLTableBuilder(position: position(at: index))
        index += 1
        sectionCount += 1
        let section = sectionCount
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return .table(table.frozen())
        }
        while true {
            try parseKeyValue(into: table, section: section, depth: depth)
            skipWhitespace()
            if peek == UInt8(ascii: ",") {
                index += 1
                skipWhitespace()
                if peek == UInt8(ascii: "}") { throw failure("a trailing comma is not allowed in an inline table") }
                continue
            }
            if peek == UInt8(ascii: "}") { break }
            if peek == Self.lineFeed || peek == Self.carriageReturn || peek == UInt8(ascii: "#") {
                throw failure("an inline table must be closed with '}' on the line it starts")
            }
            throw failure("expected ',' or '}' in the inline table, \(found)")
        }
        index += 1
        return .table(table.frozen())
    }
}
