import Foundation
import MailAudit
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS
import Testing

/// The probe's verdicts from hand-made probe results: one row per outcome and certificate state.
@Suite struct SMTPRulesTests {
    static let now = Date(timeIntervalSince1970: 1_893_456_000)  // 2030-01-01
    static let address = IPAddress.v4([192, 0, 2, 25])
    static let host = DomainName(labels: ["mx", "example", "test"])

    static func certificate(
        names: [String] = ["mx.example.test"], from: Double = -30, to: Double = 60, bits: Int = 2048, digest: String = "SHA256",
        selfSigned: Bool = false
    ) -> CertificateFacts {
        CertificateFacts(
            subject: "CN=\(names.first ?? "x")", issuer: "CN=Test Intermediate", dnsNames: names, ipAddresses: [],
            notBefore: now.addingTimeInterval(from * 86_400), notAfter: now.addingTimeInterval(to * 86_400),
            publicKey: PublicKeyFacts(algorithm: "RSA", bits: bits), signatureAlgorithm: "sha256WithRSAEncryption",
            signatureDigest: digest, isSelfSigned: selfSigned, isCA: false, sha256Fingerprint: "00")
    }

    static func tls(_ leaf: CertificateFacts, version: TLSProtocolVersion = .tls1_3, result: VerifyCode = .ok,
                    errors: [VerifyError] = [], untrusted: UntrustedChain? = nil) -> TLSFacts {
        TLSFacts(
            protocolVersion: version, cipher: "TLS_AES_256_GCM_SHA384", peerChain: [leaf],
            verification: ChainVerification(
                result: result, errors: errors, hostNameMatches: nil, hostName: nil, verifiedAt: now,
                daysUntilExpiry: nil, untrusted: untrusted))
    }

