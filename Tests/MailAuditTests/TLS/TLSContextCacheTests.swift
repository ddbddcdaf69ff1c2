import Foundation
@testable import MailAuditTLS
import MailAuditTesting
import Testing

/// The SSL_CTX cache: one context per trust configuration, a fresh one when the CA file
/// changes, none kept for a file that cannot be loaded. Each test has a cache of its own.
struct TLSContextCacheTests {
    static func key(_ path: String, mode: TLSVerificationMode = .observe, minimumVersion: TLSProtocolVersion = .tls1_0) -> TLSContextKey {
        TLSContextKey(trust: .caFile(path), mode: mode, minimumVersion: minimumVersion)
    }

    @Test func oneKeyGetsOneContext() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let cache = TLSContextCache()
        let first = try cache.context(for: Self.key(ca.rootFile.path))
        let second = try cache.context(for: Self.key(ca.rootFile.path))
        #expect(first === second)
        #expect(cache.count == 1)
    }

    @Test func eachPartOfTheKeyGetsItsOwnContext() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let copy = ca.directory.appendingPathComponent("root-copy.pem")
        try FileManager.default.copyItem(at: ca.rootFile, to: copy)
        let cache = TLSContextCache()
        let keys = [
            Self.key(ca.rootFile.path),
            Self.key(copy.path),
            Self.key(ca.rootFile.path, mode: .strict),
            Self.key(ca.rootFile.path, minimumVersion: .tls1_2),
        ]
        let contexts = try keys.map { key throws(TLSFailure) in try cache.context(for: key) }
        #expect(Set(contexts.map(ObjectIdentifier.init)).count == keys.count)
        #expect(cache.count == keys.count)
    }

    @Test func concurrentFirstRequestsShareOneContext() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let cache = TLSContextCache()
        let key = Self.key(ca.rootFile.path)
        let identities = await withTaskGroup(of: ObjectIdentifier?.self) { group in
            for _ in 0..<16 {
                group.addTask { (try? cache.context(for: key)).map(ObjectIdentifier.init) }
            }
            return await group.reduce(into: [ObjectIdentifier?]()) { $0.append($1) }
        }
        #expect(identities.count == 16)
        #expect(Set(identities).count == 1)
        #expect(identities.first != nil)
        #expect(cache.count == 1)
    }

    @Test func aReplacedCAFileGetsAFreshContext() async throws {
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let other = try await TestCA.create()
        defer { other.remove() }
        let file = ca.directory.appendingPathComponent("trust.pem")
        try FileManager.default.copyItem(at: ca.rootFile, to: file)
        let cache = TLSContextCache()
        let before = try cache.context(for: Self.key(file.path))

        try (try Data(contentsOf: ca.rootFile) + Data(contentsOf: other.rootFile)).write(to: file)
        let after = try cache.context(for: Self.key(file.path))
        #expect(after !== before)
        #expect(try cache.context(for: Self.key(file.path)) === after)
        #expect(cache.count == 1, "the new context replaces the old one")
    }

    @Test func aCAFileThatCannotBeLoadedIsAConfigurationErrorAndNotKept() throws {
        let cache = TLSContextCache()
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-missing-\(UUID().uuidString).pem")
        #expect {
            try cache.context(for: Self.key(missing.path))
        } throws: { error in
            guard case TLSFailure.configuration(let reason) = error else { return false }
            return reason.contains(missing.path)
        }
        #expect(cache.count == 0)
    }
}
