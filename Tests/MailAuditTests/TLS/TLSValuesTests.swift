import Foundation
import MailAuditTLS
import Testing

/// The pure values added for DANE and strict fetches: certificate bytes kept out of JSON, the
/// strict configuration's version floor, failures that name their reason.
struct TLSValuesTests {
    static let certificate = CertificateFacts(
        subject: "CN=mx.example", issuer: "CN=Issuer", dnsNames: ["mx.example"], ipAddresses: [],
        notBefore: Date(timeIntervalSince1970: 1_861_920_000), notAfter: Date(timeIntervalSince1970: 1_924_992_000),
        publicKey: PublicKeyFacts(algorithm: "EC", bits: 256, curve: "prime256v1"), signatureAlgorithm: "ecdsa-with-SHA256",
        signatureDigest: "SHA256", isSelfSigned: false, isCA: false, sha256Fingerprint: "ab12",
        der: [0x30, 0x82, 0x01, 0x00], subjectPublicKeyInfo: [0x30, 0x59])

    @Test func certificateBytesStayOutOfJSON() throws {
        let json = try JSONEncoder().encode(Self.certificate)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["der"] == nil)
        #expect(object["subjectPublicKeyInfo"] == nil)
        #expect(object["sha256Fingerprint"] as? String == "ab12")

        let decoded = try JSONDecoder().decode(CertificateFacts.self, from: json)
        #expect(decoded.der.isEmpty)
        #expect(decoded.subjectPublicKeyInfo.isEmpty)
        var withoutBytes = Self.certificate
        withoutBytes.der = []
        withoutBytes.subjectPublicKeyInfo = []
        #expect(decoded == withoutBytes)
    }

    @Test(arguments: [
        (TLSVerificationMode.observe, TLSProtocolVersion.tls1_0, TLSProtocolVersion.tls1_0),
        (.observe, .tls1_2, .tls1_2),
        (.strict, .tls1_0, .tls1_2),
        (.strict, .tls1_1, .tls1_2),
        (.strict, .tls1_3, .tls1_3),
    ])
    func strictModeNeverGoesBelowTLS12(mode: TLSVerificationMode, requested: TLSProtocolVersion, effective: TLSProtocolVersion) {
        let configuration = TLSClientConfiguration(serverName: "mta-sts.example", minimumVersion: requested, mode: mode)
        #expect(configuration.effectiveMinimumVersion == effective)
    }

    @Test func theStrictFactoryIsStrict() {
        let configuration = TLSClientConfiguration.strict(serverName: "mta-sts.example")
        #expect(configuration.mode == .strict)
        #expect(configuration.serverName == "mta-sts.example")
        #expect(configuration.trust == .system)
        #expect(configuration.effectiveMinimumVersion == .tls1_2)
        #expect(TLSClientConfiguration(serverName: "mx.example").mode == .observe, "the auditor's default stays observing")
    }

    @Test(arguments: [VerifyCode.certificateHasExpired, .hostnameMismatch, .unableToGetIssuerCertificateLocally])
    func aVerificationFailureNamesOpenSSLsReason(code: VerifyCode) {
        let error = VerifyError(code: code, depth: 0, subject: "CN=mta-sts.example", issuer: "CN=Issuer", isCA: false)
        let description = TLSFailure.verificationFailed(error).description
        #expect(!code.text.isEmpty)
        #expect(!code.text.hasPrefix("verification error"), "OpenSSL knows the code")
        #expect(description.contains(code.text))
        #expect(description.contains("CN=mta-sts.example"))
    }
}
