@testable import MailAudit
import MailAuditDNS
import MailAuditRecords
import MailAuditTesting
import Testing

@Suite("DMARC verdicts")
struct DMARCRulesTests {
    func check(_ zone: String, domain: String = "example.test", overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> (DMARCResult, [Finding]) {
        let resolver = try StaticResolver(zone: zone, overrides: overrides)
        let result = await DMARCLookup(resolver: CachingResolver(upstream: resolver)).run(for: try DomainName(parsing: domain))
        return (result, result.findings)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var zone: String
        var domain = "example.test"
        var id: String
        var severity: Severity
        var why: String
        var testDescription: String { "\(id): \(why)" }
    }

    static let rua = "rua=mailto:d@example.test"

    static let cases: [Case] = [
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; \(rua)\"", id: "dmarc.record", severity: .pass, why: "an own record"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; \(rua)\"", domain: "mail.example.test",
             id: "dmarc.record", severity: .pass, why: "a subdomain covered through the tree walk"),
        Case(zone: "example.test. TXT \"v=spf1 -all\"", id: "dmarc.none", severity: .warning, why: "no record anywhere"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=none; \(rua)\"", id: "dmarc.policy-none", severity: .warning, why: "monitoring only"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; \(rua)\"", id: "dmarc.policy-none", severity: .warning, why: "no p counts as none"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; sp=none; \(rua)\"", domain: "mail.example.test",
             id: "dmarc.policy-none", severity: .warning, why: "sp=none applies to the subdomain"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; t=y; \(rua)\"", id: "dmarc.testing", severity: .warning, why: "t=y"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; sp=quarantine; \(rua)\"",
             id: "dmarc.weak-subdomain-policy", severity: .warning, why: "sp weaker than p"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=quarantine; np=none; \(rua)\"",
             id: "dmarc.weak-subdomain-policy", severity: .warning, why: "np weaker than p"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject\"", id: "dmarc.no-rua", severity: .warning, why: "nobody sees the reports"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; pct=50; \(rua)\"", id: "dmarc.removed-tag", severity: .warning, why: "pct has no effect"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; ri=3600; \(rua)\"", id: "dmarc.removed-tag", severity: .warning, why: "ri has no effect"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; colour=blue; \(rua)\"", id: "dmarc.unknown-tag", severity: .info, why: "ignored"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=block; \(rua)\"", id: "dmarc.syntax-error", severity: .failure, why: "a bad p"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; rua=reports@example.test\"", id: "dmarc.bad-report-uri",
             severity: .failure, why: "an address without mailto:"),
        Case(zone: "_dmarc.example.test. TXT \"p=reject; v=DMARC1\"", id: "dmarc.syntax-error", severity: .failure,
             why: "v not first: receivers ignore the record"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject\"\n_dmarc.example.test. TXT \"v=DMARC1; p=none\"",
             id: "dmarc.multiple-records", severity: .failure, why: "two records"),
        Case(zone: "_dmarc.test. TXT \"v=DMARC1; p=reject; psd=y\"", id: "dmarc.governed-by-psd", severity: .warning,
             why: "only the public suffix's policy covers the domain"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; rua=https://r.example.test/x\"",
             id: "dmarc.report-uri-not-mailto", severity: .warning, why: "receivers need only support mailto"),
        Case(zone: """
            _dmarc.example.test. TXT "v=DMARC1; p=reject; rua=mailto:agg@reports.test"
            example.test._report._dmarc.reports.test. TXT "v=DMARC1"
            """, id: "dmarc.external-report-authorised", severity: .pass, why: "an external destination that agrees"),
        Case(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; rua=mailto:agg@reports.test\"",
             id: "dmarc.external-report-unauthorised", severity: .failure, why: "an external destination that does not agree"),
    ]

    @Test("one finding per rule", arguments: cases)
    func rule(_ test: Case) async throws {
        let (_, findings) = try await check(test.zone, domain: test.domain)
        let matching = findings.filter { $0.id.rawValue == test.id }
        #expect(matching.map(\.severity) == [test.severity], "got \(findings.map { "\($0.id) \($0.severity)" })")
        for finding in findings where finding.severity > .info {
            #expect(finding.remedy != nil, "\(finding.id) has a remedy")
            #expect(finding.reference != nil, "\(finding.id) has a reference")
        }
    }

    @Test func theReportSaysWhichRecordGovernsAndWhy() async throws {
        let (result, findings) = try await check("_dmarc.example.test. TXT \"v=DMARC1; p=reject; sp=quarantine; \(Self.rua)\"",
                                                 domain: "a.mail.example.test")
        let record = try #require(findings.first { $0.id == "dmarc.record" })
        #expect(record.message.contains("_dmarc.example.test"))
        #expect(record.message.contains("inherited by the DNS tree walk"))
        #expect(record.message.contains("sp=quarantine"))
        #expect(record.evidence.contains { $0.hasPrefix("_dmarc.a.mail.example.test. TXT: NXDOMAIN") })
        #expect(record.evidence.contains { $0.contains("governs a.mail.example.test") })
        #expect(result.applicablePolicy == .quarantine)
    }

