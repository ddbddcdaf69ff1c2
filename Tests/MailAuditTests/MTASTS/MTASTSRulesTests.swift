import Foundation
@testable import MailAudit
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS
import Testing

@Suite("MTA-STS verdicts")
struct MTASTSRulesTests {
    static let domain = DomainName(labels: ["example", "test"])
    static let mx1 = DomainName(labels: ["mx1", "example", "test"])
    static let mx2 = DomainName(labels: ["mx2", "example", "test"])
    static let now = Date(timeIntervalSince1970: 1_893_456_000)
    static let record = "v=STSv1; id=20300101"
    static let enforce = "version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: mx2.example.test\nmax_age: 1209600\n"

    static func txt(_ texts: [String], outcome: DNSOutcome? = nil) -> DNSAnswer {
        let name = domain.prepending("_mta-sts")
        let records = texts.map { DNSRecord(name: name, type: .txt, ttl: 300, data: .txt([Array($0.utf8)])) }
        return DNSAnswer(question: DNSQuestion(name, .txt), outcome: outcome ?? (records.isEmpty ? .nxDomain : .records(records)))
    }

    static func served(_ body: String, status: Int = 200, headers: [(String, String)] = [("Content-Type", "text/plain")]) -> MTASTSPolicyFetch.Outcome {
        .response(HTTPResponse(status: status, reason: "Reason", headers: headers.map { HTTPHeader(name: $0.0, value: $0.1) }, body: Array(body.utf8)),
                  address: .v4([192, 0, 2, 80]))
    }

    static func failed(_ error: HTTPSFetchError) -> MTASTSPolicyFetch.Outcome {
        .failed([MTASTSFetchAttempt(address: .v4([192, 0, 2, 80]), error: error)])
    }

    static func findings(
        txt texts: [String] = [record], txtOutcome: DNSOutcome? = nil, fetch: MTASTSPolicyFetch.Outcome = served(enforce),
        mx: MTASTSMXContext = MTASTSMXContext(hosts: [mx1, mx2], tls: [mx1: .valid, mx2: .valid])
    ) -> [Finding] {
        let answer = txt(texts, outcome: txtOutcome)
        let result = MTASTSResult(
            domain: domain, recordAnswer: answer, record: MTASTSLookup.record(in: answer),
            nearMisses: MTASTSRecordSelection(records: answer.records).nearMisses,
            policy: MTASTSPolicyFetch(
                host: domain.prepending("mta-sts"), url: "https://mta-sts.example.test/.well-known/mta-sts.txt", addressAnswers: [], outcome: fetch))
        return MTASTSRules.findings(for: result, mx: mx, now: now)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var findings: [Finding]
        var id: String
        var severity: Severity
        var why: String
        var testDescription: String { "\(id): \(why)" }
    }

    static let verification = VerifyError(code: .hostnameMismatch, depth: 0, subject: "CN=other.test", issuer: "CN=CA", isCA: false)
    static let uncovered = MTASTSMXContext(hosts: [mx1, DomainName(labels: ["backup", "example", "net"])], tls: [mx1: .valid])

