import MailAuditRecords

/// The line of every table, key and array element of a parsed configuration, by key path:
/// `relay.port`, `domain[2].ips[0]` (the `N`th `[[domain]]` header opens `domain[N]`). The
/// TOML parser gives each key and element its position; this indexes them for the reader.
struct ConfigKeyLines {
    private var lines: [String: Int] = [:]

    init(_ root: TOMLTable) { add(root, path: "") }

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

    /// The parser bounds the nesting depth, so the recursion is bounded too.
    private mutating func add(_ table: TOMLTable, path: String) {
        for entry in table.entries {
            let keyPath = path.isEmpty ? entry.key : "\(path).\(entry.key)"
            lines[keyPath] = entry.position.line
            add(entry.value, path: keyPath)
        }
    }

    private mutating func add(_ value: TOMLValue, path: String) {
        switch value {
        case .table(let table):
            add(table, path: path)
        case .array(let array):
            for index in array.indices {
                let elementPath = "\(path)[\(index)]"
                lines[elementPath] = array.position(at: index).line
                add(array[index], path: elementPath)
            }
        default:
            break
        }
    }
}
