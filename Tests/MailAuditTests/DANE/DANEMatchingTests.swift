import Foundation
import MailAuditCore
import MailAuditTLS
import Testing
@testable import MailAudit

@Suite struct DANEMatchingTests {
    private func certificate(der: [UInt8], spki: [UInt8]) -> CertificateFacts {
        CertificateFacts(
            subject: "CN=test", issuer: "CN=test", dnsNames: [], ipAddresses: [], notBefore: Date(), notAfter: Date(),
            publicKey: PublicKeyFacts(algorithm: "EC", bits: 256, curve: nil), signatureAlgorithm: "ecdsa-with-SHA256",
            signatureDigest: "SHA256", isSelfSigned: false, isCA: false, sha256Fingerprint: "", der: der, subjectPublicKeyInfo: spki)
    }

    private let leaf: [UInt8] = Array("leaf certificate".utf8), leafKey: [UInt8] = Array("leaf key".utf8)
    private let anchor: [UInt8] = Array("intermediate".utf8), anchorKey: [UInt8] = Array("intermediate key".utf8)

    private var chain: [CertificateFacts] {
        [certificate(der: leaf, spki: leafKey), certificate(der: anchor, spki: anchorKey)]
    }

    @Test func everySelectorAndMatchingType() throws {
        let sha256 = try #require(DigestAlgorithm.sha256.digest(of: leafKey))
        let sha512 = try #require(DigestAlgorithm.sha512.digest(of: leaf))
        #expect(DANEMatching.matches(TLSAData(usage: 3, selector: 1, matchingType: 0, data: leafKey), chain: chain))
        #expect(DANEMatching.matches(TLSAData(usage: 3, selector: 1, matchingType: 1, data: sha256), chain: chain))
        #expect(DANEMatching.matches(TLSAData(usage: 3, selector: 0, matchingType: 2, data: sha512), chain: chain))
        #expect(!DANEMatching.matches(TLSAData(usage: 3, selector: 0, matchingType: 1, data: sha256), chain: chain), "SPKI digest under selector 0")
        #expect(!DANEMatching.matches(TLSAData(usage: 3, selector: 1, matchingType: 3, data: sha256), chain: chain), "unknown matching type")
    }

    @Test func daneEEIsTheLeafAndDaneTAIsWhatFollowsIt() throws {
        let anchorDigest = try #require(DigestAlgorithm.sha256.digest(of: anchorKey))
        let leafDigest = try #require(DigestAlgorithm.sha256.digest(of: leafKey))
        #expect(DANEMatching.matches(TLSAData(usage: 2, selector: 1, matchingType: 1, data: anchorDigest), chain: chain))
        #expect(!DANEMatching.matches(TLSAData(usage: 3, selector: 1, matchingType: 1, data: anchorDigest), chain: chain))
        #expect(!DANEMatching.matches(TLSAData(usage: 2, selector: 1, matchingType: 1, data: leafDigest), chain: chain))
        #expect(!DANEMatching.matches(TLSAData(usage: 1, selector: 1, matchingType: 1, data: leafDigest), chain: chain), "PKIX never matches for SMTP")
    }

    @Test func rolloverSchemes() {
        let current = TLSAData(usage: 3, selector: 1, matchingType: 1, data: [1])
        let next = TLSAData(usage: 3, selector: 1, matchingType: 1, data: [2])
        let anchor = TLSAData(usage: 2, selector: 1, matchingType: 1, data: [3])
        let pkix = TLSAData(usage: 1, selector: 1, matchingType: 1, data: [4])
        #expect(!DANEMatching.hasRolloverScheme([current]))
        #expect(!DANEMatching.hasRolloverScheme([current, pkix]), "an unusable record is no second key")
        #expect(DANEMatching.hasRolloverScheme([current, next]))
        #expect(DANEMatching.hasRolloverScheme([current, anchor]))
    }
}