    @Test func remediesHoldACompleteRecordThatParses() async throws {
        let (_, findings) = try await check("_dmarc.example.test. TXT \"v=DMARC1; p=none; sp=none; pct=20; t=y\"")
        let remedies = findings.compactMap(\.remedy).filter { $0.contains("IN TXT") }
        #expect(remedies.count >= 3)
        for remedy in remedies {
            let quoted = try #require(remedy.split(separator: "\"").dropFirst().first)
            let record = try DMARCRecord(parsing: String(quoted))
            #expect(record.removedTags.isEmpty && record.testing == nil && record.aggregateReportURIs?.isEmpty == false,
                    "\(remedy)")
        }
        let none = try #require(findings.first { $0.id == "dmarc.policy-none" }?.remedy)
        #expect(none.contains("p=quarantine"), "the suggestion moves to enforcement")
    }

    @Test func unauthorisedDestinationGivesTheRecordToPublish() async throws {
        let (_, findings) = try await check("_dmarc.example.test. TXT \"v=DMARC1; p=reject; rua=mailto:agg@reports.test\"")
        let finding = try #require(findings.first { $0.id == "dmarc.external-report-unauthorised" })
        #expect(finding.remedy?.contains("example.test._report._dmarc.reports.test. IN TXT \"v=DMARC1\"") == true)
    }

    @Test func destinationsInsideTheOrganisationNeedNoAuthorisation() async throws {
        let (result, findings) = try await check("""
            _dmarc.example.test. TXT "v=DMARC1; p=reject; rua=mailto:a@example.test,mailto:b@reports.example.test"
            """, domain: "mail.example.test")
        #expect(!findings.contains { $0.id.rawValue.hasPrefix("dmarc.external") }, "\(findings.map(\.id))")
        #expect(result.destinations.count == 2)
    }

    @Test func failedLookupsAreInconclusiveNeverNone() async throws {
        let (_, findings) = try await check("_dmarc.example.test. TXT \"v=DMARC1; p=reject\"",
                                            overrides: [DNSQuestion(try DomainName(parsing: "_dmarc.example.test"), .txt): .timeout])
        #expect(findings.map(\.id) == ["dmarc.lookup-failed"])
        #expect(findings.first?.severity == .inconclusive)
    }

    @Test func aFailedAuthorisationLookupIsInconclusive() async throws {
        let (_, findings) = try await check(
            "_dmarc.example.test. TXT \"v=DMARC1; p=reject; rua=mailto:agg@reports.test\"",
            overrides: [DNSQuestion(try DomainName(parsing: "example.test._report._dmarc.reports.test"), .txt): .serverFailure(rcode: 2)])
        #expect(findings.first { $0.id == "dmarc.external-report-lookup-failed" }?.severity == .inconclusive)
    }

    /// (SPF published, SPF broken, DKIM keys found, policy, warns, why).
    static let contexts: [(Bool, Bool, Int?, String, Bool, String)] = [
        (false, false, 0, "reject", true, "no SPF and no DKIM key: legitimate mail may be rejected"),
        (true, true, 0, "quarantine", true, "broken SPF and no DKIM key"),
        (true, false, 0, "reject", false, "SPF works"),
        (false, false, 1, "reject", false, "a DKIM key was found"),
        (false, false, nil, "reject", false, "DKIM could not be checked: claim nothing"),
        (false, false, 0, "none", false, "p=none enforces nothing"),
    ]

    @Test("enforcing without SPF or DKIM", arguments: contexts)
    func againstSPFAndDKIM(_ spf: Bool, _ broken: Bool, _ keys: Int?, _ policy: String, _ warns: Bool, _ why: String) async throws {
        let (result, _) = try await check("_dmarc.example.test. TXT \"v=DMARC1; p=\(policy); \(Self.rua)\"")
        let context = DMARCContext(spfPublished: spf, spfBroken: broken, dkimKeysFound: keys, dkimSelectorsTried: 25)
        let finding = result.findings(context: context).first { $0.id == "dmarc.enforcing-without-authentication" }
        #expect((finding != nil) == warns, "\(why)")
        #expect(finding.map { $0.severity == .warning } ?? true)
    }

    @Test func noSelectorAskedBecauseNothingExistsUnderDomainKey() async throws {
        let (result, _) = try await check("_dmarc.example.test. TXT \"v=DMARC1; p=reject; \(Self.rua)\"")
        let context = DMARCContext(spfPublished: false, spfBroken: false, dkimKeysFound: 0, dkimSelectorsTried: 0)
        let finding = try #require(result.findings(context: context).first { $0.id == "dmarc.enforcing-without-authentication" })
        #expect(finding.message.contains("nothing exists under _domainkey.example.test"), "\(finding.message)")
        #expect(!finding.message.contains("0 selectors"))
    }

    @Test func contextFromTheSPFTreeAndDKIMResult() async throws {
        let domain = try DomainName(parsing: "example.test")
        let resolver = try StaticResolver(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; \(Self.rua)\"")
        let dkim = await DKIMLookup(resolver: resolver, selectors: ["s1"]).run(for: domain)
        let spf = SPFNode(domain: domain, term: "example.test", link: .root, answer: nil, content: .none, children: [], termLookups: [])
        let context = DMARCContext(spf: spf, dkim: dkim)
        #expect(context == DMARCContext(spfPublished: false, spfBroken: false, dkimKeysFound: 0, dkimSelectorsTried: 1))
        let dmarc = await DMARCLookup(resolver: resolver).run(for: domain)
        #expect(dmarc.findings(context: context).contains { $0.id == "dmarc.enforcing-without-authentication" })
    }
}
