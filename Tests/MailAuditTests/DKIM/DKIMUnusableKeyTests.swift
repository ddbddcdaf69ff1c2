import Foundation
import MailAudit
import MailAuditDNS
import MailAuditRecords
import MailAuditTesting
import MailAuditTLS
import Testing

/// RSA keys that decode but that verifiers cannot use: too long for OpenSSL, or with a public
/// exponent no verifier can trust (issue 12, item 5). The SubjectPublicKeyInfo is written by hand,
/// so any modulus length and exponent can be published; no private key exists or is needed.
@Suite("DKIM keys verifiers cannot use")
struct DKIMUnusableKeyTests {
    /// A DER SubjectPublicKeyInfo of rsaEncryption (RFC 8017 §A.1.1, RFC 5280 §4.1.2.7) with a
    /// modulus of exactly `bits` bits (a filler pattern, top bit set) and the exponent `exponent`
    /// (big-endian bytes).
    static func spki(modulusBits bits: Int, exponent: [UInt8]) -> [UInt8] {
        var modulus = [UInt8](repeating: 0, count: (bits + 7) / 8)
        for index in modulus.indices { modulus[index] = UInt8(truncatingIfNeeded: index &* 167 &+ 91) | 1 }
        let topBits = bits % 8 == 0 ? 8 : bits % 8
        modulus[0] = (modulus[0] & UInt8((1 << topBits) - 1)) | UInt8(1 << (topBits - 1))
        let rsaPublicKey = der(0x30, integer(modulus) + integer(exponent))
        let algorithm = der(0x30, der(0x06, [0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]) + [0x05, 0x00])
        return der(0x30, algorithm + der(0x03, [0x00] + rsaPublicKey))
    }

    static func integer(_ bytes: [UInt8]) -> [UInt8] {
        let trimmed = Array(bytes.drop { $0 == 0 })
        return der(0x02, (trimmed.first ?? 0x80) >= 0x80 ? [0x00] + trimmed : trimmed)
    }

    static func der(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        let count = content.count
        if count < 0x80 { return [tag, UInt8(count)] + content }
        let length = withUnsafeBytes(of: UInt32(count).bigEndian, Array.init).drop { $0 == 0 }
        return [tag, 0x80 | UInt8(length.count)] + length + content
    }

    static let f4: [UInt8] = [0x01, 0x00, 0x01]
    /// 2^64 + 1: 65 bits.
    static let wide: [UInt8] = [0x01] + [UInt8](repeating: 0, count: 7) + [0x01]

    struct Case: Sendable, CustomTestStringConvertible {
        var bits: Int
        var exponent: [UInt8]
        var id: String
        var why: String
        var testDescription: String { "\(bits) bits, e=\(exponent): \(id) (\(why))" }
    }

    static let cases: [Case] = [
        Case(bits: 2048, exponent: f4, id: "dkim.key", why: "the usual key"),
        Case(bits: 16_384, exponent: f4, id: "dkim.key", why: "OpenSSL's longest modulus"),
        Case(bits: 16_392, exponent: f4, id: "dkim.key-too-long", why: "one byte over OPENSSL_RSA_MAX_MODULUS_BITS"),
        Case(bits: 20_008, exponent: f4, id: "dkim.key-too-long", why: "the key seen in the wild"),
        Case(bits: 376_000, exponent: f4, id: "dkim.key-too-long", why: "47,000 bytes: refused before decoding"),
        Case(bits: 2048, exponent: [0x01], id: "dkim.key-bad-exponent", why: "e = 1: the signature is the hash"),
        Case(bits: 2048, exponent: [0x02], id: "dkim.key-bad-exponent", why: "e = 2: even"),
        Case(bits: 2048, exponent: [0x01, 0x00, 0x00], id: "dkim.key-bad-exponent", why: "e = 65536: even"),
        Case(bits: 2048, exponent: [0x03], id: "dkim.key", why: "e = 3 is odd and allowed"),
        Case(bits: 4096, exponent: wide, id: "dkim.key-bad-exponent", why: "a 65-bit e with a modulus over 3072 bits"),
        Case(bits: 2048, exponent: wide, id: "dkim.key", why: "a 65-bit e is accepted with a small modulus"),
    ]

    @Test("one verdict per key", arguments: cases)
    func verdict(_ test: Case) throws {
        let text = "v=DKIM1; k=rsa; p=" + Data(Self.spki(modulusBits: test.bits, exponent: test.exponent)).base64EncodedString()
        let record = try DKIMKeyRecord(parsing: text)
        let started = ContinuousClock.now
        let outcome = DKIMKeyOutcome(record)
        #expect(ContinuousClock.now - started < .seconds(5), "decoding is bounded")
        let selector = DKIMSelectorResult(selector: "s1", name: DomainName(labels: ["s1", "_domainkey", "example", "test"]), answer: nil,
                                          content: .key(record, text: text, key: outcome))
        let findings = DKIMRules.selectorFindings(selector, explicit: true)
        let expected: Severity = test.id == "dkim.key" ? .pass : .failure
        #expect(findings.map(\.id.rawValue) == [test.id], "\(findings.map(\.message))")
        #expect(findings.first?.severity == expected)
        #expect((selector.usableKey != nil) == (expected == .pass), "only a passing key counts as usable (DMARC relies on it)")
        if test.bits <= 16_392, case .decoded(let facts) = outcome {
            #expect(facts.bits == test.bits, "OpenSSL read the modulus written")
        }
    }

