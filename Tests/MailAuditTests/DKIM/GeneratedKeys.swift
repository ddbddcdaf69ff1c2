import Foundation
import MailAuditTesting

/// Keys made with the `openssl` command at test time, in a temporary directory; none is committed.
struct GeneratedKey: Sendable {
    /// The PEM private key file.
    var privateKeyPath: String
    /// The public key as a DER SubjectPublicKeyInfo.
    var subjectPublicKeyInfo: [UInt8]
    /// The public key as a bare PKCS#1 RSAPublicKey (RSA keys only).
    var pkcs1: [UInt8]?

    /// What a DKIM record publishes in `p=`: the SPKI for RSA, the raw 32 bytes for Ed25519 (RFC 8463).
    var dkimPublicKey: [UInt8] { pkcs1 == nil ? Array(subjectPublicKeyInfo.suffix(32)) : subjectPublicKeyInfo }
    var dkimBase64: String { Data(dkimPublicKey).base64EncodedString() }

    /// Deletes the key's temporary directory (cached keys stay for the whole run).
    func remove() {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: privateKeyPath).deletingLastPathComponent())
    }
}

enum KeyKind: Sendable, Hashable {
    case rsa(Int)
    case ed25519
    case ecP256
}

/// Runs `openssl` to make keys. Each call uses a fresh temporary directory.
enum KeyMaker {
    static let openssl = URL(fileURLWithPath: "/usr/bin/openssl")

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ arguments: [String]) async throws {
        let result = try await runProcess(openssl, arguments, timeout: .seconds(60))
        guard result.exitCode == 0, !result.terminatedBySignal else {
            throw Failure(description: "openssl \(arguments.joined(separator: " ")): \(result)")
        }
    }

    static func make(_ kind: KeyKind, encryptWith passphrase: String? = nil) async throws -> GeneratedKey {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let key = directory.appendingPathComponent("key.pem").path
        let spki = directory.appendingPathComponent("public.der").path
        var generate: [String] = switch kind {
        case .rsa(let bits): ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:\(bits)"]
        case .ed25519: ["genpkey", "-algorithm", "ed25519"]
        case .ecP256: ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        }
        if let passphrase { generate += ["-aes256", "-pass", "pass:\(passphrase)"] }
        try await run(generate + ["-out", key])
        let pass = passphrase.map { ["-passin", "pass:\($0)"] } ?? []
        try await run(["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", spki] + pass)
        var pkcs1: [UInt8]?
        if case .rsa = kind {
            let path = directory.appendingPathComponent("public-pkcs1.der").path
            try await run(["rsa", "-pubin", "-inform", "DER", "-in", spki, "-RSAPublicKey_out", "-outform", "DER", "-out", path])
            pkcs1 = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return GeneratedKey(
            privateKeyPath: key, subjectPublicKeyInfo: Array(try Data(contentsOf: URL(fileURLWithPath: spki))), pkcs1: pkcs1)
    }
}

/// One key of each kind per test run, made on first use.
actor KeyCache {
    static let shared = KeyCache()
    private var keys: [KeyKind: Task<GeneratedKey, any Error>] = [:]

    func key(_ kind: KeyKind) async throws -> GeneratedKey {
        let task = keys[kind] ?? Task { try await KeyMaker.make(kind) }
        keys[kind] = task
        return try await task.value
    }
}
