import MailAudit
import MailAuditDNS
import MailAuditRecords
import MailAuditTesting
import MailAuditTLS
import Testing

@Suite("DKIM selectors and verdicts")
struct DKIMCheckTests {
    let domain: DomainName

    init() throws { domain = try DomainName(parsing: "example.test") }

    func check(_ zone: String, selectors: [String] = [], overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> (DKIMResult, StaticResolver) {
        let resolver = try StaticResolver(zone: zone, overrides: overrides)
        let result = await DKIMLookup(resolver: CachingResolver(upstream: resolver), selectors: selectors).run(for: domain)
        return (result, resolver)
    }

    func record(_ kind: KeyKind, tags: String = "") async throws -> String {
        let key = try await KeyCache.shared.key(kind)
        let type = kind == .ed25519 ? "k=ed25519; " : ""
        return "\"v=DKIM1; \(type)\(tags)p=\(key.dkimBase64)\""
    }

    @Test func discoveryTriesTheCommonSelectorsAtOnceAndSaysWhatItFound() async throws {
        let zone = """
            selector1._domainkey.example.test. TXT \(try await record(.rsa(2048)))
            google._domainkey.example.test. CNAME google.keys.provider.test.
            google.keys.provider.test. TXT \(try await record(.ed25519))
            """
        let (result, resolver) = try await check(zone)
        #expect(result.selectors.count == DKIMCommonSelectors.selectors.count)
        #expect(resolver.questionsAsked.count == DKIMCommonSelectors.selectors.count + 1,
                "one question per selector, and _domainkey.example.test first (it exists, so every selector is asked)")
        #expect(result.usableKeys.map(\.selector) == ["selector1", "google"])
        let summary = try #require(result.findings.first { $0.id == "dkim.selectors" })
        #expect(summary.message.contains("selector1, google (CNAME to google.keys.provider.test)"))
        #expect(summary.evidence.first?.hasPrefix("tried \(DKIMCommonSelectors.selectors.count) selectors: selector1, selector2") == true)
        #expect(summary.evidence.contains { $0.hasPrefix("not found: selector2, default") })
        let google = try #require(result.findings.first { $0.subject.description == "google._domainkey.example.test" })
        #expect(google.id == "dkim.key" && google.message.contains("published as a CNAME to google.keys.provider.test"))
        #expect(google.evidence.contains("google._domainkey.example.test. IN CNAME google.keys.provider.test."))
    }

    @Test func findingNoneAmongTheTriedSelectorsNeverSaysNoDKIM() async throws {
        // A key at an uncommon selector: _domainkey exists, so the common ones are all asked.
        let (result, _) = try await check("rare-2019._domainkey.example.test. TXT \"v=spf1 -all\"")
        let findings = result.findings
        #expect(findings.map(\.id) == ["dkim.no-key-found"])
        let finding = try #require(findings.first)
        #expect(finding.severity == .info)
        #expect(finding.message.contains("does not mean"))
        #expect(finding.remedy?.contains("--selector") == true)
    }

    /// RFC 8020: NXDOMAIN at _domainkey means no selector exists below it: three questions,
    /// not twenty-five, and the finding says what was skipped and why.
    @Test func noDomainkeySubtreeStopsDiscoveryEarly() async throws {
        let (result, resolver) = try await check("example.test. TXT \"v=spf1 -all\"")
        #expect(resolver.questionsAsked.count == 3)
        let finding = try #require(result.findings.first)
        #expect(finding.id == "dkim.no-key-found")
        #expect(finding.message.contains("RFC 8020"))
        #expect(finding.message.contains("were not"))
    }

    /// A server that wrongly answers NXDOMAIN for _domainkey although selectors exist below it:
    /// a confirming selector exists, so every common selector is asked after all.
    @Test func aWrongNXDOMAINFallsBackToEverySelector() async throws {
        let tree = DNSQuestion(try DomainName(parsing: "_domainkey.example.test"), .txt)
        let wrong = try await check("selector1._domainkey.example.test. TXT \(try await record(.ed25519))", overrides: [tree: .nxDomain])
        #expect(wrong.0.selectors.count == DKIMCommonSelectors.selectors.count)
        #expect(wrong.0.usableKeys.map(\.selector) == ["selector1"])
    }

    @Test func aWildcardTXTRecordIsNotAKey() async throws {
        let (result, _) = try await check("selector1._domainkey.example.test. TXT \"v=spf1 -all\"")
        #expect(result.found.isEmpty)
        #expect(result.findings.first?.evidence.contains { $0.contains("wildcard") } == true)
    }

    @Test func aFailedLookupIsInconclusiveAndClaimsNothing() async throws {
        let name = try DomainName(parsing: "selector1._domainkey.example.test")
        let (result, _) = try await check("example.test. TXT \"v=spf1 -all\"", overrides: [DNSQuestion(name, .txt): .timeout])
        let ids = result.findings.map(\.id)
        #expect(ids == ["dkim.lookup-failed"], "no dkim.no-key-found while a selector is unknown")
        #expect(!result.isComplete)
    }

