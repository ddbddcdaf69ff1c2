import Foundation
import Testing

/// Keeps docs/checks.md and the ids the code emits in step.
@Suite struct CatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every string literal in Sources/MailAudit that looks like `area.name` for a catalogued
    /// area: ids appear as `Finding("mx.present", …)` and also in switches that choose one.
    static func idsInCode() throws -> Set<String> {
        let sources = root.appendingPathComponent("Sources/MailAudit")
        var ids = Set<String>()
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        let areas = Set(try idsInCatalogue().map { String($0.prefix { $0 != "." }) })
        #expect(!areas.isEmpty)
        let known = try Regex("\"((?:" + areas.sorted().joined(separator: "|") + #")\.[a-z0-9-]+)""#)
        // A Finding made with an id of an area the catalogue does not know yet.
        let direct = try Regex(#"Finding\(\s*"([a-z0-9-]+\.[a-z0-9.-]+)""#)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for pattern in [known, direct] {
                for match in text.matches(of: pattern) {
                    if let id = match.output[1].substring { ids.insert(String(id)) }
                }
            }
        }
        return ids
    }

    static func idsInCatalogue() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let pattern = try Regex(#"^\| `([a-z0-9-]+\.[a-z0-9.-]+)` \|"#).anchorsMatchLineEndings()
        return Set(text.matches(of: pattern).compactMap { $0.output[1].substring.map(String.init) })
    }

    @Test func everyEmittedIdIsCatalogued() throws {
        let missing = try Self.idsInCode().subtracting(Self.idsInCatalogue())
        #expect(missing.isEmpty, "ids emitted by the code but missing from docs/checks.md: \(missing.sorted())")
    }

    @Test func everyCataloguedIdIsEmitted() throws {
        let stale = try Self.idsInCatalogue().subtracting(Self.idsInCode())
        #expect(stale.isEmpty, "ids in docs/checks.md that no code emits: \(stale.sorted())")
    }

    @Test func catalogueIsNotEmpty() throws {
        #expect(try Self.idsInCatalogue().count >= 20)
    }
}
