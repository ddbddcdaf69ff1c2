import MailAuditRecords
import Testing

struct TOMLParserTests {
    // MARK: Positions

    @Test func keysCarryTheirLineAndColumn() throws {
        let table = try TOMLTable(parsing: """
            # a comment
            title = "x"
              port.number = 587
            [relay]
            host = { name = "smtp", tls = true }
            list = [
                "one",  # a comment
                "two",
            ]
            [[domain]]
            name = "a"
            [[domain]]
            name = "b"
            """)
        #expect(table.position(of: "title") == TOMLPosition(line: 2, column: 1))
        #expect(table.position(of: "port") == TOMLPosition(line: 3, column: 3))
        #expect(table["port"]?.table?.position(of: "number") == TOMLPosition(line: 3, column: 8))
        #expect(table.position(of: "relay")?.line == 4, "a table opened by a header: the header's line")
        let relay = try #require(table["relay"]?.table)
        #expect(relay.position(of: "host") == TOMLPosition(line: 5, column: 1))
        #expect(relay["host"]?.table?.position(of: "tls") == TOMLPosition(line: 5, column: 25))
        let list = try #require(relay["list"]?.array)
        #expect(list.positions == [TOMLPosition(line: 7, column: 5), TOMLPosition(line: 8, column: 5)])
        let domains = try #require(table["domain"]?.array)
        #expect(table.position(of: "domain")?.line == 10, "an array of tables: its first header")
        #expect(domains.positions.map(\.line) == [10, 12])
        #expect(domains[1].table?.position(of: "name")?.line == 13)
        #expect(table.keys == ["title", "port", "relay", "domain"], "keys keep their order")
    }

    @Test func columnsCountScalarsAndCRLFEndsALine() throws {
        let table = try TOMLTable(parsing: "a = \"é€😀\"\r\n\"ключ\" = 1\r\nb = 2")
        #expect(table.position(of: "ключ") == TOMLPosition(line: 2, column: 1))
        #expect(table.position(of: "b") == TOMLPosition(line: 3, column: 1))
        let error = #expect(throws: TOMLSyntaxError.self) { try TOMLTable(parsing: "a = \"é€😀\" x") }
        #expect(error?.column == 11)
    }

    // MARK: Values

