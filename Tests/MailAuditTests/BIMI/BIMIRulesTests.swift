@testable import MailAudit
import MailAuditDNS
import MailAuditRecords
import MailAuditTLS
import MailAuditTesting
import Testing

@Suite("BIMI verdicts")
struct BIMIRulesTests {
    static let base = """
        example.test. MX 10 mx1.example.test.
        mx1.example.test. A 192.0.2.1
        logo.example.test. A 192.0.2.80
        """
    static let reject = #"_dmarc.example.test. TXT "v=DMARC1; p=reject""#
    static let bimi = #"default._bimi.example.test. TXT "v=BIMI1; l=https://logo.example.test/logo.svg; a=https://logo.example.test/vmc.pem""#

    /// The BIMI check alone, through the auditor, against the in-memory resolver. The logo host
    /// has a documentation address, which is not public: nothing is fetched.
    func audit(_ zone: String, domain: String = "example.test", overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> [Finding] {
        let resolver = try StaticResolver(zone: Self.base + "\n" + zone, overrides: overrides)
        var options = AuditOptions()
        options.checks = [.bimi]
        let report = await Auditor(resolver: CachingResolver(upstream: resolver), options: options).audit(try DomainName(parsing: domain))
        return report.findings.filter { $0.id.area == "bimi" }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var zone: String
        var id: String
        var severity: Severity
        var why: String
        var domain = "example.test"
        var testDescription: String { "\(id): \(why)" }
    }

    static let cases: [Case] = [
        Case(zone: reject, id: "bimi.none", severity: .info, why: "no record"),
        Case(zone: reject + "\n" + #"default._bimi.example.test. TXT "v=BIMI1; l=; a=;""#, id: "bimi.declined", severity: .info, why: "declined"),
        Case(zone: reject + "\n" + bimi, id: "bimi.record", severity: .pass, why: "a valid record"),
        Case(zone: reject + "\n" + bimi, id: "bimi.dmarc-enforced", severity: .pass, why: "p=reject"),
        Case(zone: reject + "\n" + bimi, id: "bimi.logo-fetch-failed", severity: .inconclusive, why: "a non-public logo host is not fetched, and not called broken"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=none""# + "\n" + bimi, id: "bimi.dmarc-not-enforced", severity: .failure, why: "p=none"),
        Case(zone: bimi, id: "bimi.dmarc-not-enforced", severity: .failure, why: "no DMARC record at all"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=quarantine; pct=50""# + "\n" + bimi, id: "bimi.dmarc-not-enforced", severity: .failure,
             why: "quarantine for half the mail"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=reject; t=y""# + "\n" + bimi, id: "bimi.dmarc-not-enforced", severity: .failure, why: "testing"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=reject; sp=none""# + "\n" + bimi, id: "bimi.dmarc-not-enforced", severity: .failure,
             why: "a subdomain policy of none"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=quarantine; pct=100""# + "\n" + bimi, id: "bimi.dmarc-enforced", severity: .pass,
             why: "quarantine for all mail"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=none; sp=reject""# + "\n"
             + #"default._bimi.news.example.test. TXT "v=BIMI1; l=https://logo.example.test/l.svg""#,
             id: "bimi.dmarc-not-enforced", severity: .failure, why: "sp=reject for the subdomain, but the Organizational Domain is p=none",
             domain: "news.example.test"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=none""# + "\n" + #"_dmarc.news.example.test. TXT "v=DMARC1; p=reject""# + "\n"
             + #"default._bimi.news.example.test. TXT "v=BIMI1; l=https://logo.example.test/l.svg""#,
             id: "bimi.dmarc-not-enforced", severity: .failure, why: "the subdomain rejects, its Organizational Domain does not",
             domain: "news.example.test"),
        Case(zone: #"_dmarc.example.test. TXT "v=DMARC1; p=reject""# + "\n"
             + #"default._bimi.news.example.test. TXT "v=BIMI1; l=https://logo.example.test/l.svg""#,
             id: "bimi.dmarc-enforced", severity: .pass, why: "inherited p=reject applies to the subdomain", domain: "news.example.test"),
        Case(zone: reject + "\n" + #"default._bimi.example.test. TXT "v=BIMI1; l=https://logo.example.test/l.svg""#, id: "bimi.evidence-missing",
             severity: .info, why: "no VMC"),
        Case(zone: reject + "\n" + #"default._bimi.example.test. TXT "v=BIMI1; l=http://logo.example.test/l.svg""#, id: "bimi.not-https",
             severity: .failure, why: "http"),
        Case(zone: reject + "\n" + #"default._bimi.example.test. TXT "v=BIMI1; a=https://logo.example.test/v.pem""#, id: "bimi.syntax",
             severity: .failure, why: "no l="),
        Case(zone: reject + "\n" + #"default._bimi.example.test. TXT "l=https://logo.example.test/l.svg; v=BIMI1""#, id: "bimi.syntax",
             severity: .failure, why: "v=BIMI1 not first: ignored by receivers"),
        Case(zone: reject + "\n" + bimi + "\n" + #"default._bimi.example.test. TXT "v=BIMI1; l=""#, id: "bimi.multiple-records",
             severity: .failure, why: "two records"),
    ]

    @Test("each situation gives its finding", arguments: cases)
    func situation(_ row: Case) async throws {
        let findings = try await audit(row.zone, domain: row.domain)
        #expect(findings.contains { $0.id.rawValue == row.id && $0.severity == row.severity }, "\(findings.map { "\($0.id) \($0.severity)" })")
    }

    @Test func lookupFailuresAreInconclusiveNeverBroken() async throws {
        let name = try DomainName(parsing: "default._bimi.example.test")
        let failed = try await audit(Self.reject, overrides: [DNSQuestion(name, .txt): .serverFailure(rcode: 2)])
        #expect(failed.map(\.id) == ["bimi.lookup-failed"] && failed.allSatisfy { $0.severity == .inconclusive }, "\(failed)")
        let dmarc = try await audit(Self.bimi, overrides: [DNSQuestion(try DomainName(parsing: "_dmarc.example.test"), .txt): .timeout])
        #expect(dmarc.contains { $0.id == "bimi.dmarc-unknown" && $0.severity == .inconclusive }, "\(dmarc.map(\.id))")
        #expect(!dmarc.contains { $0.id == "bimi.dmarc-not-enforced" })
    }

    @Test func aRecordThatIsOnlyMissingHTTPSIsGivenReadyToPaste() async throws {
        let findings = try await audit(Self.reject + "\n" + #"default._bimi.example.test. TXT "v=BIMI1; l=http://logo.example.test/l.svg""#)
        let remedy = findings.first { $0.id == "bimi.not-https" }?.remedy ?? ""
        #expect(RecordsToPublish.records(in: remedy) == [#"default._bimi.example.test. IN TXT "v=BIMI1; l=https://logo.example.test/l.svg""#], "\(remedy)")
        let none = try await audit(Self.reject).first { $0.id == "bimi.none" }
        #expect(RecordsToPublish.records(in: none?.remedy ?? "") == [], "placeholders are not ready to paste")
    }

    // MARK: The documents

    static let host = DomainName(labels: ["logo", "example", "test"])

    static func fetch(_ outcome: HTTPSDocumentFetch.Outcome) -> HTTPSDocumentFetch {
        HTTPSDocumentFetch(host: host, url: "https://logo.example.test/logo.svg", addressAnswers: [], outcome: outcome)
    }

    static func served(_ body: String, status: Int = 200, type: String? = "image/svg+xml", headers: [HTTPHeader] = []) -> HTTPSDocumentFetch {
        served(bytes: Array(body.utf8), status: status, type: type, headers: headers)
    }

    static func served(bytes: [UInt8], status: Int = 200, type: String? = "image/svg+xml", headers: [HTTPHeader] = []) -> HTTPSDocumentFetch {
        let fields = (type.map { [HTTPHeader(name: "Content-Type", value: $0)] } ?? []) + headers
        return fetch(.response(HTTPResponse(status: status, reason: "Reason", headers: fields, body: bytes), address: .v4([192, 0, 2, 80])))
    }

    static func failed(_ error: HTTPSFetchError) -> HTTPSDocumentFetch {
        fetch(.failed([HTTPSFetchAttempt(address: .v4([192, 0, 2, 80]), error: error)]))
    }

    static let tinyPS = #"<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps"><title>Brand</title></svg>"#
    static let verification = VerifyError(code: .hostnameMismatch, depth: 0, subject: "CN=other.test", issuer: "CN=CA", isCA: false)

    /// (fetch, expected ids with severities, the `reason` fact, why).
    static let logos: [(HTTPSDocumentFetch, [String], String?, String)] = [
        (served(tinyPS), ["bimi.logo pass"], nil, "a Tiny PS logo"),
        (served(tinyPS, type: "image/svg+xml; charset=utf-8"), ["bimi.logo pass"], nil, "a parameter after the type"),
        (served(#"<svg xmlns="http://www.w3.org/2000/svg"/>"#), ["bimi.logo-not-tiny-ps warning"], nil, "plain SVG"),
        (served(tinyPS, type: "text/html"), ["bimi.logo-content-type failure"], nil, "served as HTML"),
        (served("<html><body>hello</body></html>", type: "text/html"), ["bimi.logo-content-type failure", "bimi.logo-not-svg failure"], nil,
         "an HTML page"),
        (served(bytes: [0x1F, 0x8B, 0x08, 0x00]), ["bimi.logo-not-checked info"], nil, "SVGZ"),
        (served("Not Found", status: 404, type: "text/plain"), ["bimi.logo-unavailable failure"], "http-status", "404"),
        (served("", status: 302, type: nil, headers: [HTTPHeader(name: "Location", value: "https://cdn.example/l.svg")]),
         ["bimi.logo-unavailable failure"], "redirect", "a redirect is not followed"),
        (served("", status: 503, type: nil), ["bimi.logo-fetch-failed inconclusive"], nil, "a temporary condition"),
        (fetch(.noHost), ["bimi.logo-unavailable failure"], "no-host", "no address"),
        (fetch(.hostLookupFailed), ["bimi.logo-fetch-failed inconclusive"], nil, "the lookup failed"),
        (failed(.tls(.verificationFailed(verification))), ["bimi.logo-unavailable failure"], "certificate", "a certificate for another name"),
        (failed(.response(.bodyTooLarge(limit: 32_768))), ["bimi.logo-unavailable failure"], "too-large", "over 32 KiB"),
        (failed(.stream(.timedOut)), ["bimi.logo-fetch-failed inconclusive"], nil, "a timeout is not broken"),
        (failed(.response(.truncated)), ["bimi.logo-fetch-failed inconclusive"], nil, "nor a connection that broke"),
    ]

    @Test("the logo's fetch and content", arguments: logos)
    func logo(_ fetch: HTTPSDocumentFetch, _ expected: [String], _ reason: String?, _ why: String) {
        let findings = BIMIDocumentRules.logoFindings(fetch)
        #expect(findings.map { "\($0.id) \($0.severity)" } == expected, "\(why)")
        if let reason { #expect(findings.first?.facts["reason"] == .text(reason), "\(why)") }
    }

    @Test func theEvidenceIsJudgedAsPEMOnly() {
        let pem = "-----BEGIN CERTIFICATE-----\nTWFu\n-----END CERTIFICATE-----\n"
        let good = BIMIDocumentRules.evidenceFindings(Self.served(pem, type: "application/x-pem-file"))
        #expect(good.map(\.id) == ["bimi.evidence"] && good[0].facts["certificates"] == .int(1))
        #expect(good[0].evidence.contains { $0.contains("not validated as a VMC") }, "the evidence says what was not checked")
        #expect(BIMIDocumentRules.evidenceFindings(Self.served("<html/>", type: "text/html")).map(\.id) == ["bimi.evidence-not-pem"])
        #expect(BIMIDocumentRules.evidenceFindings(Self.fetch(.noHost)).map(\.id) == ["bimi.evidence-unavailable"])
        #expect(BIMIDocumentRules.evidenceFindings(Self.failed(.stream(.timedOut))).map(\.id) == ["bimi.evidence-fetch-failed"])
    }
}
