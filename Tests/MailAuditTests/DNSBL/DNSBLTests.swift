@testable import MailAudit
import MailAuditConfig
import MailAuditDNS
import MailAuditRecords
import MailAuditTesting
import Testing

@Suite("DNS blocklists")
struct DNSBLTests {
    static let zone = DomainName(labels: ["bl", "example"])

    /// (address, the query name, why).
    static let names: [(String, String, String)] = [
        ("127.0.0.2", "2.0.0.127.bl.example", "RFC 5782 §2.1's own example: the octets reversed"),
        ("192.0.2.99", "99.2.0.192.bl.example", "a documentation address"),
        ("2001:db8:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.bl.example",
         "RFC 5782 §2.4's example: 32 nibbles reversed"),
        ("::1", "1." + String(repeating: "0.", count: 31) + "bl.example", "leading zero nibbles are written out"),
    ]

    @Test("addresses are reversed into the list's zone (RFC 5782 §2.1, §2.4)", arguments: names)
    func queryName(_ address: String, _ name: String, _ why: String) throws {
        let ip = try #require(IPAddress(address))
        #expect(ip.dnsblName(in: Self.zone).description == name, "\(why)")
        #expect(ip.dnsblName(in: Self.zone).labels.count == (ip.isIPv6 ? 32 : 4) + 2)
    }

    static func answer(_ outcome: DNSOutcome) -> DNSAnswer {
        DNSAnswer(question: DNSQuestion(Self.zone, .a), outcome: outcome)
    }

    static func a(_ codes: String...) -> DNSOutcome {
        .records(codes.map { DNSRecord(name: Self.zone, type: .a, ttl: 60, data: .a(IPAddress($0)!)) })
    }

    /// (outcome, response, why).
    static let responses: [(DNSOutcome, DNSBLResponse, String)] = [
        (a("127.0.0.2"), .listed(codes: [.v4([127, 0, 0, 2])]), "an A record in 127.0.0.0/8 is a listing"),
        (a("127.0.0.4", "127.0.0.10"), .listed(codes: [.v4([127, 0, 0, 4]), .v4([127, 0, 0, 10])]), "several codes, several sublists"),
        (.nxDomain, .notListed, "NXDOMAIN: not listed"),
        (.noData, .notListed, "a name with no A record lists nothing"),
        (.timeout, .lookupFailed(.timeout), "a timeout says nothing"),
        (.serverFailure(rcode: 2), .lookupFailed(.serverFailure(rcode: 2)), "SERVFAIL says nothing"),
        (a("198.51.100.7"), .invalidAnswer(codes: [.v4([198, 51, 100, 7])], reason: "it answered 198.51.100.7, outside 127.0.0.0/8, where every listing code lies"),
         "a code outside 127.0.0.0/8 is no listing"),
        (a("127.255.255.254"), .invalidAnswer(codes: [.v4([127, 255, 255, 254])],
            reason: "it answered 127.255.255.254, an error code: the list refuses queries from this resolver (a public resolver, or over its limit)"),
         "Spamhaus's error code for a public resolver"),
    ]

    @Test("an A answer is read as a listing, or not (RFC 5782 §2.1)", arguments: responses)
    func response(_ outcome: DNSOutcome, _ expected: DNSBLResponse, _ why: String) {
        #expect(DNSBLResponse(Self.answer(outcome)) == expected, "\(why)")
    }

    static let listed = DNSBLResponse.listed(codes: [.v4([127, 0, 0, 2])])

    /// (127.0.0.2's answer, 127.0.0.1's answer, working, why).
    static let healths: [(DNSBLResponse, DNSBLResponse, Bool, String)] = [
        (listed, .notListed, true, "127.0.0.2 listed, 127.0.0.1 not: RFC 5782 §5"),
        (.notListed, .notListed, false, "127.0.0.2 must be listed"),
        (listed, listed, false, "127.0.0.1 must not be: the list answers everything"),
        (.lookupFailed(.timeout), .notListed, false, "a list that does not answer is not working"),
        (listed, .lookupFailed(.serverFailure(rcode: 2)), false, "nor is one that fails half the time"),
        (.invalidAnswer(codes: [], reason: "x"), .notListed, false, "nor one that answers outside 127.0.0.0/8"),
    ]

