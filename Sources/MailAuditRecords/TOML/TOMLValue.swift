/// Where something was written in a TOML document: the line and the column (both from 1;
/// the column counts Unicode scalars).
public struct TOMLPosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line 3, column 7`.
    public var description: String { "line \(line), column \(column)" }
}

/// A TOML 1.0.0 value (https://toml.io/en/v1.0.0).
///
/// ```toml
/// port = 587            # .integer(587)
/// hosts = ["a", "b"]    # .array([.string("a"), .string("b")])
/// ```
public enum TOMLValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    /// An offset date-time, local date-time, local date or local time.
    case dateTime(TOMLDateTime)
    /// A static array (`[1, 2]`) or an array of tables (`[[name]]`).
    case array(TOMLArray)
    /// A table from a header, dotted keys or an inline table, or the document itself.
    case table(TOMLTable)

    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var integer: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }

    public var float: Double? {
        if case .float(let number) = self { return number }
        return nil
    }

    public var boolean: Bool? {
        if case .boolean(let flag) = self { return flag }
        return nil
    }

    public var dateTime: TOMLDateTime? {
        if case .dateTime(let value) = self { return value }
        return nil
    }

    public var array: TOMLArray? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var table: TOMLTable? {
        if case .table(let table) = self { return table }
        return nil
    }
}

/// The elements of a TOML array, each with the position where it was written (for an array of
/// tables: the position of its `[[name]]` header).
public struct TOMLArray: Sendable, Hashable, RandomAccessCollection {
    public private(set) var elements: [TOMLValue] = []
    public private(set) var positions: [TOMLPosition] = []

    public init() {}

    public init(_ elements: [(TOMLValue, TOMLPosition)]) {
        self.elements = elements.map(\.0)
        self.positions = elements.map(\.1)
    }

    public mutating func append(_ value: TOMLValue, at position: TOMLPosition) {
        elements.append(value)
        positions.append(position)
    }

    public var startIndex: Int { elements.startIndex }
    public var endIndex: Int { elements.endIndex }
    public subscript(index: Int) -> TOMLValue { elements[index] }

    /// Where element `index` was written.
    public func position(at index: Int) -> TOMLPosition { positions[index] }
}

/// A TOML table: its keys in the order they were first written, each with its value and the
/// position of the key (for a table opened by a header: the header's position).
public struct TOMLTable: Sendable, Hashable {
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: TOMLValue
        public var position: TOMLPosition
    }

    public private(set) var entries: [Entry] = []
    private var indexes: [String: Int] = [:]

    public init() {}

    /// The keys in the order they were written.
    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    public subscript(key: String) -> TOMLValue? {
        indexes[key].map { entries[$0].value }
    }

    /// Where `key` was written in this table.
    public func position(of key: String) -> TOMLPosition? {
        indexes[key].map { entries[$0].position }
    }

    /// Adds `key`, or replaces its value and position when it is already there.
    public mutating func set(_ key: String, _ value: TOMLValue, at position: TOMLPosition) {
        if let index = indexes[key] {
            entries[index] = Entry(key: key, value: value, position: position)
        } else {
            indexes[key] = entries.count
            entries.append(Entry(key: key, value: value, position: position))
        }
    }

    public static func == (left: TOMLTable, right: TOMLTable) -> Bool { left.entries == right.entries }
    public func hash(into hasher: inout Hasher) { hasher.combine(entries) }
}
