import Foundation
import MailAuditTLS
import Testing

/// OpenSSL decoding of DKIM public keys and matching of private keys. Every key is made by the
/// `openssl` command at test time.
@Suite("DKIM keys through OpenSSL")
struct DKIMKeyDecodingTests {
    /// (key kind, k=, expected algorithm, expected bits, why).
    static let keys: [(KeyKind, String, DKIMKeyFacts.Algorithm, Int, String)] = [
        (.rsa(512), "rsa", .rsa, 512, "too short for RFC 8301, but it decodes"),
        (.rsa(1024), "rsa", .rsa, 1024, "the minimum RFC 8301 allows"),
        (.rsa(2048), "rsa", .rsa, 2048, "the recommended size"),
        (.ed25519, "ed25519", .ed25519, 256, "the raw 32 bytes of RFC 8463"),
    ]

    @Test("published keys decode to their type and size", arguments: keys)
    func decodes(_ kind: KeyKind, _ keyType: String, _ algorithm: DKIMKeyFacts.Algorithm, _ bits: Int, _ why: String) async throws {
        let key = try await KeyCache.shared.key(kind)
        let facts = try DKIMPublicKey.decode(keyType: keyType, bytes: key.dkimPublicKey)
        #expect(facts.algorithm == algorithm, "\(why)")
        #expect(facts.bits == bits, "\(why)")
        #expect(facts.encoding == (algorithm == .ed25519 ? .rawEd25519 : .subjectPublicKeyInfo))
        #expect(facts.subjectPublicKeyInfo == key.subjectPublicKeyInfo, "the canonical DER is the SPKI openssl wrote")
    }

    @Test func aBarePKCS1KeyIsAccepted() async throws {
        let key = try await KeyCache.shared.key(.rsa(2048))
        let facts = try DKIMPublicKey.decode(keyType: "rsa", bytes: try #require(key.pkcs1))
        #expect(facts.encoding == .pkcs1)
        #expect(facts.bits == 2048)
        #expect(facts.subjectPublicKeyInfo == key.subjectPublicKeyInfo, "the same key as its SPKI form")
    }

    /// (what is published, k=, expected error, why).
    @Test func undecodableKeysAreRefused() async throws {
        let ed = try await KeyCache.shared.key(.ed25519)
        let ec = try await KeyCache.shared.key(.ecP256)
        let rsa = try await KeyCache.shared.key(.rsa(1024))
        let cases: [([UInt8], String, DKIMKeyError, String)] = [
            ([1, 2, 3, 4], "rsa", .notAnRSAKey(byteCount: 4), "garbage"),
            (Array(rsa.subjectPublicKeyInfo.dropLast(3)), "rsa", .notAnRSAKey(byteCount: rsa.subjectPublicKeyInfo.count - 3), "a truncated key"),
            (rsa.subjectPublicKeyInfo + [0], "rsa", .notAnRSAKey(byteCount: rsa.subjectPublicKeyInfo.count + 1), "trailing bytes"),
            (ec.subjectPublicKeyInfo, "rsa", .wrongAlgorithm(expected: "rsa", found: "EC"), "an EC key under k=rsa"),
            (ed.subjectPublicKeyInfo, "ed25519", .badEd25519Length(44), "an Ed25519 key must be raw, not an SPKI (RFC 8463 §4.2)"),
            (ed.dkimPublicKey, "dsa", .unknownKeyType("dsa"), "an unknown key type"),
        ]
        for (bytes, keyType, error, why) in cases {
            #expect(throws: error, "\(why)") { try DKIMPublicKey.decode(keyType: keyType, bytes: bytes) }
        }
    }

    @Test("a private key matches its own public key and no other", arguments: [KeyKind.rsa(1024), .rsa(2048), .ed25519])
    func matching(_ kind: KeyKind) async throws {
        let key = try await KeyCache.shared.key(kind)
        let other = try await KeyMaker.make(kind)
        defer { other.remove() }
        let keyType = kind == .ed25519 ? "ed25519" : "rsa"
        let published = try DKIMPublicKey.decode(keyType: keyType, bytes: key.dkimPublicKey)
        #expect(try DKIMPrivateKeyFile.publicKey(atPath: key.privateKeyPath).isSameKey(as: published))
        #expect(try !DKIMPrivateKeyFile.publicKey(atPath: other.privateKeyPath).isSameKey(as: published))
    }

    @Test func unusableKeyFilesAreRefusedWithoutShowingThem() async throws {
        let encrypted = try await KeyMaker.make(.rsa(1024), encryptWith: "secret")
        defer { encrypted.remove() }
        let rsa = try await KeyCache.shared.key(.rsa(1024))
        #expect(throws: DKIMKeyError.self, "an encrypted key is refused, never prompted for") {
            try DKIMPrivateKeyFile.publicKey(atPath: encrypted.privateKeyPath)
        }
        #expect(throws: DKIMKeyError.self, "a missing file") { try DKIMPrivateKeyFile.publicKey(atPath: "/nonexistent/key.pem") }
        let publicOnly = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-public-\(UUID().uuidString).der")
        try Data(rsa.subjectPublicKeyInfo).write(to: publicOnly)
        defer { try? FileManager.default.removeItem(at: publicOnly) }
        do {
            _ = try DKIMPrivateKeyFile.publicKey(atPath: publicOnly.path)
            Issue.record("a file with no private key was accepted")
        } catch {
            #expect(!error.description.contains("BEGIN"), "the message names the file, never its contents")
            #expect(error.description.contains(publicOnly.path))
        }
    }
}
