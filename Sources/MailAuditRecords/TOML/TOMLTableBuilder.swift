import MailAuditCore

/// A table while the document is read: mutable, shared by reference so that a header can
/// reopen it, and marked with how it was made, which decides what may still add to it
/// (TOML 1.0.0 "Table", "Array of Tables", "Keys": a table is defined once; dotted keys
/// cannot add to a table a header defined, and a header cannot define a table dotted keys
/// made; inline tables and static arrays are never extended).
final class TOMLTableBuilder {
    enum Slot {
        /// A value, including an inline table or a static array: complete and closed.
        case value(TOMLValue, TOMLPosition)
        case table(TOMLTableBuilder)
        case arrayOfTables(TOMLArrayOfTablesBuilder)
    }

    /// Where the table was first named.
    let position: TOMLPosition
    /// Where a `[header]` (or a `[[header]]`, for an element) defined it; nil while the table
    /// exists only because a longer header or a dotted key passed through it.
    var definedAt: TOMLPosition?
    /// The section (the part of the document under one header, or one inline table) whose
    /// dotted keys made or added to the table; only that section's dotted keys may add more.
    var dottedSection: Int?
    private var order: [String] = []
    private var slots: [String: Slot] = [:]

    init(position: TOMLPosition) { self.position = position }

    subscript(key: String) -> Slot? { slots[key] }

    func add(_ key: String, _ slot: Slot) {
        if slots.updateValue(slot, forKey: key) == nil { order.append(key) }
    }

    /// The finished value; the nesting depth is bounded by the parser, so the recursion is too.
    func frozen() -> TOMLTable {
        var table = TOMLTable()
        for key in order {
            switch slots[key] {
            case .value(let value, let position)?:
                table.set(key, value, at: position)
            case .table(let child)?:
                table.set(key, .table(child.frozen()), at: child.position)
            case .arrayOfTables(let array)?:
                let elements = array.elements.map { (TOMLValue.table($0.frozen()), $0.position) }
                table.set(key, .array(TOMLArray(elements)), at: array.position)
            case nil:
                continue
            }
        }
        return table
    }

    static func position(of slot: Slot) -> TOMLPosition {
        switch slot {
        case .value(_, let position): position
        case .table(let table): table.definedAt ?? table.position
        case .arrayOfTables(let array): array.position
        }
    }
}

/// The tables of one `[[name]]` array, each opened by its own header.
final class TOMLArrayOfTablesBuilder {
    let position: TOMLPosition
    var elements: [TOMLTableBuilder] = []

    init(position: TOMLPosition) { self.position = position }
}

/// One part of a dotted key, with where it was written.
struct TOMLKeyPart {
    var name: String
    var position: TOMLPosition

    /// `a.b."c d"`, terminal-safe, for messages.
    static func display(_ parts: some Collection<TOMLKeyPart>) -> String {
        let names = parts.map { part in
            let bare = !part.name.isEmpty && part.name.utf8.allSatisfy(TOMLParser.isBareKeyByte)
            return bare ? part.name : TOMLSyntaxError.quote(part.name)
        }
        let text = names.joined(separator: ".")
        return text.count > 80 ? String(text.prefix(80)) + "…" : text.terminalSafe
    }
}

// MARK: The definition rules

extension TOMLTableBuilder {
    /// `[a.b.c]`: walks to `a.b`, then defines `c`, which must not be defined yet, by a header
    /// or by dotted keys.
    static func defineTable(_ parts: [TOMLKeyPart], in root: TOMLTableBuilder, header: TOMLPosition) throws(TOMLSyntaxError) -> TOMLTableBuilder {
        guard let last = parts.last else { throw TOMLSyntaxError(at: header, "a table header needs a name") }
        let parent = try walk(parts.dropLast(), from: root)
        var name: String { TOMLKeyPart.display(parts) }  // for messages only
        let table: TOMLTableBuilder
        switch parent[last.name] {
        case nil:
            table = TOMLTableBuilder(position: last.position)
            parent.add(last.name, .table(table))
        case .table(let existing)?:
            if let defined = existing.definedAt {
                throw TOMLSyntaxError(at: last.position, "the table [\(name)] is already defined at line \(defined.line)")
            }
            if existing.dottedSection != nil {
                throw TOMLSyntaxError(
                    at: last.position, "the table [\(name)] is already defined by dotted keys at line \(existing.position.line)")
            }
            table = existing
        case .arrayOfTables(let array)?:
            throw TOMLSyntaxError(
                at: last.position, "[\(name)] is an array of tables (line \(array.position.line)); write [[\(name)]] to add a table to it")
        case .value(_, let position)?:
            throw TOMLSyntaxError(at: last.position, "cannot define the table [\(name)]: the key already holds a value (line \(position.line))")
        }
        table.definedAt = header
        return table
    }

