import Foundation
import MailAuditRecords
import Testing

/// Keeps docs/smtp-replies.md and the reply-code catalogue in step: every code in the tables
/// appears in the doc with its category, meaning and references, and every code row of the doc
/// is in the tables.
@Suite struct SMTPCatalogueDocTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Row: Hashable, CustomStringConvertible {
        var code: String
        var category: String
        var meaning: String
        var references: String
        var description: String { "| `\(code)` | \(category) | \(meaning) | \(references) |" }
    }

    static func doc() throws -> String {
        try String(contentsOf: root.appendingPathComponent("docs/smtp-replies.md"), encoding: .utf8)
    }

    /// Rows like "| `535` | authentication | … | RFC 4954 §6 |" and "| `X.7.8` | … |".
    static func codeRows() throws -> [Row] {
        let pattern = try Regex(#"^\| `(\d{3}|X\.\d{1,3}\.\d{1,3})` \| ([a-z-]+) \| (.+) \| (.*) \|$"#).anchorsMatchLineEndings()
        return try doc().matches(of: pattern).compactMap { match in
            guard let code = match.output[1].substring, let category = match.output[2].substring,
                  let meaning = match.output[3].substring, let references = match.output[4].substring else { return nil }
            return Row(code: String(code), category: String(category), meaning: String(meaning), references: String(references))
        }
    }

    static func codeRowsInCatalogue() -> [Row] {
        SMTPReplyCatalogue.allBasic.map {
            Row(code: String($0.code), category: $0.category.rawValue, meaning: $0.meaning, references: $0.references.joined(separator: ", "))
        } + SMTPReplyCatalogue.allEnhanced.map {
            Row(code: $0.registryKey, category: $0.category.rawValue, meaning: $0.meaning, references: $0.references.joined(separator: ", "))
        }
    }

    @Test func everyCatalogueCodeIsInTheDoc() throws {
        let documented = Set(try Self.codeRows())
        let missing = Self.codeRowsInCatalogue().filter { !documented.contains($0) }
        #expect(missing.isEmpty, "rows missing from docs/smtp-replies.md, or different there:\n\(missing.map(\.description).joined(separator: "\n"))")
    }

    @Test func everyDocumentedCodeIsInTheCatalogue() throws {
        let catalogued = Set(Self.codeRowsInCatalogue())
        let stale = try Self.codeRows().filter { !catalogued.contains($0) }
        #expect(stale.isEmpty, "rows in docs/smtp-replies.md that the catalogue does not have:\n\(stale.map(\.description).joined(separator: "\n"))")
    }

    @Test func noCodeIsListedTwice() throws {
        let codes = try Self.codeRows().map(\.code)
        #expect(codes.count == Set(codes).count)
        let catalogued = Self.codeRowsInCatalogue().map(\.code)
        #expect(catalogued.count == Set(catalogued).count)
    }

    @Test func everyCategoryIsDocumented() throws {
        let pattern = try Regex(#"^\| `([a-z-]+)` \| (.+) \|$"#).anchorsMatchLineEndings()
        let documented = Dictionary(try Self.doc().matches(of: pattern).compactMap { match -> (String, String)? in
            guard let name = match.output[1].substring, let summary = match.output[2].substring else { return nil }
            return (String(name), String(summary))
        }, uniquingKeysWith: { first, _ in first })
        for category in SMTPCategory.allCases {
            #expect(documented[category.rawValue] == category.summary, "category \(category.rawValue) in docs/smtp-replies.md")
        }
        #expect(Set(documented.keys) == Set(SMTPCategory.allCases.map(\.rawValue)))
    }

    @Test func tablesAreNotEmpty() throws {
        #expect(try Self.codeRows().count == SMTPReplyCatalogue.allBasic.count + SMTPReplyCatalogue.allEnhanced.count)
        #expect(SMTPReplyCatalogue.allEnhanced.count >= 80)
        #expect(SMTPReplyCatalogue.allBasic.count >= 30)
    }
}
