import Foundation
import Testing

/// Keeps docs/checks.md and the ids the code emits in step.
@Suite struct CatalogueTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func idsInCode() throws -> Set<String> {
        let sources = root.appendingPathComponent("Sources")
        var ids = Set<String>()
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        let pattern = try Regex(#"Finding\(\s*"([a-z0-9]+\.[a-z0-9.-]+)""#)
        while let url = enumerator?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let id = match.output[1].substring { ids.insert(String(id)) }
            }
        }
        return ids
    }

    static func idsInCatalogue() throws -> Set<String> {
        let text = try String(contentsOf: root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let pattern = try Regex(#"^\| `([a-z0-9]+\.[a-z0-9.-]+)` \|"#).anchorsMatchLineEndings()
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