    static func result(_ outcome: ProbeOutcome, stage: ProbeStage = .done, starttls: Bool = true, tls: TLSFacts? = nil,
                       greeting: String = "220 mx.example.test ESMTP") -> ProbeResult {
        let capabilities = starttls ? SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: ["mx.example.test", "STARTTLS"]))
            : SMTPCapabilities(ehloReply: SMTPReply(code: 250, lines: ["mx.example.test", "PIPELINING"]))
        return ProbeResult(
            address: address, port: 25, hostName: host.description, security: .startTLS, outcome: outcome, stage: stage,
            greeting: SMTPReply(code: 220, lines: [String(greeting.dropFirst(4))]), capabilities: capabilities, tls: tls)
    }

    func ids(_ result: ProbeResult, names: [DomainName] = [host], ptr: [DomainName] = [host]) -> [String: Severity] {
        let findings = SMTPRules.findings(
            for: result, target: ProbeTarget(address: Self.address, hostNames: names), ptrNames: ptr, expiryWarningDays: 14, now: Self.now)
        #expect(findings.allSatisfy { !$0.evidence.isEmpty && $0.reference != nil })
        return Dictionary(findings.map { ($0.id.rawValue, $0.severity) }, uniquingKeysWith: max)
    }

    @Test(arguments: [
        (ProbeOutcome.refused, "smtp.connection-refused", Severity.failure),
        (.timeout(.connect), "smtp.connect-timeout", .inconclusive),
        (.timeout(.greeting), "smtp.stalled", .inconclusive),
        (.rateLimited(SMTPReply(code: 421, lines: ["4.7.0 Too many connections"])), "smtp.rate-limited", .inconclusive),
        (.rejected(SMTPReply(code: 454, lines: ["4.7.0 TLS not available due to temporary reason"])), "smtp.temporary-failure", .inconclusive),
        (.rejected(SMTPReply(code: 554, lines: ["5.3.2 no SMTP service here"])), "smtp.rejected", .failure),
        (.protocolError("a line of more than 2048 octets"), "smtp.protocol-error", .failure),
        (.closed(.ehlo), "smtp.connection-closed", .failure),
        (.closed(.tlsHandshake), "smtp.tls-handshake-failed", .failure),
        (.tlsFailed("wrong version number"), "smtp.tls-handshake-failed", .failure),
        (.networkError("Network is unreachable"), "smtp.unreachable", .inconclusive),
    ] as [(ProbeOutcome, String, Severity)])
    func outcomes(outcome: ProbeOutcome, id: String, severity: Severity) {
        #expect(ids(Self.result(outcome)) == [id: severity])
    }

    @Test func aGoodSessionPasses() {
        let found = ids(Self.result(.completed, tls: Self.tls(Self.certificate())))
        #expect(found == ["smtp.starttls": .pass, "smtp.certificate-valid": .pass])
    }

    @Test(arguments: [
        (Self.tls(Self.certificate(from: -90, to: -1)), "smtp.certificate-expired", Severity.failure),
        (Self.tls(Self.certificate(from: 1, to: 90)), "smtp.certificate-not-yet-valid", .failure),
        (Self.tls(Self.certificate(to: 5)), "smtp.certificate-expiring", .warning),
        (Self.tls(Self.certificate(names: ["other.example.test"])), "smtp.certificate-name-mismatch", .failure),
        (Self.tls(Self.certificate(bits: 1024)), "smtp.certificate-weak-key", .warning),
        (Self.tls(Self.certificate(digest: "SHA1")), "smtp.certificate-sha1", .failure),
        (Self.tls(Self.certificate(), version: .tls1_0), "smtp.tls-version-deprecated", .failure),
        (Self.tls(Self.certificate(selfSigned: true), result: .depthZeroSelfSignedCertificate, untrusted: .selfSigned), "smtp.certificate-self-signed", .failure),
        (Self.tls(Self.certificate(), result: .unableToGetIssuerCertificateLocally, untrusted: .incompleteChain(missingIssuer: "CN=I")), "smtp.certificate-incomplete-chain", .failure),
        (Self.tls(Self.certificate(), result: .selfSignedCertificateInChain, untrusted: .unknownIssuer(issuer: "CN=Rogue")), "smtp.certificate-unknown-issuer", .failure),
        (Self.tls(Self.certificate(), result: VerifyCode(rawValue: 26),
                  errors: [VerifyError(code: VerifyCode(rawValue: 26), depth: 1, subject: "CN=I", issuer: "CN=R", isCA: false)]),
         "smtp.certificate-untrusted", .failure),
    ] as [(TLSFacts, String, Severity)])
    func certificateProblems(tls: TLSFacts, id: String, severity: Severity) {
        let found = ids(Self.result(.completed, tls: tls))
        #expect(found[id] == severity, "\(found)")
        if id != "smtp.tls-version-deprecated" {
            #expect(found["smtp.certificate-valid"] == nil, "a certificate problem never comes with a pass")
        }
    }

    @Test func noSTARTTLSIsAFailureAndTheGreetingIsComparedWithThePTR() {
        let found = ids(Self.result(.completed, starttls: false, greeting: "220 relay.example.test ESMTP"))
        #expect(found == ["smtp.no-starttls": .failure, "smtp.greeting-name-differs": .info])
    }

    @Test func everyNameOnTheAddressIsCheckedAgainstTheCertificate() {
        let second = DomainName(labels: ["mx2", "example", "test"])
        let findings = SMTPRules.findings(
            for: Self.result(.completed, tls: Self.tls(Self.certificate())),
            target: ProbeTarget(address: Self.address, hostNames: [Self.host, second]), ptrNames: [], expiryWarningDays: 14, now: Self.now)
        let mismatch = findings.first { $0.id == "smtp.certificate-name-mismatch" }
        #expect(mismatch?.message.contains("not valid for mx2.example.test;") == true)
    }

    @Test func portBlockedNeedsEveryAddressToTimeOutOrHaveNoRoute() {
        let domain = DomainName(labels: ["example", "test"])
        let timeout = Self.result(.timeout(.connect)), noRoute = Self.result(.networkError("Network is unreachable"))
        #expect(SMTPRules.blockedPortFinding(domain: domain, results: [timeout, timeout])?.severity == .inconclusive)
        #expect(SMTPRules.blockedPortFinding(domain: domain, results: [timeout, noRoute]) != nil)
        #expect(SMTPRules.blockedPortFinding(domain: domain, results: [noRoute]) == nil)
        #expect(SMTPRules.blockedPortFinding(domain: domain, results: [timeout, Self.result(.refused)]) == nil)
        #expect(SMTPRules.blockedPortFinding(domain: domain, results: []) == nil)
    }

    @Test(arguments: [
        ("mx.example.test", ["mx.example.test"], true), ("MX.Example.Test", ["mx.example.test"], true),
        ("mx.example.test", ["*.example.test"], true), ("a.b.example.test", ["*.example.test"], false),
        ("example.test", ["*.example.test"], false), ("mx.example.test", ["*.test"], false),
        ("mx.example.test", ["other.example.test"], false), ("mx.example.test", [], false),
    ])
    func certificateNameMatching(name: String, presented: [String], matches: Bool) throws {
        let certificate = Self.certificate(names: presented)
        #expect(CertificateNames.matches(try DomainName(parsing: name), certificate) == matches)
    }
}
