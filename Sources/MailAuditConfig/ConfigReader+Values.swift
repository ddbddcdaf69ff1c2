import Foundation
import MailAuditCore
import MailAuditDNS
import MailAuditRecords

/// The key and value readers of ``ConfigReader``: unknown keys with suggestions, typed values
/// with their path, each problem noted and parsing carried on.
extension ConfigReader {
    // MARK: Keys

    /// Notes each key of `table` that is not in `allowed`. `password`, where `passwordKey` is
    /// set, gets its own problem: the file must not hold a secret.
    mutating func checkKeys(_ table: TOMLTable, path: String, allowed: [String], passwordKey: Bool = false) {
        for key in table.keys where !allowed.contains(key) {
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            if passwordKey && key == "password" {
                note(.inlinePassword, keyPath, "inline passwords are not allowed; use password_env or password_file")
                continue
            }
            if let suggestion = Self.suggestion(for: key, among: allowed) {
                note(.unknownKey, keyPath, "unknown key \"\(key)\"; did you mean \"\(suggestion)\"?")
            } else {
                let known = allowed.joined(separator: ", ")
                note(.unknownKey, keyPath, path.isEmpty ? "unknown table or key \"\(key)\"; the file has \(known)" : "unknown key \"\(key)\"; the keys here are \(known)")
            }
        }
    }

