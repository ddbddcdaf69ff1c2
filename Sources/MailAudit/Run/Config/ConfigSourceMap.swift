/// The line of every table, key and array element of a TOML document, found by scanning its
/// text. TOMLKit 0.6.0 gives positions for parse errors only, not for the values it returns, so
/// the configuration reader asks this map where a key path such as `domain[2].ips[0]` was
/// written: the `N`th `[[domain]]` header opens `domain[N]`, keys take the path of the table
/// above them, and each element of an array (across lines too) has its own line.
///
/// The scan follows TOML 1.0 far enough to skip strings (basic, literal, multi-line), comments,
/// arrays and inline tables; it runs only on text TOMLKit has accepted, and it always moves
/// forward, so odd input gives missing lines, never a hang.
struct ConfigSourceMap {
    private(set) var lines: [String: Int] = [:]

    init(_ text: String) {
        var scanner = Scanner(Array(text.unicodeScalars))
        scanner.run()
        lines = scanner.lines
    }

    /// The line of `keyPath`, else of its nearest enclosing key or table that is written in
    /// the text (`relay.host` missing → the `[relay]` line), else nil.
    func line(of keyPath: String) -> Int? {
        var path = keyPath
        while !path.isEmpty {
            if let line = lines[path] { return line }
            path = Self.parent(of: path)
        }
        return nil
    }

    /// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → "".
    static func parent(of path: String) -> String {
        if path.hasSuffix("]"), let open = path.lastIndex(of: "[") { return String(path[..<open]) }
        if let dot = path.lastIndex(of: ".") { return String(path[..<dot]) }
        return ""
    }

    private struct Scanner {
        let text: [Unicode.Scalar]
        var index = 0
        var line = 1
        var lines: [String: Int] = [:]
        /// How many `[[name]]` headers were seen, by resolved path.
        var arrayCounts: [String: Int] = [:]
        var currentTable = ""

        init(_ text: [Unicode.Scalar]) { self.text = text }

        var atEnd: Bool { index >= text.count }
        var peek: Unicode.Scalar? { atEnd ? nil : text[index] }

        func peek(_ offset: Int) -> Unicode.Scalar? {
            index + offset < text.count ? text[index + offset] : nil
        }

        mutating func advance() {
            guard !atEnd else { return }
            if text[index] == "\n" { line += 1 }
            index += 1
        }

        mutating func record(_ path: String, _ line: Int) {
            if lines[path] == nil { lines[path] = line }
        }

        mutating func skipSpaces() {
            while let scalar = peek, scalar == " " || scalar == "\t" { advance() }
        }

        mutating func skipToLineEnd() {
            while let scalar = peek, scalar != "\n" { advance() }
        }

        /// White space, line breaks and comments.
        mutating func skipBlank() {
            while let scalar = peek {
                if scalar == " " || scalar == "\t" || scalar == "\r" || scalar == "\n" {
                    advance()
                } else if scalar == "#" {
                    skipToLineEnd()
                } else {
                    return
                }
            }
        }

        mutating func run() {
            while true {
                skipBlank()
                guard let scalar = peek else { return }
                let start = index
                if scalar == "[" {
                    let isArray = peek(1) == "["
                    advance()
                    if isArray { advance() }
                    let headerLine = line
                    let keys = readKey()
                    let path = resolveHeader(keys, isArray: isArray)
                    record(path, headerLine)
                    // `domain` itself: where the first `[[domain]]` is.
                    if isArray { record(Self.unindexed(path), headerLine) }
                    currentTable = path
                    skipToLineEnd()
                } else {
                    let keyLine = line
                    let keys = readKey()
                    skipSpaces()
                    if peek == "=" { advance() }
                    let path = join(currentTable, keys)
                    record(path, keyLine)
                    scanValue(path)
                    skipToLineEnd()
                }
                if index == start { advance() }
            }
        }