    @Test func aNamedSelectorThatIsMissingFails() async throws {
        let (result, _) = try await check("example.test. TXT \"v=spf1 -all\"", selectors: ["mine"])
        #expect(result.findings.map(\.id) == ["dkim.selector-missing"])
        #expect(result.findings.first?.severity == .failure)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var kind: KeyKind?
        var tags = ""
        var raw: String?
        var id: String
        var severity: Severity
        var why: String
        var testDescription: String { "\(id): \(why)" }
    }

    static let cases: [Case] = [
        Case(kind: .rsa(512), id: "dkim.key-too-short", severity: .failure, why: "RSA under 1024 bits (RFC 8301 §3.2)"),
        Case(kind: .rsa(1024), id: "dkim.key-weak", severity: .warning, why: "RSA 1024 to 2047 bits"),
        Case(kind: .rsa(2048), id: "dkim.key", severity: .pass, why: "RSA 2048"),
        Case(kind: .ed25519, id: "dkim.key", severity: .pass, why: "Ed25519 (RFC 8463)"),
        Case(raw: "\"v=DKIM1; p=\"", id: "dkim.key-revoked", severity: .info, why: "an empty p= is a revoked key"),
        Case(kind: .rsa(2048), tags: "t=y; ", id: "dkim.testing", severity: .warning, why: "t=y"),
        Case(kind: .rsa(2048), tags: "h=sha1; ", id: "dkim.sha1-only", severity: .failure, why: "h=sha1 alone (RFC 8301 §3.1)"),
        Case(kind: .rsa(2048), tags: "s=other; ", id: "dkim.not-for-email", severity: .failure, why: "a key for another service"),
        Case(raw: "\"v=DKIM1; p=MIGf!!notbase64\"", id: "dkim.bad-key", severity: .failure, why: "bad base64"),
        Case(raw: "\"v=DKIM1; p=AAECAwQ=\"", id: "dkim.bad-key", severity: .failure, why: "base64 that is no key"),
        Case(raw: "\"v=DKIM1; k=dsa; p=AAECAwQ=\"", id: "dkim.unknown-key-type", severity: .failure, why: "an unknown key type"),
        Case(raw: "\"k=rsa; v=DKIM1; p=\"", id: "dkim.syntax-error", severity: .failure, why: "v not first"),
        Case(raw: "\"v=DKIM1; p=\"\ns1._domainkey.example.test. TXT \"v=DKIM1; t=y; p=\"", id: "dkim.multiple-records",
             severity: .warning, why: "two records at one selector"),
    ]

    @Test("one finding per rule", arguments: cases)
    func rule(_ test: Case) async throws {
        let text: String
        if let raw = test.raw {
            text = raw
        } else {
            text = try await record(try #require(test.kind), tags: test.tags)
        }
        let (result, _) = try await check("s1._domainkey.example.test. TXT \(text)", selectors: ["s1"])
        let findings = result.findings
        let matching = findings.filter { $0.id.rawValue == test.id }
        #expect(matching.map(\.severity) == [test.severity], "\(test.why): got \(findings.map { "\($0.id) \($0.severity)" })")
        for finding in findings where finding.severity > .info {
            #expect(finding.remedy != nil && finding.reference != nil, "\(finding.id)")
        }
    }

    @Test func privateKeyMatching() async throws {
        let key = try await KeyCache.shared.key(.rsa(2048))
        let other = try await KeyCache.shared.key(.rsa(1024))
        let zone = "s1._domainkey.example.test. TXT \(try await record(.rsa(2048)))\ngone._domainkey.example.test. TXT \"v=DKIM1; p=\""
        let resolver = try StaticResolver(zone: zone)
        let check = DKIMLookup(resolver: resolver)
        let (_, match) = await check.matchPrivateKey(atPath: key.privateKeyPath, selector: "s1", domain: domain)
        #expect(match?.id == "dkim.private-key-match")
        #expect(match?.severity == .pass)
        let (_, mismatch) = await check.matchPrivateKey(atPath: other.privateKeyPath, selector: "s1", domain: domain)
        #expect(mismatch?.id == "dkim.private-key-mismatch")
        let (_, revoked) = await check.matchPrivateKey(atPath: key.privateKeyPath, selector: "gone", domain: domain)
        #expect(revoked?.id == "dkim.private-key-mismatch", "nothing usable to match against")
        let (_, unreadable) = await check.matchPrivateKey(atPath: "/nonexistent.pem", selector: "s1", domain: domain)
        #expect(unreadable?.id == "dkim.private-key-unreadable")
        for finding in [match, mismatch, revoked, unreadable].compactMap({ $0 }) {
            #expect(!finding.message.contains("PRIVATE KEY") && !finding.evidence.joined().contains("PRIVATE KEY"))
        }
    }
}
