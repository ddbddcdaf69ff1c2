internal import COpenSSL
import MailAuditCore
import Foundation

/// Everything an `SSL_CTX` holds, so everything two handshakes must agree on to share one.
///
/// The server name and the verification time are per connection: ``SSLSession`` sets them on
/// its `SSL`, so they are not part of the key.
struct TLSContextKey: Hashable, Sendable {
    var trust: TLSTrust
    var mode: TLSVerificationMode
    var minimumVersion: TLSProtocolVersion

    init(trust: TLSTrust, mode: TLSVerificationMode, minimumVersion: TLSProtocolVersion) {
        self.trust = trust
        self.mode = mode
        self.minimumVersion = minimumVersion
    }

    init(_ configuration: TLSClientConfiguration) {
        self.init(trust: configuration.trust, mode: configuration.mode, minimumVersion: configuration.effectiveMinimumVersion)
    }
}

/// Owns one `SSL_CTX`: protocol floor, trust store and verification mode for one trust
/// configuration.
///
/// Sendable because it is configured completely in `init` and never changed afterwards:
/// OpenSSL allows `SSL_new` on one configured `SSL_CTX` from many threads at once (its
/// reference count and the X509_STORE's lookups take their own locks).
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    let key: TLSContextKey

    /// - Throws: ``TLSFailure/configuration(_:)`` when OpenSSL cannot make a context or the
    ///   CA file cannot be loaded.
    init(_ key: TLSContextKey) throws(TLSFailure) {
        // SSL_CTX_new: freed with SSL_CTX_free in deinit.
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw .configuration("SSL_CTX_new: \(drainOpenSSLErrors() ?? "failed")")
        }
        pointer = context
        self.key = key
        _ = mailaudit_SSL_CTX_set_min_proto_version(context, Int32(key.minimumVersion.rawValue))
        switch key.mode {
        case .observe:
            // Observe old servers instead of refusing them: allow TLS 1.0 and weak keys, so the
            // audit can report them (RFC 8996) rather than fail the handshake.
            SSL_CTX_set_security_level(context, 0)
            // Verification is deferred: SSL_VERIFY_NONE lets the handshake finish, the callback
            // records every error, and SSL_get_verify_result is read afterwards.
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, recordVerifyError)
        case .strict:
            // SSL_VERIFY_PEER with a callback that passes OpenSSL's verdict on: the first
            // error aborts the handshake, and the recorder keeps which certificate it was.
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, recordVerifyErrorAndAbort)
        }
        switch key.trust {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .configuration("cannot load the system trust store: \(drainOpenSSLErrors() ?? "unknown error")")
            }
        case .caFile(let path):
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw .configuration("cannot load CA file \(path): \(drainOpenSSLErrors() ?? "unknown error")")
            }
        }
    }

    deinit { SSL_CTX_free(pointer) }
}

/// One `SSL_CTX` per trust configuration, made on first use and shared by every later
/// handshake, so that a bulk audit loads its CA file once instead of once per connection.
///
/// A context whose CA file has changed on disk since (another size, modification time or
/// inode) is replaced by a fresh one; sessions still using the old one keep it alive until
/// they end. Contexts that failed to load are not kept. Thread-safe: the first caller for a
/// key makes the context while holding the lock, so concurrent first handshakes share it too.
final class TLSContextCache: Sendable {
    /// The cache every ``TLSClient`` uses.
    static let shared = TLSContextCache()

    private struct Entry {
        var caFile: FileSignature?
        var context: TLSContext
    }

    private let entries = Locked<[TLSContextKey: Entry]>([:])

    /// The shared context for `key`, made now if there is none or its CA file has changed.
    ///
    /// - Throws: ``TLSFailure/configuration(_:)`` when the context cannot be made.
    func context(for key: TLSContextKey) throws(TLSFailure) -> TLSContext {
        let signature: FileSignature? = if case .caFile(let path) = key.trust { FileSignature(path: path) } else { nil }
        return try entries.withLock { entries throws(TLSFailure) -> TLSContext in
            if let entry = entries[key], entry.caFile == signature { return entry.context }
            let context = try TLSContext(key)
            entries[key] = Entry(caFile: signature, context: context)
            return context
        }
    }

    /// How many contexts the cache holds.
    var count: Int { entries.withLock { $0.count } }
}

/// What tells a replaced file from the one read before: inode, size and modification time.
struct FileSignature: Hashable, Sendable {
    var inode: UInt64
    var size: UInt64
    var modified: Date

    /// Nil when the file cannot be examined; loading it will then fail and say why.
    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber,
              let modified = attributes[.modificationDate] as? Date else { return nil }
        self.inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        self.size = size.uint64Value
        self.modified = modified
    }
}
