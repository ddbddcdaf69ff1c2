internal import COpenSSL
import Foundation

/// Owns one OpenSSL `EVP_PKEY` and frees it in `deinit`. Never leaves this module: callers get
/// ``DKIMKeyFacts``, a Swift value copied out of it.
final class EVPKeyOwner {
    /// The key; this object is its only owner.
    let pointer: OpaquePointer

    /// Takes ownership of a key returned by a `d2i_*`, `PEM_read_*` or `EVP_PKEY_new_*` call.
    init(owning pointer: OpaquePointer) { self.pointer = pointer }

    // EVP_PKEY_free releases the key and clears private key material.
    deinit { EVP_PKEY_free(pointer) }

    /// Decodes a DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7); nil when the bytes are not one.
    static func subjectPublicKeyInfo(_ der: [UInt8]) -> EVPKeyOwner? {
        // A failed decode leaves errors on this thread's queue; leave it empty for the next caller.
        defer { ERR_clear_error() }
        return der.withUnsafeBufferPointer { buffer -> EVPKeyOwner? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            // d2i_PUBKEY returns a new EVP_PKEY that the caller frees (EVPKeyOwner does); it advances cursor.
            guard let key = d2i_PUBKEY(nil, &cursor, buffer.count) else { return nil }
            let owned = EVPKeyOwner(owning: key)
            // Trailing bytes after the structure mean the data is not exactly one key.
            return cursor == base + buffer.count ? owned : nil
        }
    }

    /// Decodes a DER PKCS#1 RSAPublicKey (RFC 8017 §A.1.1); nil when the bytes are not one.
    static func rsaPublicKey(_ der: [UInt8]) -> EVPKeyOwner? {
        defer { ERR_clear_error() }
        return der.withUnsafeBufferPointer { buffer -> EVPKeyOwner? in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            // d2i_PublicKey returns a new EVP_PKEY that the caller frees (EVPKeyOwner does); it advances cursor.
            guard let key = d2i_PublicKey(EVP_PKEY_RSA, nil, &cursor, buffer.count) else { return nil }
            let owned = EVPKeyOwner(owning: key)
            return cursor == base + buffer.count ? owned : nil
        }
    }

    /// Wraps a raw 32-byte Ed25519 public key (RFC 8032 §5.1.5); nil for any other length.
    static func ed25519(raw: [UInt8]) -> EVPKeyOwner? {
        guard raw.count == 32 else { return nil }
        defer { ERR_clear_error() }
        // EVP_PKEY_new_raw_public_key copies the bytes into a new EVP_PKEY that the caller frees.
        return raw.withUnsafeBufferPointer { buffer in
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, buffer.baseAddress, buffer.count).map(EVPKeyOwner.init(owning:))
        }
    }

    /// Reads a private key from a PEM file (PKCS#8, PKCS#1 "RSA PRIVATE KEY", …). The file is read
    /// by OpenSSL, so the key material never sits in Swift memory. An encrypted key is refused
    /// instead of prompting for a passphrase.
    ///
    /// Only a regular file of at most ``maximumKeyFileBytes`` is read: a FIFO, a device or a
    /// directory is refused before it is opened (opening a FIFO waits for a writer forever), and
    /// the check is made again on the open descriptor, opened without blocking.
    static func privateKey(pemFile path: String) throws(DKIMKeyError) -> EVPKeyOwner {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .unreadableFile(path, reason: String(cString: strerror(errno))) }
        try checkKeyFile(info, path: path)
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadableFile(path, reason: String(cString: strerror(errno))) }
        // Swapped for another kind of file between stat and open: the descriptor says so.
        guard fstat(descriptor, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw .unreadableFile(path, reason: reason)
        }
        do throws(DKIMKeyError) { try checkKeyFile(info, path: path) } catch {
            close(descriptor)
            throw error
        }
        // BIO_new_fd with BIO_CLOSE owns the descriptor and closes it in BIO_free below.
        guard let bio = BIO_new_fd(descriptor, BIO_CLOSE) else {
            close(descriptor)
            throw .unreadableFile(path, reason: lastError())
        }
        defer { BIO_free(bio) }
        // The callback returns 0 (no passphrase), so an encrypted key fails instead of prompting.
        // PEM_read_bio_PrivateKey returns a new EVP_PKEY that the caller frees (EVPKeyOwner does).
        guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
            throw .notAPrivateKey(path, reason: lastError())
        }
        return EVPKeyOwner(owning: key)
    }

    /// The largest key file read: a PEM RSA key of 16,384 bits is some 13 KB.
    static let maximumKeyFileBytes = 1 << 20

    private static func checkKeyFile(_ info: stat, path: String) throws(DKIMKeyError) {
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .unreadableFile(path, reason: "not a regular file (a FIFO, device or directory), so it is not read")
        }
        guard info.st_size <= maximumKeyFileBytes else {
            throw .unreadableFile(path, reason: "\(info.st_size) bytes is too large for a key file (at most \(maximumKeyFileBytes))")
        }
    }

    /// The key's base type: `EVP_PKEY_RSA`, `EVP_PKEY_ED25519`, ….
    var baseID: Int32 { EVP_PKEY_get_base_id(pointer) }

    /// The key size in bits: the modulus for RSA, 253 for Ed25519.
    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// The public exponent of an RSA key; nil for other keys.
    var rsaExponent: RSAPublicExponent? {
        guard baseID == EVP_PKEY_RSA else { return nil }
        var exponent: OpaquePointer?
        // EVP_PKEY_get_bn_param allocates a new BIGNUM that the caller frees (BN_free below).
        guard EVP_PKEY_get_bn_param(pointer, "e", &exponent) == 1, let exponent else {
            ERR_clear_error()
            return nil
        }
        defer { BN_free(exponent) }
        let bits = Int(BN_num_bits(exponent))
        // BN_get_word gives all ones when the value does not fit in 64 bits; bits says so first.
        return RSAPublicExponent(bits: bits, value: bits <= 64 ? UInt64(BN_get_word(exponent)) : nil, isOdd: BN_is_odd(exponent) == 1)
    }

    /// OpenSSL's short name of the key type, such as "RSA", "ED25519" or "EC".
    var typeName: String {
        // EVP_PKEY_get0_type_name returns a string owned by the key: borrowed, never freed.
        EVP_PKEY_get0_type_name(pointer).map { String(cString: $0) } ?? "unknown"
    }

    /// The DER SubjectPublicKeyInfo of the public half: the same bytes for a public key and for
    /// the private key it belongs to, so comparing them matches keys.
    var subjectPublicKeyInfoDER: [UInt8] {
        // The first call with a null output only measures; the second writes into our buffer.
        let length = i2d_PUBKEY(pointer, nil)
        guard length > 0 else { return [] }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(pointer, &cursor)
        }
        return written == length ? der : []
    }

    /// The most recent OpenSSL error on this thread, as text, and clears the queue.
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "no detail from OpenSSL" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
