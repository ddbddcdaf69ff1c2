import Foundation
import MailAuditCore
import Testing
@testable import MailAudit

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The JUnit and SARIF views of a report: well-formed, counted, escaped, and with the fields CI tools read.
@Suite struct CIRenderersTests {
    static let good = DomainName(labels: ["example", "com"])
    static let silent = DomainName(labels: ["silent", "example"])

    static func report() -> AuditReport {
        let domain = FindingSubject.domain(good)
        let findings = [
            Finding("mx.present", .pass, subject: domain, message: "example.com has 1 MX record"),
            Finding("spf.record", .pass, subject: domain, message: "one SPF record"),
            Finding("spf.multiple-records", .failure, subject: domain, message: "2 SPF records <&> \"quoted\" 'single'",
                    evidence: ["v=spf1 -all", "v=spf1 \u{1B}[31mred\u{7}\u{202E}evil ~all"], remedy: "Merge them.", reference: "RFC 7208 §4.5"),
            Finding("dkim.lookup-failed", .inconclusive, subject: FindingSubject(domain: "example.com", selector: "s1"),
                    message: "the lookup timed out"),
            Finding("dmarc.policy-none", .warning, subject: domain, message: "p=none", remedy: "Move to p=quarantine."),
        ]
        return AuditReport(
            toolVersion: "9.9.9", startedAt: Date(timeIntervalSince1970: 1_741_932_000), duration: .milliseconds(420), resolvers: [],
            domains: [DomainReport(domain: good, findings: findings), DomainReport(domain: silent, findings: [], resolverAnswered: false)],
            dns: ResolverStatistics())
    }

    // MARK: - JUnit