    /// The candidate nearest to `word`, when it is near enough to be a likely typo: the same
    /// but for case, "-" and "_", or at most 1 edit away (2 for words of 5 or more characters).
    static func suggestion(for word: String, among candidates: [String]) -> String? {
        func folded(_ text: String) -> String { text.lowercased().filter { $0 != "_" && $0 != "-" } }
        if let same = candidates.first(where: { folded($0) == folded(word) }) { return same }
        let limit = word.count >= 5 ? 2 : 1
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= limit }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// The optimal string alignment distance: insertions, deletions, substitutions and
    /// transpositions of neighbours each count 1.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[a.count][b.count]
    }

    // MARK: Typed values

    static func typeName(_ value: TOMLValue) -> String {
        switch value {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a floating-point number"
        case .boolean: "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .dateTime(let dateTime):
            switch dateTime.kind {
            case .localDate: "a date"
            case .localTime: "a time"
            case .offsetDateTime, .localDateTime: "a date-time"
            }
        }
    }

    mutating func wrongType(_ path: String, expected: String, found value: TOMLValue) {
        note(.wrongType, path, "expected \(expected), found \(Self.typeName(value))")
    }

    mutating func table(_ parent: TOMLTable, _ key: String, path: String) -> TOMLTable? {
        guard let value = parent[key] else { return nil }
        guard let table = value.table else {
            wrongType(path, expected: "a table ([\(key)])", found: value)
            return nil
        }
        return table
    }

    mutating func string(_ table: TOMLTable, _ key: String, path: String) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else {
            wrongType(path, expected: "a string", found: value)
            return nil
        }
        return text
    }

    mutating func nonEmptyString(_ table: TOMLTable, _ key: String, path: String) -> String? {
        guard let text = string(table, key, path: path) else { return nil }
        guard !text.isEmpty else {
            note(.badValue, path, "must not be empty")
            return nil
        }
        return text
    }

    /// A non-empty string without control characters (it goes into a header or a command).
    mutating func oneLine(_ table: TOMLTable, _ key: String, path: String) -> String? {
        guard let text = nonEmptyString(table, key, path: path) else { return nil }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            note(.badValue, path, "must be one line without control characters")
            return nil
        }
        return text
    }

    mutating func bool(_ table: TOMLTable, _ key: String, path: String) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.boolean else {
            wrongType(path, expected: "true or false", found: value)
            return nil
        }
        return flag
    }

    mutating func integer(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Int>) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.integer.map(Int.init(truncatingIfNeeded:)) else {
            wrongType(path, expected: "an integer", found: value)
            return nil
        }
        guard range.contains(number) else {
            note(.outOfRange, path, "\(number) is out of range; expected \(range.lowerBound) to \(range.upperBound)")
            return nil
        }
        return number
    }

    /// A number of seconds, integer or not.
    mutating func seconds(_ table: TOMLTable, _ key: String, path: String, range: ClosedRange<Double>) -> Duration? {
        guard let value = table[key] else { return nil }
        let number: Double
        if let integer = value.integer {
            number = Double(integer)
        } else if let double = value.float {
            number = double
        } else {
            wrongType(path, expected: "a number of seconds", found: value)
            return nil
        }
        guard range.contains(number) else {
            // Int(number) would trap on inf or a huge number; those read as written.
            let text = number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
            note(.outOfRange, path, "\(text) seconds is out of range; expected \(Int(range.lowerBound)) to \(Int(range.upperBound))")
            return nil
        }
        if let integer = value.integer { return .seconds(integer) }
        return .milliseconds(Int((number * 1000).rounded()))
    }

    /// The strings of an array, with their indexes; elements of another type are noted.
    mutating func stringArray(_ table: TOMLTable, _ key: String, path: String) -> [(Int, String)]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else {
            let hint = value.string.map { " (write \(key) = [\(TOMLText.quoted($0))])" } ?? ""
            wrongType(path, expected: "an array of strings", found: value)
            if !hint.isEmpty { problems[problems.count - 1].message += hint }
            return nil
        }
        var strings: [(Int, String)] = []
        for index in 0..<array.count {
            if let text = array[index].string {
                strings.append((index, text))
            } else {
                wrongType("\(path)[\(index)]", expected: "a string", found: array[index])
            }
        }
        return strings
    }

    /// One of a fixed set of strings.
    mutating func choice<Value>(_ table: TOMLTable, _ key: String, path: String, among options: [(String, Value)]) -> Value? {
        guard let text = string(table, key, path: path) else { return nil }
        if let match = options.first(where: { $0.0 == text }) { return match.1 }
        let names = options.map(\.0)
        var message = "\"\(text)\" is not one of \(names.map { "\"\($0)\"" }.joined(separator: ", "))"
        if let suggestion = Self.suggestion(for: text, among: names) { message += "; did you mean \"\(suggestion)\"?" }
        note(.badValue, path, message)
        return nil
    }

    /// A list of check names; an empty list is noted.
    mutating func checks(_ table: TOMLTable, _ key: String, path: String) -> Set<AuditCheck>? {
        guard let names = stringArray(table, key, path: path) else { return nil }
        let all = AuditCheck.allCases.map(\.rawValue)
        var checks: Set<AuditCheck> = []
        for (index, name) in names {
            if let check = AuditCheck(rawValue: name) {
                checks.insert(check)
            } else {
                var message = "\"\(name)\" is not a check; the checks are \(all.joined(separator: ", "))"
                if let suggestion = Self.suggestion(for: name, among: all) { message += "; did you mean \"\(suggestion)\"?" }
                note(.badValue, "\(path)[\(index)]", message)
            }
        }
        if names.isEmpty && table[key]?.array?.isEmpty == true {
            note(.badValue, path, "list at least one check, or leave the key out for all of them")
        }
        return checks.isEmpty ? nil : checks
    }

    mutating func domainName(_ table: TOMLTable, _ key: String, path: String) -> DomainName? {
        guard let text = string(table, key, path: path) else { return nil }
        return domainName(text, path: path)
    }

    mutating func domainName(_ text: String, path: String) -> DomainName? {
        do {
            return try DomainName(parsing: text)
        } catch {
            note(.badValue, path, "\"\(text)\" is not a domain name: \(error)")
            return nil
        }
    }

    /// A host name (lower-case A-labels) or an IP address.
    mutating func hostName(_ text: String, path: String) -> String? {
        if let address = IPAddress(text) { return address.description }
        return domainName(text, path: path)?.description
    }

    /// `password_env` or `password_file`, not both.
    mutating func passwordSource(_ table: TOMLTable, path: String) -> RunConfiguration.PasswordSource? {
        let environment = string(table, "password_env", path: "\(path).password_env")
        let file = nonEmptyString(table, "password_file", path: "\(path).password_file")
        if table["password_env"] != nil && table["password_file"] != nil {
            note(.conflict, "\(path).password_file", "password_env and password_file are both set; choose one")
            return nil
        }
        if let environment {
            guard Self.isEnvironmentName(environment) else {
                note(.badValue, "\(path).password_env", "\"\(environment)\" is not an environment variable name (letters, digits and \"_\", not starting with a digit)")
                return nil
            }
            return .environment(environment)
        }
        return file.map { .file($0) }
    }

    static func isEnvironmentName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