    @Test func theExponentIsReadFromOpenSSL() throws {
        let facts = try DKIMPublicKey.decode(keyType: "rsa", bytes: Self.spki(modulusBits: 2048, exponent: Self.f4))
        #expect(facts.rsaExponent == RSAPublicExponent(65_537))
        let wide = try DKIMPublicKey.decode(keyType: "rsa", bytes: Self.spki(modulusBits: 2048, exponent: Self.wide))
        #expect(wide.rsaExponent == RSAPublicExponent(bits: 65, value: nil, isOdd: true))
    }

    // MARK: Named selectors with no usable key

    let domain = DomainName(labels: ["example", "test"])

    func findings(_ zone: String, selectors: [String]) async throws -> [Finding] {
        let resolver = try StaticResolver(zone: zone)
        return await DKIMLookup(resolver: CachingResolver(upstream: resolver), selectors: selectors).run(for: domain).findings
    }

    var goodKey: String {
        "\"v=DKIM1; p=" + Data(Self.spki(modulusBits: 2048, exponent: Self.f4)).base64EncodedString() + "\""
    }

    @Test func onlyRevokedNamedSelectorsMeanTheDomainCannotSign() async throws {
        let found = try await findings("old._domainkey.example.test. TXT \"v=DKIM1; p=\"", selectors: ["old"])
        #expect(found.filter { $0.id == "dkim.key-revoked" }.map(\.severity) == [.info], "the revoked selector itself stays info")
        let warning = try #require(found.first { $0.id == "dkim.no-usable-key" })
        #expect(warning.severity == .warning)
        #expect(warning.evidence == ["old: revoked (empty p=)"])
    }

    @Test func aRevokedSelectorBesideAUsableKeyIsOnlyInfo() async throws {
        let zone = """
            old._domainkey.example.test. TXT "v=DKIM1; p="
            new._domainkey.example.test. TXT \(goodKey)
            """
        let found = try await findings(zone, selectors: ["old", "new"])
        #expect(found.contains { $0.id == "dkim.key-revoked" && $0.severity == .info })
        #expect(!found.contains { $0.id == "dkim.no-usable-key" })
    }

    @Test func unusableKeysAtEveryNamedSelectorWarnToo() async throws {
        let tooLong = "\"v=DKIM1; p=" + Data(Self.spki(modulusBits: 16_392, exponent: Self.f4)).base64EncodedString() + "\""
        let zone = """
            old._domainkey.example.test. TXT "v=DKIM1; p="
            big._domainkey.example.test. TXT \(tooLong)
            """
        let found = try await findings(zone, selectors: ["old", "big"])
        #expect(found.first { $0.id == "dkim.no-usable-key" }?.evidence == ["old: revoked (empty p=)", "big: RSA 16392-bit, not usable"])
    }

    @Test func discoveryNeverClaimsTheDomainCannotSign() async throws {
        let found = try await findings("selector1._domainkey.example.test. TXT \"v=DKIM1; p=\"", selectors: [])
        #expect(found.contains { $0.id == "dkim.key-revoked" })
        #expect(!found.contains { $0.id == "dkim.no-usable-key" }, "selectors the user did not name say nothing about what they sign with")
    }
}

/// `mailaudit dkim --private-key` on something that is not a key file (issue 12, item 7): a FIFO
/// is refused before it is opened (opening one waits for a writer forever), and so is a device.
@Suite struct DKIMKeyFileKindTests {
    @Test func aFIFOIsRefusedAtOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        let started = ContinuousClock.now
        do {
            _ = try DKIMPrivateKeyFile.publicKey(atPath: path)
            Issue.record("a FIFO was read as a key")
        } catch {
            #expect(error.description.contains("not a regular file"), "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(2), "nothing waited for a writer")
    }

    @Test(arguments: ["/dev/zero", "/dev/null", "/tmp"])
    func devicesAndDirectoriesAreRefused(path: String) {
        #expect(throws: DKIMKeyError.unreadableFile(path, reason: "not a regular file (a FIFO, device or directory), so it is not read")) {
            try DKIMPrivateKeyFile.publicKey(atPath: path)
        }
    }

    @Test func anOversizedFileIsRefusedUnread() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-big-\(UUID().uuidString).pem")
        try Data(count: (1 << 20) + 1).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(throws: DKIMKeyError.self) { try DKIMPrivateKeyFile.publicKey(atPath: url.path) }
    }
}