    /// Elements with their attributes and text, in document order.
    final class Collector: NSObject, XMLParserDelegate {
        struct Element { var name: String, attributes: [String: String], text = "" }
        var elements: [Element] = []
        private var open: [Int] = []
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            open.append(elements.count)
            elements.append(Element(name: name, attributes: attributes))
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { open.removeLast() }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let index = open.last { elements[index].text += string }
        }
        func named(_ name: String) -> [Element] { elements.filter { $0.name == name } }
    }

    func parse(_ xml: String) throws -> Collector {
        let parser = XMLParser(data: Data(xml.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "well-formed XML: \(parser.parserError.map { "\($0)" } ?? "")")
        return collector
    }

    @Test func junitIsWellFormedWithASuitePerDomainAndACasePerArea() throws {
        let xml = JUnitRenderer.render(Self.report(), failOn: .failure)
        let document = try parse(xml)
        let suites = document.named("testsuite")
        #expect(suites.map { $0.attributes["name"] } == ["example.com", "silent.example"])
        #expect(suites[0].attributes["tests"] == "4" && suites[0].attributes["failures"] == "1" && suites[0].attributes["skipped"] == "1")
        let cases = document.named("testcase").filter { $0.attributes["classname"] == "example.com" }
        #expect(cases.map { $0.attributes["name"] ?? "" } == ["mx", "spf", "dkim", "dmarc"])
        let failure = try #require(document.named("failure").first)
        #expect(failure.attributes["type"] == "spf.multiple-records")
        #expect(failure.text.contains("2 SPF records <&> \"quoted\" 'single'"), "escaped, then read back exactly")
        #expect(failure.text.contains("evidence: v=spf1 -all") && failure.text.contains("fix: Merge them.") && failure.text.contains("see: RFC 7208 §4.5"))
        #expect(document.named("skipped").first?.attributes["message"]?.contains("dkim.lookup-failed") == true)
        #expect(document.named("error").count == 1, "the domain no resolver answered for")
        #expect(document.named("testsuites").first?.attributes["failures"] == "1")
        #expect(document.named("testsuites").first?.attributes["errors"] == "1")
    }

    @Test func controlCharactersAndOverridesAreRemoved() {
        let xml = JUnitRenderer.render(Self.report(), failOn: .failure)
        #expect(!xml.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x202E })
        #expect(xml.contains("[31mred"))
    }

    @Test(arguments: [(Severity.failure, 1, 1), (.warning, 2, 1), (.inconclusive, 3, 0)])
    func theThresholdDecidesWhatFails(threshold: Severity, failures: Int, skipped: Int) throws {
        let suite = try #require(try parse(JUnitRenderer.render(Self.report(), failOn: threshold)).named("testsuite").first)
        #expect(suite.attributes["failures"] == "\(failures)")
        #expect(suite.attributes["skipped"] == "\(skipped)")
    }

    // MARK: - SARIF

    func sarif(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func sarifHasTheRequiredFields() throws {
        let log = try sarif(SARIFRenderer.render(Self.report()))
        #expect(log["$schema"] as? String == SARIFRenderer.schema)
        #expect(log["version"] as? String == "2.1.0")
        let run = try #require((log["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "mailaudit" && driver["version"] as? String == "9.9.9")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.compactMap { $0["id"] as? String } == ["spf.multiple-records", "dkim.lookup-failed", "dmarc.policy-none"])
        #expect(rules.first?["helpUri"] as? String == "docs/checks.md#spf-spf")
        #expect(((rules.first?["help"] as? [String: Any])?["text"] as? String)?.contains("RFC 7208 §4.5") == true)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.compactMap { $0["ruleId"] as? String } == ["spf.multiple-records", "dkim.lookup-failed", "dmarc.policy-none"],
                "passing findings are left out")
        #expect(results.compactMap { $0["level"] as? String } == ["error", "note", "warning"])
        #expect((results[1]["properties"] as? [String: Any])?["inconclusive"] as? Bool == true)
        #expect((results[0]["properties"] as? [String: Any])?["inconclusive"] == nil)
        for result in results {
            #expect(((result["message"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            let location = try #require((result["locations"] as? [[String: Any]])?.first)
            #expect(location["physicalLocation"] == nil, "a plain audit has no file")
            #expect((location["logicalLocations"] as? [[String: Any]])?.isEmpty == false)
        }
        let logical = ((results[1]["locations"] as? [[String: Any]])?.first?["logicalLocations"] as? [[String: Any]])?.first
        #expect(logical?["fullyQualifiedName"] as? String == "s1._domainkey.example.com. TXT")
    }

    @Test func aLocatorGivesPhysicalLocations() throws {
        let text = SARIFRenderer.render(Self.report()) { finding, _ in
            SourceLocation(path: "./zones/my zone.db", line: finding.id.area == "spf" ? 12 : 3)
        }
        let results = try #require(((try sarif(text)["runs"] as? [[String: Any]])?.first?["results"] as? [[String: Any]]))
        let physical = try #require((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        #expect((physical["artifactLocation"] as? [String: Any])?["uri"] as? String == "zones/my%20zone.db")
        #expect((physical["region"] as? [String: Any])?["startLine"] as? Int == 12)
        #expect(SourceLocation(path: "/srv/dns/a.zone", line: 1).uri == "file:///srv/dns/a.zone")
    }

    /// GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.
    static func slug(_ heading: String) -> String {
        String(heading.lowercased().compactMap { $0 == " " ? "-" : ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") ? $0 : nil })
    }

    @Test func everyAreaOfTheCatalogueHasItsAnchor() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let headings = text.split(separator: "\n").filter { $0.hasPrefix("## ") }.map { String($0.dropFirst(3)) }
        let anchors = Set(headings.map(Self.slug))
        for (area, anchor) in SARIFRenderer.areaAnchors {
            #expect(anchors.contains(anchor), "\(area): #\(anchor) is not a heading of docs/checks.md")
        }
        let areas = try headings.compactMap { heading -> String? in
            try Regex(#"\(`([a-z-]+)\.\*`\)"#).firstMatch(in: heading).flatMap { $0.output[1].substring.map(String.init) }
        }
        #expect(Set(areas).isSubset(of: Set(SARIFRenderer.areaAnchors.keys)), "areas: \(areas)")
    }
}