        /// `[a.b]` in `[[a]]` number 2 is `a[1].b`; `[[a]]` the third time is `a[2]`.
        mutating func resolveHeader(_ keys: [String], isArray: Bool) -> String {
            var path = ""
            for (position, key) in keys.enumerated() {
                path = path.isEmpty ? key : path + "." + key
                let isLast = position == keys.count - 1
                if isLast && isArray {
                    let count = arrayCounts[path, default: 0]
                    arrayCounts[path] = count + 1
                    path += "[\(count)]"
                } else if let count = arrayCounts[path], count > 0 {
                    path += "[\(count - 1)]"
                }
            }
            return path
        }

        /// `a[0].b[2]` → `a[0].b`.
        static func unindexed(_ path: String) -> String {
            guard path.hasSuffix("]"), let open = path.lastIndex(of: "[") else { return path }
            return String(path[..<open])
        }

        func join(_ table: String, _ keys: [String]) -> String {
            let key = keys.joined(separator: ".")
            return table.isEmpty ? key : table + "." + key
        }

        /// A dotted key of bare and quoted parts, stopping before `=`, `]` or anything else.
        mutating func readKey() -> [String] {
            var keys: [String] = []
            while true {
                skipSpaces()
                guard let scalar = peek else { break }
                var key = ""
                if scalar == "\"" || scalar == "'" {
                    advance()
                    while let next = peek, next != scalar, next != "\n" {
                        if scalar == "\"" && next == "\\" { advance() }
                        if let escaped = peek { key.unicodeScalars.append(escaped) }
                        advance()
                    }
                    if peek == scalar { advance() }
                } else {
                    while let next = peek, Self.isBareKeyCharacter(next) {
                        key.unicodeScalars.append(next)
                        advance()
                    }
                    if key.isEmpty { break }
                }
                keys.append(key)
                skipSpaces()
                guard peek == "." else { break }
                advance()
            }
            return keys
        }

        static func isBareKeyCharacter(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
            default: false
            }
        }

        /// One value, recording the lines of array elements and inline-table keys below `path`.
        mutating func scanValue(_ path: String) {
            skipSpaces()
            guard let scalar = peek else { return }
            switch scalar {
            case "[":
                advance()
                var element = 0
                while true {
                    skipBlank()
                    guard let next = peek else { return }
                    if next == "]" {
                        advance()
                        return
                    }
                    let start = index
                    let elementPath = "\(path)[\(element)]"
                    record(elementPath, line)
                    scanValue(elementPath)
                    skipBlank()
                    if peek == "," {
                        advance()
                        element += 1
                    } else if index == start {
                        advance()
                    }
                }
            case "{":
                advance()
                while true {
                    skipSpaces()
                    guard let next = peek, next != "\n" else { return }
                    if next == "}" {
                        advance()
                        return
                    }
                    let start = index
                    let keyLine = line
                    let keys = readKey()
                    skipSpaces()
                    if peek == "=" { advance() }
                    let keyPath = join(path, keys)
                    record(keyPath, keyLine)
                    scanValue(keyPath)
                    skipSpaces()
                    if peek == "," { advance() } else if index == start { advance() }
                }
            case "\"", "'":
                scanString(quote: scalar)
            default:
                while let next = peek, !",]}#\n\r".unicodeScalars.contains(next) { advance() }
            }
        }

        /// A basic or literal string, one line or multi-line (`"""…"""`, `'''…'''`).
        mutating func scanString(quote: Unicode.Scalar) {
            let isMultiLine = peek(1) == quote && peek(2) == quote
            if isMultiLine {
                advance(); advance(); advance()
                while let next = peek {
                    if quote == "\"" && next == "\\" {
                        advance()
                        advance()
                    } else if next == quote && peek(1) == quote && peek(2) == quote {
                        advance(); advance(); advance()
                        // Up to two quotes may stand right before the closing three.
                        while peek == quote { advance() }
                        return
                    } else {
                        advance()
                    }
                }
            } else {
                advance()
                while let next = peek, next != quote, next != "\n" {
                    if quote == "\"" && next == "\\" { advance() }
                    advance()
                }
                if peek == quote { advance() }
            }
        }
    }
}