    @Test("a list is trusted only when its test entries are right (RFC 5782 §5)", arguments: healths)
    func health(_ listedTest: DNSBLResponse, _ unlistedTest: DNSBLResponse, _ working: Bool, _ why: String) {
        let health = DNSBLHealth(listedTest: listedTest, unlistedTest: unlistedTest)
        #expect(health.isWorking == working, "\(why)")
        #expect(health.problems.isEmpty == working)
    }

    /// (text, parses, why).
    static let zones: [(String, Bool, String)] = [
        ("zen.spamhaus.org", true, "a list's zone"),
        ("bl.test.", true, "a trailing dot"),
        ("127.0.0.2", false, "an address, not a zone"),
        ("single", false, "one label"),
        (String(repeating: "a.", count: 91) + "example", true, "191 octets: an IPv6 query (64 more) just fits in 255"),
        (String(repeating: "a.", count: 92) + "example", false, "193 octets: an IPv6 query would not"),
    ]

    @Test("--dnsbl takes a zone any query fits under", arguments: zones)
    func zoneName(_ text: String, _ parses: Bool, _ why: String) {
        #expect(((try? DNSBLZone.parse(text)) != nil) == parses, "\(why)")
    }

    @Test func theRunConfigNamesListsInDefaults() throws {
        let toml = RunConfigurationTests.base.replacingOccurrences(
            of: "[[domain]]", with: "[defaults]\ndnsbl = [\"zen.example\", \"bl.example\"]\n[[domain]]")
        let configuration = try RunConfiguration.parse(toml, file: "t.toml")
        #expect(configuration.defaults.dnsblZones.map(\.description) == ["zen.example", "bl.example"])
        #expect(RunPipeline(configuration: configuration).auditOptions().dnsblZones == configuration.defaults.dnsblZones)
        #expect(try RunConfiguration.parse(configuration.description, file: "rendered") == configuration, "rendered and parsed again")
        #expect(try RunConfiguration.parse(RunConfigurationTests.base, file: "t.toml").defaults.dnsblZones.isEmpty, "none by default")

        let bad = toml.replacingOccurrences(of: "\"bl.example\"", with: "\"127.0.0.2\"")
        #expect(throws: ConfigError.self) { try RunConfiguration.parse(bad, file: "t.toml") }
        do { _ = try RunConfiguration.parse(bad, file: "t.toml") } catch {
            #expect(error.problems.map(\.keyPath) == ["defaults.dnsbl[1]"])
        }
    }

    // MARK: Through the auditor, against the in-memory resolver

    static let lists = """
        example.test. MX 10 mx1.example.test.
        mx1.example.test. A 192.0.2.1
        mx1.example.test. AAAA 2001:db8::1
        2.0.0.127.good.bl. A 127.0.0.2
        1.2.0.192.good.bl. A 127.0.0.4
        1.2.0.192.good.bl. TXT "listed: see https://good.bl/192.0.2.1"
        2.0.0.127.clean.bl. A 127.0.0.2
        2.0.0.127.all.bl. A 127.0.0.2
        1.0.0.127.all.bl. A 127.0.0.2
        """