    static let cases: [Case] = [
        Case(findings: findings(txt: [], fetch: .noHost), id: "mta-sts.absent", severity: .info, why: "nothing deployed"),
        Case(findings: findings(txt: [], fetch: served("Not Found", status: 404)), id: "mta-sts.absent", severity: .info,
             why: "a 404 without a record is nothing deployed"),
        Case(findings: findings(txt: []), id: "mta-sts.record-missing", severity: .warning, why: "a policy nobody discovers"),
        Case(findings: findings(), id: "mta-sts.record", severity: .pass, why: "a valid record"),
        Case(findings: findings(), id: "mta-sts.policy", severity: .pass, why: "a valid enforce policy"),
        Case(findings: findings(txt: [record, "v=STSv1; id=2"]), id: "mta-sts.multiple-records", severity: .failure, why: "two records"),
        Case(findings: findings(txt: ["v=STSv1; id=2030-01-01"]), id: "mta-sts.record-syntax", severity: .failure, why: "a bad id"),
        Case(findings: findings(txt: ["id=1; v=STSv1"]), id: "mta-sts.record-syntax", severity: .failure, why: "v=STSv1 not first"),
        Case(findings: findings(txt: ["v=STSv1; id=9; id=20300101"]),
             id: "mta-sts.duplicate-field", severity: .warning, why: "id twice in the record"),
        Case(findings: findings(txtOutcome: .timeout), id: "mta-sts.record-lookup-failed", severity: .inconclusive, why: "TXT timed out"),
        Case(findings: findings(fetch: .noHost), id: "mta-sts.policy-host-missing", severity: .failure, why: "no policy host"),
        Case(findings: findings(fetch: .hostLookupFailed), id: "mta-sts.policy-fetch-failed", severity: .inconclusive, why: "host lookup failed"),
        Case(findings: findings(fetch: .notPublic([.v4([10, 0, 0, 1])])), id: "mta-sts.policy-fetch-failed", severity: .inconclusive,
             why: "a private address is not fetched"),
        Case(findings: findings(fetch: failed(.connect(.timedOut))), id: "mta-sts.policy-fetch-failed", severity: .inconclusive,
             why: "a connect timeout"),
        Case(findings: findings(fetch: failed(.connect(.refused))), id: "mta-sts.policy-fetch-failed", severity: .inconclusive,
             why: "a refused connection may be this network's filter"),
        Case(findings: findings(fetch: failed(.stream(.timedOut))), id: "mta-sts.policy-fetch-failed", severity: .inconclusive,
             why: "no response in time"),
        Case(findings: findings(fetch: failed(.tls(.verificationFailed(verification)))), id: "mta-sts.policy-certificate", severity: .failure,
             why: "a certificate for another name"),
        Case(findings: findings(fetch: failed(.tls(.protocolVersionRefused("unsupported protocol")))), id: "mta-sts.policy-tls",
             severity: .failure, why: "TLS below 1.2"),
        Case(findings: findings(fetch: failed(.response(.bodyTooLarge(limit: 65_536)))), id: "mta-sts.policy-response", severity: .failure,
             why: "a body over 64 KiB"),
        Case(findings: findings(fetch: served("", status: 301, headers: [("Location", "https://www.example.test/")])), id: "mta-sts.redirect",
             severity: .failure, why: "a redirect is not followed"),
        Case(findings: findings(fetch: served("Not Found", status: 404)), id: "mta-sts.policy-http-status", severity: .failure, why: "404"),
        Case(findings: findings(fetch: served("busy", status: 503)), id: "mta-sts.policy-fetch-failed", severity: .inconclusive,
             why: "503 is temporary"),
        Case(findings: findings(fetch: served(enforce, headers: [("Content-Type", "text/html")])), id: "mta-sts.content-type",
             severity: .failure, why: "not text/plain"),
        Case(findings: findings(fetch: served(enforce, headers: [])), id: "mta-sts.content-type", severity: .failure, why: "no Content-Type"),
        Case(findings: findings(fetch: served("version: STSv1\nmode: strict\nmx: mx1.example.test\nmax_age: 1209600\n")),
             id: "mta-sts.policy-syntax", severity: .failure, why: "an invalid mode"),
        Case(findings: findings(fetch: served(enforce.replacingOccurrences(of: "enforce", with: "testing"))), id: "mta-sts.mode-testing",
             severity: .warning, why: "testing mode"),
        Case(findings: findings(fetch: served("version: STSv1\nmode: none\nmax_age: 86400\n")), id: "mta-sts.mode-none", severity: .warning,
             why: "the policy is withdrawn"),
        Case(findings: findings(fetch: served(enforce.replacingOccurrences(of: "1209600", with: "86400"))), id: "mta-sts.max-age-short",
             severity: .warning, why: "one day"),
        Case(findings: findings(fetch: served(enforce + "mode: testing\n")), id: "mta-sts.duplicate-field", severity: .warning,
             why: "mode twice in the policy"),
        Case(findings: findings(mx: uncovered), id: "mta-sts.mx-not-covered", severity: .failure, why: "enforce: mail to it is refused"),
        Case(findings: findings(fetch: served(enforce.replacingOccurrences(of: "enforce", with: "testing")), mx: uncovered),
             id: "mta-sts.mx-not-covered", severity: .warning, why: "testing: only reported"),
        Case(findings: findings(mx: MTASTSMXContext(hosts: [mx1], tls: [mx1: .invalid("no STARTTLS", evidence: [])])),
             id: "mta-sts.mx-certificate", severity: .failure, why: "enforce and an MX host without valid TLS"),
        Case(findings: findings(fetch: served(enforce.replacingOccurrences(of: "enforce", with: "testing")),
                                mx: MTASTSMXContext(hosts: [mx1], tls: [mx1: .invalid("expired", evidence: [])])),
             id: "mta-sts.mx-certificate", severity: .warning, why: "testing and an MX host without valid TLS"),
        Case(findings: findings(mx: MTASTSMXContext(hosts: [mx1])), id: "mta-sts.mx-not-checked", severity: .info, why: "the probe did not run"),
        Case(findings: findings(mx: MTASTSMXContext(hosts: [mx1], tls: [mx1: .notChecked("timed out")])), id: "mta-sts.mx-not-checked",
             severity: .info, why: "the probe could not tell"),
        Case(findings: findings(mx: MTASTSMXContext(hosts: [], hostsKnown: false)), id: "mta-sts.mx-not-checked", severity: .info,
             why: "the MX lookup failed"),
    ]