    /// `[[a.b.c]]`: walks to `a.b`, then adds a new table to the array of tables `c`.
    static func appendTable(_ parts: [TOMLKeyPart], in root: TOMLTableBuilder, header: TOMLPosition) throws(TOMLSyntaxError) -> TOMLTableBuilder {
        guard let last = parts.last else { throw TOMLSyntaxError(at: header, "a table header needs a name") }
        let parent = try walk(parts.dropLast(), from: root)
        var name: String { TOMLKeyPart.display(parts) }  // for messages only
        let array: TOMLArrayOfTablesBuilder
        switch parent[last.name] {
        case nil:
            array = TOMLArrayOfTablesBuilder(position: header)
            parent.add(last.name, .arrayOfTables(array))
        case .arrayOfTables(let existing)?:
            array = existing
        case .table(let existing)?:
            throw TOMLSyntaxError(
                at: last.position,
                "[[\(name)]] cannot add to \(name), a table (line \((existing.definedAt ?? existing.position).line)), not an array of tables")
        case .value(_, let position)?:
            throw TOMLSyntaxError(
                at: last.position, "[[\(name)]] cannot add to \(name), which already holds a value (line \(position.line))")
        }
        let table = TOMLTableBuilder(position: header)
        table.definedAt = header
        array.elements.append(table)
        return table
    }

    /// The table a header's leading parts lead to, made where missing; through an array of
    /// tables, its last table.
    private static func walk(_ parts: ArraySlice<TOMLKeyPart>, from root: TOMLTableBuilder) throws(TOMLSyntaxError) -> TOMLTableBuilder {
        var node = root
        for (offset, part) in parts.enumerated() {
            switch node[part.name] {
            case nil:
                let child = TOMLTableBuilder(position: part.position)
                node.add(part.name, .table(child))
                node = child
            case .table(let child)?:
                node = child
            case .arrayOfTables(let array)?:
                guard let last = array.elements.last else {
                    throw TOMLSyntaxError(at: part.position, "the array of tables \(part.name) is empty")
                }
                node = last
            case .value(_, let position)?:
                let name = TOMLKeyPart.display(parts.prefix(offset + 1))
                throw TOMLSyntaxError(at: part.position, "\(name) already holds a value (line \(position.line)); it cannot hold a table too")
            }
        }
        return node
    }

    /// `a.b.c = value` in this table: `a` and `b` are made or extended as tables of dotted
    /// keys in `section`, and `c` must be new.
    func insert(_ value: TOMLValue, at parts: [TOMLKeyPart], section: Int) throws(TOMLSyntaxError) {
        guard let last = parts.last else { return }
        var node = self
        for (offset, part) in parts.dropLast().enumerated() {
            var name: String { TOMLKeyPart.display(parts.prefix(offset + 1)) }  // for messages only
            switch node[part.name] {
            case nil:
                let child = TOMLTableBuilder(position: part.position)
                child.dottedSection = section
                node.add(part.name, .table(child))
                node = child
            case .table(let child)?:
                if let defined = child.definedAt {
                    throw TOMLSyntaxError(
                        at: part.position, "dotted keys cannot add to the table \(name), which a header defined at line \(defined.line)")
                }
                if let other = child.dottedSection, other != section {
                    throw TOMLSyntaxError(
                        at: part.position, "dotted keys cannot add to the table \(name), defined under another header at line \(child.position.line)")
                }
                child.dottedSection = section
                node = child
            case .arrayOfTables(let array)?:
                throw TOMLSyntaxError(
                    at: part.position, "dotted keys cannot add to \(name), an array of tables (line \(array.position.line))")
            case .value(_, let position)?:
                throw TOMLSyntaxError(
                    at: part.position, "\(name) already holds a value (line \(position.line)); it cannot hold more keys")
            }
        }
        if let existing = node[last.name] {
            throw TOMLSyntaxError(
                at: last.position, "the key \(TOMLKeyPart.display(parts)) is already defined at line \(Self.position(of: existing).line)")
        }
        node.add(last.name, .value(value, last.position))
    }
}
