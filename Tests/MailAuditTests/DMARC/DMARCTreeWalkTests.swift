import MailAuditCore
import MailAuditRecords
import MailAuditTesting
import Testing

@Suite("DMARC DNS tree walk (RFC 9989 §4.10)")
struct DMARCTreeWalkTests {
    func name(_ text: String) throws -> DomainName { try DomainName(parsing: text) }

    /// (domain, the domains whose _dmarc names are asked, why).
    static let walks: [(String, [String], String)] = [
        ("example.com", ["example.com", "com"], "the domain, then its parent"),
        ("a.mail.example.com", ["a.mail.example.com", "mail.example.com", "example.com", "com"], "one label at a time"),
        ("a.b.c.d.e.f.g.h.i.j.mail.example.com",
         ["a.b.c.d.e.f.g.h.i.j.mail.example.com", "g.h.i.j.mail.example.com", "h.i.j.mail.example.com", "i.j.mail.example.com",
          "j.mail.example.com", "mail.example.com", "example.com", "com"],
         "more than eight labels: jump to the last seven (the RFC's own example, eight queries)"),
        ("a.b.c.d.e.f.example.com",
         ["a.b.c.d.e.f.example.com", "b.c.d.e.f.example.com", "c.d.e.f.example.com", "d.e.f.example.com", "e.f.example.com",
          "f.example.com", "example.com", "com"],
         "exactly eight labels: the parent has seven"),
    ]

    @Test("the names asked", arguments: walks)
    func names(_ domain: String, _ expected: [String], _ why: String) throws {
        let names = DMARCTreeWalk.names(from: try name(domain)).map(\.description)
        #expect(names == expected, "\(why)")
        #expect(names.count <= DMARCTreeWalk.maximumQueries)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var zone: String
        var domain: String
        /// The domain whose record governs, or nil.
        var governing: String?
        var source: DMARCDiscovery.Source?
        var organizational: String?
        var why: String
        var testDescription: String { why }
    }

    static let cases: [Case] = [
        Case(zone: "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"", domain: "example.com",
             governing: "example.com", source: .ownRecord, organizational: "example.com", why: "a domain with its own record"),
        Case(zone: "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"", domain: "mail.example.com",
             governing: "example.com", source: .organizationalDomain, organizational: "example.com",
             why: "a subdomain inherits the Organizational Domain's record"),
        Case(zone: """
            _dmarc.mail.example.com. TXT "v=DMARC1; p=none"
            _dmarc.example.com. TXT "v=DMARC1; p=reject"
            """, domain: "a.mail.example.com", governing: "example.com", source: .organizationalDomain, organizational: "example.com",
             why: "the record with the fewest labels is the Organizational Domain (RFC 9989 §4.10.2 rule 3)"),
        Case(zone: """
            _dmarc.mail.example.com. TXT "v=DMARC1; p=none; psd=n"
            _dmarc.example.com. TXT "v=DMARC1; p=reject"
            """, domain: "a.mail.example.com", governing: "mail.example.com", source: .organizationalDomain,
             organizational: "mail.example.com", why: "psd=n makes its domain the Organizational Domain and stops the walk (rule 1)"),
        Case(zone: """
            _dmarc.giant.bank.example. TXT "v=DMARC1; p=quarantine"
            _dmarc.bank.example. TXT "v=DMARC1; p=reject; psd=y"
            """, domain: "giant.bank.example", governing: "giant.bank.example", source: .ownRecord,
             organizational: "giant.bank.example", why: "RFC 9989 B.4.3: one label below a psd=y record"),
        Case(zone: """
            _dmarc.giant.bank.example. TXT "v=DMARC1; p=quarantine"
            _dmarc.bank.example. TXT "v=DMARC1; p=reject; psd=y"
            """, domain: "mail.giant.bank.example", governing: "giant.bank.example", source: .organizationalDomain,
             organizational: "giant.bank.example", why: "RFC 9989 B.4.3: the MAIL FROM domain's walk"),
        Case(zone: "_dmarc.bank.example. TXT \"v=DMARC1; p=reject; psd=y\"", domain: "mail.mega.bank.example",
             governing: "bank.example", source: .publicSuffixDomain, organizational: "mega.bank.example",
             why: "RFC 9989 B.4.3: no record below the PSD, so the PSD's record governs"),
        Case(zone: "_dmarc.bank.example. TXT \"v=DMARC1; p=reject; psd=y\"", domain: "bank.example",
             governing: "bank.example", source: .ownRecord, organizational: "bank.example",
             why: "psd=y at the starting domain: it is its own Organizational Domain"),
        Case(zone: "example.com. TXT \"v=spf1 -all\"", domain: "example.com",
             governing: nil, source: nil, organizational: "example.com", why: "no record anywhere: the domain is its own"),
        Case(zone: """
            _dmarc.mail.example.com. TXT "v=DMARC1; p=none"
            _dmarc.mail.example.com. TXT "v=DMARC1; p=reject"
            _dmarc.example.com. TXT "v=DMARC1; p=quarantine"
            """, domain: "mail.example.com", governing: "example.com", source: .organizationalDomain, organizational: "example.com",
             why: "two records at a name are discarded, so the walk goes on"),
        Case(zone: "_dmarc.example.com. TXT \"v=DMARC1; p=bogus\"", domain: "example.com",
             governing: "example.com", source: .ownRecord, organizational: "example.com",
             why: "a record that does not parse still counts as the record at its name"),
        Case(zone: "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"", domain: "a.b.c.d.e.f.g.h.i.example.com",
             governing: "example.com", source: .organizationalDomain, organizational: "example.com",
             why: "a long name still reaches the Organizational Domain within eight queries"),
    ]