    @Test func valuesOfEveryKind() throws {
        let table = try TOMLTable(parsing: #"""
            s = "tab\there \u00E9 \U0001F600"
            l = 'C:\path'
            m = """
            one \
              two"""
            i = [0x_1, 0xff, 0o17, 0b101, -9_223_372_036_854_775_808, +17]
            f = [1.5, -2e-3, 6.02E+23, inf, -inf, nan]
            d = [1979-05-27T07:32:00.123456789999Z, 1979-05-27 07:32:00, 1979-05-27, 07:32:00, 2000-02-29T00:00:00-07:30]
            """#.replacingOccurrences(of: "0x_1, ", with: ""))
        #expect(table["s"] == .string("tab\there \u{E9} \u{1F600}"))
        #expect(table["l"] == .string(#"C:\path"#))
        #expect(table["m"] == .string("one two"))
        #expect(table["i"]?.array?.map(\.integer) == [255, 15, 5, Int64.min, 17])
        let floats = table["f"]?.array?.compactMap { $0.float } ?? []
        #expect(floats.prefix(5) == [1.5, -0.002, 6.02e23, .infinity, -.infinity])
        #expect(floats.last?.isNaN == true)
        let dates = table["d"]?.array?.compactMap { $0.dateTime } ?? []
        try #require(dates.count == 5)
        #expect(dates.map(\.kind) == [.offsetDateTime, .localDateTime, .localDate, .localTime, .offsetDateTime])
        #expect(dates[0].time?.nanosecond == 123_456_789, "digits past the ninth are dropped")
        #expect(dates[0].text == "1979-05-27T07:32:00.123456789999Z")
        #expect(dates[4].offsetMinutes == -450)
        #expect(dates[1].normalized == "1979-05-27T07:32:00")
    }

    // MARK: Errors

    struct Bad: CustomTestStringConvertible, Sendable {
        var reason: String
        var toml: String
        var line: Int
        var column: Int
        var fragment: String
        var testDescription: String { reason }
    }

    static let bad: [Bad] = [
        Bad(reason: "a '}' inside an array (the crasher of toml++)", toml: "a = [1, }]", line: 1, column: 9, fragment: "expected a value"),
        Bad(reason: "an unclosed array", toml: "a = [1,\n2\nb = 3", line: 3, column: 1, fragment: "expected ',' or ']' to close the array opened at line 1"),
        Bad(reason: "a table name starting with a dot", toml: "x = 1\n[.a]", line: 2, column: 2, fragment: "a table name must start with"),
        Bad(reason: "a table name starting with '='", toml: "[=a]", line: 1, column: 2, fragment: "a table name must start with"),
        Bad(reason: "a table name starting with a non-ASCII letter", toml: "[\u{E9}]", line: 1, column: 2, fragment: "a table name must start with"),
        Bad(reason: "a key defined twice", toml: "a = 1\n\n  a = 2", line: 3, column: 3, fragment: "the key a is already defined at line 1"),
        Bad(reason: "a table defined twice", toml: "[a]\n[b]\n[a]", line: 3, column: 2, fragment: "the table [a] is already defined at line 1"),
        Bad(reason: "a key, then a table of that name", toml: "a = 1\n[a]", line: 2, column: 2, fragment: "already holds a value (line 1)"),
        Bad(reason: "a header extending an inline table", toml: "a = {}\n[a.b]", line: 2, column: 2, fragment: "already holds a value"),
        Bad(reason: "a dotted key extending an inline table", toml: "a = {b = 1}\na.c = 2", line: 2, column: 1, fragment: "already holds a value"),
        Bad(reason: "[[a]] extending a static array", toml: "a = []\n[[a]]", line: 2, column: 3, fragment: "already holds a value"),
        Bad(reason: "a header redefining a table made by dotted keys", toml: "a.b = 1\n[a]", line: 2, column: 2, fragment: "already defined by dotted keys"),
        Bad(reason: "dotted keys extending a header's table", toml: "[a.b]\nx = 1\n[a]\nb.y = 2", line: 4, column: 1, fragment: "which a header defined at line 1"),
        Bad(reason: "an unterminated string", toml: "[history]\nsqlite = \"/tmp/x", line: 2, column: 17, fragment: "expected '\"' to close the string"),
        Bad(reason: "a surrogate escape", toml: #"a = "\uD800""#, line: 1, column: 6, fragment: "not a Unicode scalar value"),
        Bad(reason: "an escape above 10FFFF", toml: #"a = "\U00110000""#, line: 1, column: 6, fragment: "not a Unicode scalar value"),
        Bad(reason: "Int64 overflow", toml: "a = 9223372036854775808", line: 1, column: 5, fragment: "64-bit"),
        Bad(reason: "a leading zero", toml: "a = 012", line: 1, column: 5, fragment: "no leading zeros"),
        Bad(reason: "a double underscore", toml: "a = 1__2", line: 1, column: 5, fragment: "underscore"),
        Bad(reason: "month 13", toml: "d = 2024-13-01", line: 1, column: 10, fragment: "month 13 does not exist"),
        Bad(reason: "Feb 29 outside a leap year", toml: "d = 2023-02-29", line: 1, column: 13, fragment: "day 29 does not exist in month 2 of 2023"),
        Bad(reason: "hour 24", toml: "t = 24:00:00", line: 1, column: 5, fragment: "hour 24 does not exist"),
        Bad(reason: "a bare carriage return", toml: "a = 1\rb = 2", line: 1, column: 6, fragment: "carriage return"),
        Bad(reason: "a NUL", toml: "a = 1\n\0", line: 2, column: 1, fragment: "NUL"),
        Bad(reason: "a control character in a comment", toml: "# bell \u{7}", line: 1, column: 8, fragment: "control character"),
        Bad(reason: "a trailing comma in an inline table", toml: "a = {b = 1,}", line: 1, column: 12, fragment: "trailing comma"),
        Bad(reason: "an inline table across lines", toml: "a = {b = 1\n}", line: 1, column: 11, fragment: "on the line it starts"),
        Bad(reason: "a control character quoted in a message is shown safely", toml: "a = \u{1B}[31m", line: 1, column: 5, fragment: "U+001B"),
    ]

    @Test(arguments: bad)
    func errorsHaveTheirLineAndColumn(_ example: Bad) {
        let error = #expect(throws: TOMLSyntaxError.self) { try TOMLTable(parsing: example.toml) }
        #expect(error?.line == example.line, "\(String(describing: error))")
        #expect(error?.column == example.column, "\(String(describing: error))")
        #expect(error?.message.contains(example.fragment) == true, "\(String(describing: error))")
        #expect(error?.message.unicodeScalars.contains { $0.value < 0x20 } == false)
    }

    // MARK: Hostile input

    @Test func deepNestingIsAnErrorNotAStackOverflow() {
        for opening in ["[", "{a="] {
            let text = "a = " + String(repeating: opening, count: 100_000)
            let error = #expect(throws: TOMLSyntaxError.self) { try TOMLTable(parsing: text) }
            #expect(error?.message.contains("nested deeper than 100 levels") == true, "\(String(describing: error))")
        }
        let dotted = String(repeating: "a.", count: 100_000) + "a = 1"
        #expect(throws: TOMLSyntaxError.self) { try TOMLTable(parsing: dotted) }
        let header = "[" + String(repeating: "a.", count: 100_000) + "a]"
        #expect(throws: TOMLSyntaxError.self) { try TOMLTable(parsing: header) }
        // The key is one level, so 99 arrays inside it make 100.
        let fine = "a = " + String(repeating: "[", count: 99) + String(repeating: "]", count: 99)
        #expect(throws: Never.self) { try TOMLTable(parsing: fine) }
    }

    @Test func aOneMegabyteStringParses() throws {
        let body = String(repeating: "abcdefgh", count: 131_072)
        let table = try TOMLTable(parsing: "big = \"\(body)\"\nafter = 1")
        #expect(table["big"]?.string?.utf8.count == 1_048_576)
        #expect(table.position(of: "after")?.line == 2)
        let keys = (0..<20_000).map { "k\($0) = \($0)" }.joined(separator: ", ")
        let wide = try TOMLTable(parsing: "t = { \(keys) }")
        #expect(wide["t"]?.table?.position(of: "k19999")?.column ?? 0 > 100_000)
    }
}
