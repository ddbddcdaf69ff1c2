@testable import MailAudit
import MailAuditDNS
import MailAuditTesting
import Testing

@Suite("TLS-RPT verdicts")
struct TLSRPTRulesTests {
    static let mx = """
        example.test. MX 10 mx1.example.test.
        mx1.example.test. A 192.0.2.1
        """

    /// The TLS-RPT check alone, through the auditor, against the in-memory resolver.
    func audit(_ zone: String, overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> ([Finding], StaticResolver) {
        let resolver = try StaticResolver(zone: Self.mx + "\n" + zone, overrides: overrides)
        var options = AuditOptions()
        options.checks = [.tlsRPT]
        let report = await Auditor(resolver: CachingResolver(upstream: resolver), options: options).audit(try DomainName(parsing: "example.test"))
        return (report.findings.filter { $0.id.area == "tls-rpt" }, resolver)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var zone: String
        var id: String
        var severity: Severity
        var why: String
        var testDescription: String { "\(id): \(why)" }
    }

    static let cases: [Case] = [
        Case(zone: #"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=mailto:tls@example.test""#, id: "tls-rpt.record", severity: .pass, why: "a valid record"),
        Case(zone: #"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=https://r.example.test/tlsrpt,mailto:tls@example.test""#,
             id: "tls-rpt.record", severity: .pass, why: "https and mailto together"),
        Case(zone: #"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=http://r.example.test/tlsrpt""#, id: "tls-rpt.http-uri", severity: .failure, why: "http, not https"),
        Case(zone: #"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=ftp://r.example.test/""#, id: "tls-rpt.unsupported-uri-scheme", severity: .failure, why: "ftp"),
        Case(zone: #"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=tel:+15555555""#, id: "tls-rpt.unsupported-uri-scheme", severity: .failure, why: "no host at all"),
        Case(zone: #"_smtp._tls.example.test. TXT "v=TLSRPTv1""#, id: "tls-rpt.syntax-error", severity: .failure, why: "no rua"),
        Case(zone: #"_smtp._tls.example.test. TXT "rua=mailto:tls@example.test; v=TLSRPTv1""#, id: "tls-rpt.syntax-error", severity: .failure, why: "v not first"),
        Case(zone: """
            _smtp._tls.example.test. TXT "v=TLSRPTv1; rua=mailto:a@example.test"
            _smtp._tls.example.test. TXT "v=TLSRPTv1; rua=mailto:b@example.test"
            """, id: "tls-rpt.multiple-records", severity: .failure, why: "two records"),
        Case(zone: "", id: "tls-rpt.none", severity: .info, why: "no record, and neither MTA-STS nor DANE"),
        Case(zone: #"_mta-sts.example.test. TXT "v=STSv1; id=20240101""#, id: "tls-rpt.none", severity: .warning, why: "MTA-STS without reports"),
        Case(zone: "_25._tcp.mx1.example.test. TLSA 3 1 1 0123456789abcdef", id: "tls-rpt.none", severity: .warning, why: "DANE without reports"),
        Case(zone: #"_mta-sts.example.test. TXT "id=1; v=STSv1""#, id: "tls-rpt.none", severity: .info, why: "a TXT record that is not v=STSv1 first is no MTA-STS"),
    ]

    @Test("each record gets its verdict, and only that one", arguments: cases)
    func verdict(_ test: Case) async throws {
        let (findings, _) = try await audit(test.zone)
        #expect(findings.map(\.id.rawValue) == [test.id], "\(test.why)")
        #expect(findings.first?.severity == test.severity, "\(test.why)")
        #expect(findings.allSatisfy { $0.reference?.hasPrefix("RFC 8460") == true })
        if test.severity != .pass { #expect(findings.first?.remedy?.contains("_smtp._tls.example.test. IN TXT \"v=TLSRPTv1; rua=") == true) }
    }

    @Test func theRemedyIsTheRecordToPublish() async throws {
        let (none, _) = try await audit("")
        #expect(none.first?.remedy?.hasSuffix(#"_smtp._tls.example.test. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.test""#) == true)
        let (http, _) = try await audit(#"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=http://r.example.test/x,mailto:a@example.test""#)
        #expect(http.first?.remedy?.hasSuffix(#"IN TXT "v=TLSRPTv1; rua=https://r.example.test/x,mailto:a@example.test""#) == true,
                "http: becomes https:, the other address stays")
    }

    @Test func aPublishedRecordCostsOneQuery() async throws {
        let (_, resolver) = try await audit(#"_smtp._tls.example.test. TXT "v=TLSRPTv1; rua=mailto:tls@example.test""#)
        let asked = resolver.questionsAsked.map(\.name.description)
        #expect(asked.contains("_smtp._tls.example.test"))
        #expect(!asked.contains { $0.hasPrefix("_mta-sts") || $0.hasPrefix("_25._tcp") }, "MTA-STS and DANE matter only when there is no record")
    }

    @Test func aFailedLookupIsInconclusiveNeverAbsent() async throws {
        let question = DNSQuestion(try DomainName(parsing: "_smtp._tls.example.test"), .txt)
        for outcome in [DNSOutcome.timeout, .serverFailure(rcode: 2)] {
            let (findings, _) = try await audit("", overrides: [question: outcome])
            #expect(findings.map(\.id.rawValue) == ["tls-rpt.lookup-failed"])
            #expect(findings.first?.severity == .inconclusive)
        }
    }

    @Test func anUnknownDeploymentStaysInformational() async throws {
        let sts = DNSQuestion(try DomainName(parsing: "_mta-sts.example.test"), .txt)
        let (findings, _) = try await audit("", overrides: [sts: .timeout])
        #expect(findings.first?.id == "tls-rpt.none")
        #expect(findings.first?.severity == .info)
        #expect(findings.first?.facts["mtaSTS"] == .text("unknown"))
        #expect(findings.first?.facts["dane"] == .text("absent"))
    }

    @Test func aNameThatDoesNotExistIsNotChecked() async throws {
        let resolver = try StaticResolver(zone: "other.test. A 192.0.2.9")
        var options = AuditOptions()
        options.checks = [.tlsRPT]
        let report = await Auditor(resolver: resolver, options: options).audit(try DomainName(parsing: "example.test"))
        #expect(!report.findings.contains { $0.id.area == "tls-rpt" })
        #expect(!resolver.questionsAsked.contains { $0.name.labels.first == "_smtp" })
    }
}
