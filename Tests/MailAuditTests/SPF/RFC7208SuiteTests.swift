import Foundation
import MailAuditCore
import MailAuditRecords
import MailAuditTesting
import Testing
import Yams

/// The openspf.org RFC 7208 test suite (release 2014.04), run case by case through
/// ``SPFEvaluator/checkHost(ip:mailFrom:helo:)`` against a ``StaticResolver`` built from each
/// scenario's `zonedata`.
///
/// How the zone data is read, following the suite's own driver (pyspf's `testspf.py`):
/// - `SPF:` records are served as type 99, which nothing asks for since RFC 7208 dropped the
///   type. They are also copied to TXT records, appended after the name's other entries,
///   unless the name has an explicit `TXT:` entry; `TXT: NONE` is such an entry that adds
///   nothing ("spfonly" expects "none" from it).
/// - `TIMEOUT` makes a question time out unless a record of the asked type comes before it
///   in the list: "spftimeout" lists `TXT` then `TIMEOUT` and expects the TXT record to be
///   found. With nothing before it, every question at the name times out (`nameOverrides`).
/// - `explanation: DEFAULT` means the record gave no explanation: `explanation` is nil and
///   the receiver would use its own default text.
@Suite("RFC 7208 test suite")
struct RFC7208SPFSuiteTests {
    /// Cases where this implementation disagrees with the suite's expectation, each run and
    /// asserted against the behaviour chosen instead. Keyed by "scenario / test".
    static let disagreements: [String: Disagreement] = [
        "Macro expansion rules / v-macro-ip6": Disagreement(
            reason: """
                The suite expects the nibbles of %{ir} in upper case ("…E.B.A.B.E.F.A.C.ip6.arpa"). \
                RFC 7208 §7.4 expands %{ir} for 2001:db8::cb01 to lower-case nibbles \
                ("1.0.b.c.0.0…"), as does the reverse-map name of RFC 3596 §2.5; DNS names are \
                case-insensitive, so both query the same name. We follow the RFC and assert the \
                suite's explanation in lower case.
                """,
            explanation: { $0.lowercased() }),
    ]

    struct Disagreement: Sendable {
        var reason: String
        /// Turns the suite's expected explanation into the one asserted.
        var explanation: @Sendable (String) -> String
    }

    @Test("case", arguments: RFC7208Suite.cases)
    func conformance(_ suiteCase: RFC7208Suite.Case) async throws {
        let evaluation = await suiteCase.run()
        let comment = Comment(rawValue: suiteCase.trace(evaluation))
        #expect(suiteCase.results.contains(evaluation.result.rawValue), comment)
        if let expected = suiteCase.explanation {
            if expected == "DEFAULT" {
                #expect(evaluation.explanation == nil, comment)
            } else if let disagreement = Self.disagreements[suiteCase.id] {
                #expect(evaluation.explanation == disagreement.explanation(expected), "\(disagreement.reason)")
            } else {
                #expect(evaluation.explanation == expected, comment)
            }
        }
    }

    @Test("the whole suite loads and every case gives an expected result")
    func summary() async throws {
        let cases = try RFC7208Suite.load()
        #expect(cases.count == RFC7208Suite.cases.count)
        #expect(cases.count >= 150, "the suite has 180-odd cases; only \(cases.count) were read")
        var asExpected = 0
        for suiteCase in cases {
            let evaluation = await suiteCase.run()
            let resultOK = suiteCase.results.contains(evaluation.result.rawValue)
            var explanationOK = true
            if let expected = suiteCase.explanation {
                let wanted: String? = expected == "DEFAULT"
                    ? nil : (Self.disagreements[suiteCase.id]?.explanation(expected) ?? expected)
                explanationOK = evaluation.explanation == wanted
            }
            if resultOK && explanationOK { asExpected += 1 }
            if suiteCase.results.count > 1 {
                print("RFC 7208 suite: \(suiteCase.id) accepts \(suiteCase.results.joined(separator: " or ")); got \(evaluation.result)")
            }
        }
        for id in Self.disagreements.keys.sorted() {
            #expect(cases.contains { $0.id == id }, "the listed disagreement \(id) names no case")
        }
        print("RFC 7208 suite: \(cases.count) cases run, \(asExpected) as expected, \(cases.count - asExpected) not; \(Self.disagreements.count) listed disagreement(s)")
        #expect(asExpected == cases.count)
    }
}

/// The suite file read into cases.
enum RFC7208Suite {
    struct Case: Sendable, CustomTestStringConvertible {
        var scenario: String
        var name: String
        var host: IPAddress
        var mailFrom: String
        var helo: String
        var results: [String]
        var explanation: String?
        var zone: Zone

        var id: String { "\(scenario) / \(name)" }
        var testDescription: String { id }

        func run() async -> SPFEvaluation {
            let resolver = StaticResolver(records: zone.records, overrides: zone.overrides, nameOverrides: zone.nameOverrides)
            let evaluator = SPFEvaluator(resolver: resolver, receiver: "receiver.example", clock: { 1_400_000_000 })
            return await evaluator.checkHost(ip: host, mailFrom: mailFrom, helo: helo)
        }

        func trace(_ evaluation: SPFEvaluation) -> String {
            (["\(id): got \(evaluation.result), expected \(results.joined(separator: " or "))"
                + (explanation.map { "; explanation \"\($0)\", got \(evaluation.explanation.map { "\"\($0)\"" } ?? "none")" } ?? "")]
                + evaluation.trace.map { String(repeating: "  ", count: $0.depth + 1) + $0.description })
                .joined(separator: "\n")
        }
    }