    func audit(lists: [String], senders: [String] = [], overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> ([Finding], StaticResolver) {
        let resolver = try StaticResolver(zone: Self.lists, overrides: overrides)
        var options = AuditOptions()
        options.checks = [.dnsbl]
        options.dnsblZones = try lists.map { try DNSBLZone.parse($0) }
        options.sendingAddresses = senders.compactMap(IPAddress.init)
        let report = await Auditor(resolver: CachingResolver(upstream: resolver), options: options).audit(try DomainName(parsing: "example.test"))
        return (report.findings.filter { $0.id.area == "dnsbl" }, resolver)
    }

    func ids(_ findings: [Finding]) -> [String] { findings.map { "\($0.id) \($0.severity) \($0.subject)" } }

    @Test func noListsMeansNoQueries() async throws {
        let (findings, resolver) = try await audit(lists: [])
        #expect(findings.isEmpty)
        #expect(!resolver.questionsAsked.contains { $0.name.description.hasSuffix(".bl") })
    }

    @Test func aListingNamesTheListTheCodeAndTheReason() async throws {
        let (findings, _) = try await audit(lists: ["good.bl", "clean.bl"], senders: ["198.51.100.9"])
        #expect(ids(findings) == [
            "dnsbl.listed failure mx1.example.test [192.0.2.1]",
            "dnsbl.not-listed pass mx1.example.test [2001:db8::1]",
            "dnsbl.not-listed pass 198.51.100.9",
        ])
        let listed = try #require(findings.first)
        #expect(listed.facts["list"] == .text("good.bl"))
        #expect(listed.facts["codes"] == .list(["127.0.0.4"]))
        #expect(listed.facts["reason"] == .text("listed: see https://good.bl/192.0.2.1"))
        #expect(listed.message.contains("listed: see https://good.bl/192.0.2.1"))
        #expect(findings[1].facts["lists"] == .list(["good.bl", "clean.bl"]))
    }

    @Test func aListThatAnswersEverythingIsNotWorkingAndNeverAskedAboutAnAddress() async throws {
        let (findings, resolver) = try await audit(lists: ["all.bl"])
        #expect(ids(findings) == ["dnsbl.list-not-working inconclusive all.bl"])
        #expect(findings.first?.facts["addresses"] == .list(["192.0.2.1", "2001:db8::1"]))
        #expect(!resolver.questionsAsked.contains { $0.name.labels.first == "1" && $0.name.labels[1] == "2" }, "192.0.2.1 was not asked")
    }

    @Test func aListWithoutItsTestEntryIsNotWorking() async throws {
        let (findings, _) = try await audit(lists: ["missing.bl", "clean.bl"])
        #expect(ids(findings) == [
            "dnsbl.list-not-working inconclusive missing.bl",
            "dnsbl.not-listed pass mx1.example.test [192.0.2.1]",
            "dnsbl.not-listed pass mx1.example.test [2001:db8::1]",
        ])
        #expect(findings.first?.message.contains("127.0.0.2, which every list must list, is not listed") == true)
    }

    @Test func aTimeoutIsInconclusiveNeverNotListed() async throws {
        let testEntry = DNSQuestion(try DomainName(parsing: "1.0.0.127.clean.bl"), .a)
        let (broken, _) = try await audit(lists: ["clean.bl"], overrides: [testEntry: .timeout])
        #expect(ids(broken) == ["dnsbl.list-not-working inconclusive clean.bl"])

        let address = DNSQuestion(try DomainName(parsing: "1.2.0.192.clean.bl"), .a)
        let (findings, _) = try await audit(lists: ["clean.bl"], overrides: [address: .serverFailure(rcode: 2)])
        #expect(ids(findings) == [
            "dnsbl.lookup-failed inconclusive mx1.example.test [192.0.2.1]",
            "dnsbl.not-listed pass mx1.example.test [2001:db8::1]",
        ])
    }

    @Test func anAddressThatIsBothMXAndSenderIsAskedOnce() async throws {
        let (findings, resolver) = try await audit(lists: ["clean.bl"], senders: ["192.0.2.1"])
        #expect(ids(findings).first == "dnsbl.not-listed pass mx1.example.test [192.0.2.1]")
        #expect(findings.first?.message.contains("MX and sending address") == true)
        #expect(resolver.repeatedQuestions.isEmpty)
    }
}