    @Test("governing record and Organizational Domain", arguments: cases)
    func discover(_ test: Case) async throws {
        let resolver = try StaticResolver(zone: test.zone)
        let discovery = await DMARCTreeWalk(resolver: resolver).discover(try name(test.domain))
        #expect(discovery.governing?.domain.description == test.governing)
        #expect(discovery.source == test.source)
        #expect(discovery.organizationalDomain?.description == test.organizational)
        #expect(discovery.failedStep == nil)
        #expect(resolver.questionsAsked.count <= DMARCTreeWalk.maximumQueries)
        #expect(resolver.repeatedQuestions.isEmpty)
    }

    @Test func aFailedLookupAboveTheDomainLeavesTheOrganizationalDomainUnknown() async throws {
        let resolver = try StaticResolver(
            zone: "_dmarc.mail.example.com. TXT \"v=DMARC1; p=reject\"",
            overrides: [DNSQuestion(try name("_dmarc.example.com"), .txt): .timeout])
        let discovery = await DMARCTreeWalk(resolver: resolver).discover(try name("mail.example.com"))
        #expect(discovery.governing?.domain.description == "mail.example.com", "the own record is known")
        #expect(discovery.organizationalDomain == nil)
        #expect(discovery.failedStep?.domain.description == "example.com")
        #expect(discovery.steps.count == 2, "the walk stops at the failure")
    }

    @Test func aFailedLookupOfTheDomainLeavesThePolicyUnknown() async throws {
        let resolver = try StaticResolver(
            zone: "_dmarc.example.com. TXT \"v=DMARC1; p=reject\"",
            overrides: [DNSQuestion(try name("_dmarc.mail.example.com"), .txt): .serverFailure(rcode: 2)])
        let discovery = await DMARCTreeWalk(resolver: resolver).discover(try name("mail.example.com"))
        #expect(discovery.governing == nil, "never \"no DMARC\" when the first lookup failed")
        #expect(discovery.failedStep?.domain.description == "mail.example.com")
    }

    @Test func stepsAfterTheStopAreNotUsed() async throws {
        let resolver = try StaticResolver(zone: """
            _dmarc.mail.example.com. TXT "v=DMARC1; p=none; psd=n"
            """, overrides: [DNSQuestion(try name("_dmarc.com"), .txt): .timeout])
        let discovery = await DMARCTreeWalk(resolver: resolver).discover(try name("mail.example.com"))
        #expect(discovery.steps.map(\.domain.description) == ["mail.example.com"])
        #expect(discovery.failedStep == nil, "a failure past psd=n does not matter")
        #expect(discovery.organizationalDomain?.description == "mail.example.com")
    }
}
