@testable import MailAudit
import MailAuditDNS
import MailAuditRecords
import MailAuditTesting
import Testing

/// Where the record's text and what receivers apply differ (issue 12, DMARC verdicts where the
/// RFC and mailaudit disagreed): test mode, a record with no policy, an invalid tag.
@Suite("DMARC: the policy in force")
struct DMARCPolicyInForceTests {
    func check(_ record: String, domain: String = "example.test") async throws -> (DMARCResult, [Finding]) {
        let resolver = try StaticResolver(zone: "_dmarc.example.test. TXT \"\(record)\"")
        let result = await DMARCLookup(resolver: CachingResolver(upstream: resolver)).run(for: try DomainName(parsing: domain))
        return (result, result.findings)
    }

    static let rua = "rua=mailto:d@example.test"

    @Test(arguments: [
        ("v=DMARC1; p=quarantine; t=y; \(rua)", "example.test", DMARCPolicy.none, "p=quarantine applies as none"),
        ("v=DMARC1; p=reject; t=y; \(rua)", "example.test", .quarantine, "p=reject applies as quarantine"),
        ("v=DMARC1; p=reject; sp=quarantine; t=y; \(rua)", "mail.example.test", .none, "sp=quarantine (np=quarantine for names that do not exist) applies as none"),
    ])
    func testModeAppliesOneLevelLess(record: String, domain: String, inForce: DMARCPolicy, phrase: String) async throws {
        let (result, findings) = try await check(record, domain: domain)
        #expect(result.policyInForce == inForce)
        let verdict = try #require(findings.first { $0.id == "dmarc.record" })
        #expect(verdict.message.contains(phrase), "\(verdict.message)")
        #expect(verdict.facts["inForce"] == .text(inForce.rawValue))
        let testing = try #require(findings.first { $0.id == "dmarc.testing" })
        #expect(testing.message.contains("is applied as \(inForce.rawValue)"), "\(testing.message)")
    }

    @Test func testModeQuarantineIsNoEnforcementForTheAuthenticationRule() async throws {
        let (result, _) = try await check("v=DMARC1; p=quarantine; t=y; \(Self.rua)")
        let context = DMARCContext(spfPublished: false, spfBroken: false, dkimKeysFound: 0, dkimSelectorsTried: 3)
        #expect(DMARCRules.authenticationFinding(for: result, context: context) == nil, "nothing is quarantined in test mode")
        let (enforcing, _) = try await check("v=DMARC1; p=quarantine; \(Self.rua)")
        #expect(DMARCRules.authenticationFinding(for: enforcing, context: context) != nil)
    }

    @Test func aRecordWithNoPolicyAndNoReportsPutsNoPolicyInForce() async throws {
        let (result, findings) = try await check("v=DMARC1")
        #expect(result.policyInForce == nil)
        #expect(!findings.contains { $0.id == "dmarc.record" }, "not 'covered by DMARC'")
        #expect(!findings.contains { $0.id == "dmarc.policy-none" || $0.id == "dmarc.no-rua" }, "one finding says it all")
        let none = try #require(findings.first { $0.id == "dmarc.no-policy" })
        #expect(none.severity == .warning)
        #expect(none.message.contains("puts no DMARC policy in force"))
        #expect(none.remedy?.contains(#"_dmarc.example.test. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.test""#) == true,
                "\(none.remedy ?? "")")
    }

    @Test func noPButAReportAddressActsAsNone() async throws {
        let (result, findings) = try await check("v=DMARC1; \(Self.rua)")
        #expect(result.policyInForce == DMARCPolicy.none)
        #expect(findings.contains { $0.id == "dmarc.record" } && findings.contains { $0.id == "dmarc.policy-none" })
        #expect(!findings.contains { $0.id == "dmarc.no-policy" })
    }

    @Test(arguments: [
        ("v=DMARC1; p=reject; fo=0:1; \(rua)", "p=reject applies; receivers ignore the invalid fo tag", "dmarc.record"),
        ("v=DMARC1; p=quarantine; adkim=x; t=y; \(rua)", "p=quarantine applies as none", "dmarc.record"),
        ("v=DMARC1; p=block; \(rua)", "p=none applies; receivers ignore the invalid p tag", "dmarc.record"),
        ("v=DMARC1; p=block", "its policy tag is invalid and it has no rua tag", "dmarc.no-policy"),
    ])
    func anInvalidTagShowsTheErrorAndThePolicyStillApplied(record: String, phrase: String, id: String) async throws {
        let (_, findings) = try await check(record)
        #expect(findings.filter { $0.id == "dmarc.syntax-error" }.count == 1, "the syntax error stays")
        let verdict = try #require(findings.first { $0.id.rawValue == id }, "\(findings.map(\.id))")
        #expect(verdict.message.contains(phrase), "\(verdict.message)")
    }

    @Test func anInvalidSPIsNoPolicyForASubdomain() async throws {
        let (_, findings) = try await check("v=DMARC1; p=reject; sp=quarantin; \(Self.rua)", domain: "mail.example.test")
        let verdict = try #require(findings.first { $0.id == "dmarc.record" })
        #expect(verdict.message.contains("sp=none"), "§4.10.1: the applicable sp is invalid, so p=none with a valid rua: \(verdict.message)")
    }
}
