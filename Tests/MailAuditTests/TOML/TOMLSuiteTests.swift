import Foundation
import MailAuditRecords
import Testing

/// The official toml-test suite (github.com/toml-lang/toml-test, commit d168c2a, MIT licence,
/// in `toml-test/`), the cases its `files-toml-1.0.0` lists: every valid document parses to
/// the value tree of its JSON twin, every invalid one is rejected with an error.
@Suite("toml-test suite (TOML 1.0.0)")
struct TOMLSuiteTests {
    @Test("valid", arguments: TOMLSuite.cases(kind: "valid"))
    func valid(_ name: String) throws {
        let text = try #require(try TOMLSuite.text(name + ".toml"), "not UTF-8")
        let expected = try JSONSerialization.jsonObject(with: try TOMLSuite.data(name + ".json"), options: [.fragmentsAllowed])
        let table: TOMLTable
        do {
            table = try TOMLTable(parsing: text)
        } catch {
            Issue.record("rejected: \(error)")
            return
        }
        if let difference = TOMLSuite.difference(.table(table), expected, path: "") {
            Issue.record("\(difference)")
        }
    }

    @Test("invalid", arguments: TOMLSuite.cases(kind: "invalid"))
    func invalid(_ name: String) throws {
        // Invalid UTF-8 never reaches the parser, whose input is a String: that is the reader's check.
        guard let text = try TOMLSuite.text(name + ".toml") else { return }
        #expect(throws: TOMLSyntaxError.self, "accepted") { try TOMLTable(parsing: text) }
    }
}

enum TOMLSuite {
    static var directory: URL? { Bundle.module.url(forResource: "toml-test", withExtension: nil) }

    /// `valid/array/array`, … from `files-toml-1.0.0`, without the extension.
    static func cases(kind: String) -> [String] {
        guard let directory, let list = try? String(contentsOf: directory.appendingPathComponent("files-toml-1.0.0"), encoding: .utf8) else {
            return []
        }
        return list.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix(kind + "/") && $0.hasSuffix(".toml") }
            .map { String($0.dropLast(5)) }
    }

    static func data(_ file: String) throws -> Data {
        guard let directory else { throw CocoaError(.fileNoSuchFile) }
        return try Data(contentsOf: directory.appendingPathComponent(file))
    }

    /// The file as text, nil when it is not UTF-8.
    static func text(_ file: String) throws -> String? {
        String(validating: try data(file), as: UTF8.self)
    }

    /// Where `value` and the toml-test JSON encoding `expected` differ, or nil.
    static func difference(_ value: TOMLValue, _ expected: Any, path: String) -> String? {
        switch value {
        case .table(let table):
            guard let object = expected as? [String: Any], !isLeaf(object) else { return "\(path): a table, expected \(expected)" }
            guard Set(table.keys) == Set(object.keys) else { return "\(path): keys \(table.keys.sorted()), expected \(object.keys.sorted())" }
            for entry in table.entries {
                if let difference = difference(entry.value, object[entry.key] as Any, path: path + "." + entry.key) { return difference }
            }
            return nil
        case .array(let array):
            guard let elements = expected as? [Any], elements.count == array.count else { return "\(path): \(array.count) elements, expected \(expected)" }
            for (index, element) in array.enumerated() {
                if let difference = difference(element, elements[index], path: path + "[\(index)]") { return difference }
            }
            return nil
        default:
            guard let object = expected as? [String: Any], isLeaf(object), let type = object["type"] as? String, let text = object["value"] as? String else {
                return "\(path): \(value), expected \(expected)"
            }
            return leafMatches(value, type: type, text: text) ? nil : "\(path): \(value), expected \(type) \(text)"
        }
    }

    private static func isLeaf(_ object: [String: Any]) -> Bool {
        object.count == 2 && object["type"] is String && object["value"] is String
    }

    private static func leafMatches(_ value: TOMLValue, type: String, text: String) -> Bool {
        switch (value, type) {
        case (.string(let string), "string"): return string == text
        case (.integer(let number), "integer"): return Int64(text) == number
        case (.boolean(let flag), "bool"): return String(flag) == text
        case (.float(let number), "float"):
            switch text {
            case "nan", "+nan", "-nan": return number.isNaN
            case "inf", "+inf": return number == .infinity
            case "-inf": return number == -.infinity
            default: return Double(text) == number
            }
        case (.dateTime(let dateTime), _):
            let kinds: [String: TOMLDateTime.Kind] = [
                "datetime": .offsetDateTime, "datetime-local": .localDateTime, "date-local": .localDate, "time-local": .localTime,
            ]
            guard kinds[type] == dateTime.kind, let other = (try? TOMLTable(parsing: "x = \(text)"))?["x"]?.dateTime else { return false }
            return other.normalized == dateTime.normalized
        default:
            return false
        }
    }
}