    @Test("each situation gives its finding", arguments: cases)
    func situation(_ testCase: Case) {
        let found = testCase.findings.filter { $0.id.rawValue == testCase.id }.map(\.severity)
        #expect(found.contains(testCase.severity), "\(testCase.why): got \(testCase.findings.map { "\($0.id) \($0.severity)" })")
    }

    @Test func aGoodDeploymentHasNothingToFix() {
        let all = Self.findings()
        #expect(all.map(\.id) == ["mta-sts.record", "mta-sts.policy"], "\(all.map(\.id))")
        #expect(all.last?.message.contains("covers every MX host (2)") == true)
    }

    @Test func lookupFailuresAreInconclusiveNeverBroken() {
        for findings in [Self.findings(txtOutcome: .timeout, fetch: .noHost), Self.findings(fetch: .hostLookupFailed),
                         Self.findings(fetch: Self.failed(.connect(.timedOut)))] {
            #expect(!findings.contains { $0.severity == .failure || $0.severity == .warning }, "\(findings.map(\.id))")
        }
    }

    @Test func aWithdrawnPolicyAsksNothingOfTheMXHosts() {
        let none = Self.findings(fetch: Self.served("version: STSv1\nmode: none\nmax_age: 60\n"), mx: Self.uncovered)
        #expect(none.map(\.id).filter { $0.rawValue.hasPrefix("mta-sts.mx") }.isEmpty)
        #expect(!none.contains { $0.id == "mta-sts.max-age-short" }, "a short max_age speeds up a withdrawal")
    }

    @Test func remediesGiveTheRecordAndPolicyToPublish() {
        let missing = Self.findings(txt: []).first { $0.id == "mta-sts.record-missing" }
        #expect(missing?.remedy?.contains("_mta-sts.example.test. IN TXT \"v=STSv1; id=20300101000000\"") == true, "\(missing?.remedy ?? "")")
        let uncovered = Self.findings(mx: Self.uncovered).first { $0.id == "mta-sts.mx-not-covered" }
        #expect(uncovered?.subject.host == "backup.example.net")
        #expect(uncovered?.remedy?.contains("\"mx: backup.example.net\"") == true)
        let testing = Self.findings(fetch: Self.served(Self.enforce.replacingOccurrences(of: "enforce", with: "testing")))
            .first { $0.id == "mta-sts.mode-testing" }
        #expect(testing?.remedy?.contains("\"mode: enforce\", \"mx: mx1.example.test\", \"mx: mx2.example.test\", \"max_age: 1209600\"") == true,
                "\(testing?.remedy ?? "")")
        for finding in Self.cases.flatMap(\.findings) where finding.severity > .info && finding.severity != .inconclusive {
            #expect(finding.remedy != nil && finding.reference?.hasPrefix("RFC 8461") == true, "\(finding.id)")
        }
    }

    @Test func aProbeWithoutSTARTTLSIsNoValidTLS() {
        let target = ProbeTarget(address: .v4([192, 0, 2, 25]), hostNames: [Self.mx1])
        let plain = ProbeResult(address: target.address, port: 25, hostName: "mx1.example.test", security: .startTLS, outcome: .completed, stage: .done)
        guard case .invalid = MTASTSMXRules.hostTLS(Self.mx1, probes: [(target, plain)]) else {
            Issue.record("a host without STARTTLS is not valid")
            return
        }
        let stalled = ProbeResult(
            address: target.address, port: 25, hostName: "mx1.example.test", security: .startTLS, outcome: .timeout(.greeting), stage: .greeting)
        guard case .notChecked = MTASTSMXRules.hostTLS(Self.mx1, probes: [(target, stalled)]) else {
            Issue.record("a stalled probe says nothing")
            return
        }
        guard case .notChecked = MTASTSMXRules.hostTLS(Self.mx2, probes: [(target, plain)]) else {
            Issue.record("a host with no probe is not checked")
            return
        }
    }

    /// Every `mta-sts.*` id the check can emit is in docs/checks.md, and every one listed there is emitted
    /// (the general catalogue test reads area names without hyphens).
    @Test func everyIdIsCatalogued() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let listed = Set(docs.matches(of: try Regex(#"\| `(mta-sts\.[a-z0-9-]+)` \|"#)).compactMap { $0.output[1].substring.map(String.init) })
        let folder = root.appendingPathComponent("Sources/MailAudit/Checks/MTASTS")
        var emitted = Set<String>()
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            emitted.formUnion(text.matches(of: try Regex(#""(mta-sts\.[a-z0-9-]+)""#)).compactMap { $0.output[1].substring.map(String.init) })
        }
        #expect(emitted.count >= 20)
        #expect(emitted == listed, "only in code: \(emitted.subtracting(listed).sorted()); only in docs: \(listed.subtracting(emitted).sorted())")
    }
}
