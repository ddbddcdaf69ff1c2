import Foundation
import MailAuditTLS
import Testing

/// The pure parts of the TLS facts: chain classification, expiry arithmetic, versions.
struct SMTPTLSFactsTests {
    static func error(_ code: VerifyCode, depth: Int = 0, subject: String = "CN=mx.example", issuer: String = "CN=Issuer", isCA: Bool = false) -> VerifyError {
        VerifyError(code: code, depth: depth, subject: subject, issuer: issuer, isCA: isCA)
    }

    struct Classification: Sendable, CustomTestStringConvertible {
        var errors: [VerifyError]
        var expected: UntrustedChain?
        var reason: String
        var testDescription: String { reason }
    }

    static let classifications: [Classification] = [
        Classification(errors: [], expected: nil, reason: "no error: trusted"),
        Classification(errors: [error(.certificateHasExpired)], expected: nil, reason: "expired only: trusted but expired"),
        Classification(errors: [error(.hostnameMismatch)], expected: nil, reason: "wrong name only"),
        Classification(
            errors: [error(.depthZeroSelfSignedCertificate, subject: "CN=mx.example", issuer: "CN=mx.example")], expected: .selfSigned,
            reason: "self-signed leaf (18)"),
        Classification(
            errors: [error(.depthZeroSelfSignedCertificate), error(.hostnameMismatch)], expected: .selfSigned,
            reason: "self-signed with a wrong name"),
        Classification(
            errors: [error(.unableToGetIssuerCertificateLocally, issuer: "CN=Intermediate"), error(.unableToVerifyLeafSignature)],
            expected: .incompleteChain(missingIssuer: "CN=Intermediate"), reason: "leaf sent alone (20, 21)"),
        Classification(
            errors: [error(.unableToGetIssuerCertificateLocally, depth: 1, subject: "CN=Intermediate", issuer: "CN=Private Root", isCA: true)],
            expected: .unknownIssuer(issuer: "CN=Private Root"), reason: "intermediate sent, root unknown (20 at a CA)"),
        Classification(
            errors: [error(.selfSignedCertificateInChain, depth: 2, subject: "CN=Private Root", issuer: "CN=Private Root", isCA: true)],
            expected: .unknownIssuer(issuer: "CN=Private Root"), reason: "root sent but not trusted (19)"),
        Classification(
            errors: [error(.unableToGetIssuerCertificate, issuer: "CN=Gone")], expected: .incompleteChain(missingIssuer: "CN=Gone"),
            reason: "issuer missing in a partial chain (2)"),
    ]

    @Test(arguments: classifications)
    func classifiesUntrustedChains(_ example: Classification) {
        #expect(UntrustedChain.classify(example.errors) == example.expected)
    }

    static func certificate(notBefore: Date, notAfter: Date, digest: String? = "SHA256") -> CertificateFacts {
        CertificateFacts(
            subject: "CN=mx.example", issuer: "CN=Issuer", dnsNames: ["mx.example"], ipAddresses: [], notBefore: notBefore,
            notAfter: notAfter, publicKey: PublicKeyFacts(algorithm: "RSA", bits: 2048), signatureAlgorithm: "sha256WithRSAEncryption",
            signatureDigest: digest, isSelfSigned: false, isCA: false, sha256Fingerprint: "")
    }

    static let day: TimeInterval = 86_400
    static let now = Date(timeIntervalSince1970: 1_893_456_000)

    @Test(arguments: [
        (30 * day, 30),
        (30 * day - 1, 29),
        (1, 0),
        (0, 0),
        (-1, -1),
        (-10 * day, -10),
        (-10 * day - 1, -11),
    ] as [(TimeInterval, Int)])
    func daysUntilExpiryRoundsDown(offset: TimeInterval, days: Int) {
        let facts = Self.certificate(notBefore: Self.now.addingTimeInterval(-400 * Self.day), notAfter: Self.now.addingTimeInterval(offset))
        #expect(facts.daysUntilExpiry(at: Self.now) == days)
        #expect(facts.isValid(at: Self.now) == (offset >= 0))
    }

    @Test(arguments: [("SHA1", true), ("MD5", true), ("sha1", true), ("SHA256", false), (nil, false)] as [(String?, Bool)])
    func weakSignatureDigests(digest: String?, weak: Bool) {
        #expect(Self.certificate(notBefore: Self.now, notAfter: Self.now, digest: digest).hasWeakSignatureDigest == weak)
    }

    @Test func protocolVersions() {
        #expect(TLSProtocolVersion.tls1_0.isDeprecated)
        #expect(TLSProtocolVersion.tls1_1.isDeprecated)
        #expect(!TLSProtocolVersion.tls1_2.isDeprecated)
        #expect(!TLSProtocolVersion.tls1_3.isDeprecated)
        #expect(TLSProtocolVersion.tls1_3 > .tls1_2)
        #expect(TLSProtocolVersion.tls1_3.description == "TLSv1.3")
        #expect(TLSProtocolVersion(rawValue: 0x7f1c).description == "0x7f1c")
    }

    @Test func verifyCodesCarryOpenSSLText() {
        #expect(VerifyCode.ok.text == "ok")
        #expect(VerifyCode.certificateHasExpired.text == "certificate has expired")
        #expect(VerifyCode.hostnameMismatch.text == "hostname mismatch")
        #expect(VerifyCode.depthZeroSelfSignedCertificate.isTrustFailure)
        #expect(!VerifyCode.certificateHasExpired.isTrustFailure)
    }
}