    struct Zone: Sendable {
        var records: [DNSRecord] = []
        var overrides: [DNSQuestion: DNSOutcome] = [:]
        var nameOverrides: [DomainName: DNSOutcome] = [:]
    }

    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Every case, or none when the file cannot be read (``RFC7208SPFSuiteTests/summary()`` then fails).
    static let cases: [Case] = (try? load()) ?? []

    static let spfType = RRType(rawValue: 99)

    static func load() throws -> [Case] {
        guard let url = Bundle.module.url(forResource: "rfc7208-tests", withExtension: "yml", subdirectory: "Suite") else {
            throw LoadError(description: "Suite/rfc7208-tests.yml is not in the test bundle")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        var cases: [Case] = []
        for document in try Yams.load_all(yaml: text) {
            guard let scenario = document as? [String: Any], let description = scenario["description"] as? String,
                  let tests = scenario["tests"] as? [String: Any], let zonedata = scenario["zonedata"] as? [String: Any]
            else { throw LoadError(description: "a document is not a scenario") }
            let zone = try self.zone(zonedata)
            for (name, value) in tests.sorted(by: { $0.key < $1.key }) {
                guard let test = value as? [String: Any], let hostText = scalar(test["host"]),
                      let host = IPAddress(hostText), let mailFrom = scalar(test["mailfrom"]), let helo = scalar(test["helo"])
                else { throw LoadError(description: "\(description) / \(name): missing host, mailfrom or helo") }
                let results = (test["result"] as? [Any])?.compactMap(scalar) ?? scalar(test["result"]).map { [$0] } ?? []
                cases.append(Case(
                    scenario: description, name: name, host: host, mailFrom: mailFrom, helo: helo, results: results,
                    explanation: scalar(test["explanation"]), zone: zone))
            }
        }
        return cases
    }

    static func scalar(_ value: Any?) -> String? {
        switch value {
        case let text as String: text
        case let number as Int: String(number)
        default: nil
        }
    }

    static func name(_ text: String) -> DomainName {
        let trimmed = text.hasSuffix(".") ? String(text.dropLast()) : text
        return trimmed.isEmpty ? .root : DomainName(labels: trimmed.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
    }

    /// TXT/SPF data: one string, or a list of strings.
    static func strings(_ value: Any) -> [[UInt8]] {
        if let list = value as? [Any] { return list.compactMap(scalar).map { Array($0.utf8) } }
        return scalar(value).map { [Array($0.utf8)] } ?? []
    }

    static func zone(_ zonedata: [String: Any]) throws -> Zone {
        var zone = Zone()
        for (owner, value) in zonedata {
            let name = name(owner)
            guard let entries = value as? [Any] else { throw LoadError(description: "\(owner): entries are not a list") }
            var generatedTXT: [[[UInt8]]] = []
            var hasTXT = false
            var typesBeforeTimeout: Set<RRType>?
            var typesSoFar: Set<RRType> = []
            func add(_ type: RRType, _ data: RData) {
                zone.records.append(DNSRecord(name: name, type: type, ttl: 300, data: data))
                typesSoFar.insert(type)
            }
            for entry in entries {
                if scalar(entry) == "TIMEOUT" {
                    typesBeforeTimeout = typesBeforeTimeout ?? typesSoFar
                    continue
                }
                guard let map = entry as? [String: Any], map.count == 1, let (type, data) = map.first else {
                    throw LoadError(description: "\(owner): unreadable entry \(entry)")
                }
                switch type {
                case "SPF":
                    add(spfType, .txt(strings(data)))
                    generatedTXT.append(strings(data))
                case "TXT":
                    hasTXT = true
                    if scalar(data) != "NONE" { add(.txt, .txt(strings(data))) }
                case "A", "AAAA":
                    guard let text = scalar(data), let address = IPAddress(text) else {
                        throw LoadError(description: "\(owner): bad address \(data)")
                    }
                    type == "A" ? add(.a, .a(address)) : add(.aaaa, .aaaa(address))
                case "MX":
                    guard let pair = data as? [Any], pair.count == 2, let preference = (pair[0] as? Int).map(UInt16.init),
                          let exchange = scalar(pair[1])
                    else { throw LoadError(description: "\(owner): bad MX \(data)") }
                    add(.mx, .mx(preference: preference, exchange: self.name(exchange)))
                case "PTR":
                    add(.ptr, .ptr(self.name(scalar(data) ?? "")))
                case "CNAME":
                    add(.cname, .cname(self.name(scalar(data) ?? "")))
                default:
                    throw LoadError(description: "\(owner): unknown type \(type)")
                }
            }
            if !hasTXT {
                for strings in generatedTXT {
                    zone.records.append(DNSRecord(name: name, type: .txt, ttl: 300, data: .txt(strings)))
                }
            }
            if let typesBeforeTimeout {
                if typesBeforeTimeout.isEmpty {
                    zone.nameOverrides[name] = .timeout
                } else {
                    for type in [RRType.a, .aaaa, .mx, .txt, .ptr, .cname] where !typesBeforeTimeout.contains(type) {
                        zone.overrides[DNSQuestion(name, type)] = .timeout
                    }
                }
            }
        }
        return zone
    }
}
