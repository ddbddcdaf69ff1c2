internal import COpenSSL

/// A hash function for certificate association data, computed by OpenSSL (EVP_Digest).
///
/// DANE TLSA matching types 1 and 2 compare the SHA-256 or SHA-512 digest of a certificate
/// or of its SubjectPublicKeyInfo (RFC 6698 §2.1.3):
///
/// ```swift
/// let association = DigestAlgorithm.sha256.digest(of: leaf.subjectPublicKeyInfo)  // "3 1 1" data
/// ```
public enum DigestAlgorithm: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// SHA-256 (FIPS 180-4), TLSA matching type 1.
    case sha256
    /// SHA-512 (FIPS 180-4), TLSA matching type 2.
    case sha512

    /// The digest's length in bytes: 32 or 64.
    public var byteCount: Int {
        switch self {
        case .sha256: 32
        case .sha512: 64
        }
    }

    public var description: String {
        switch self {
        case .sha256: "SHA-256"
        case .sha512: "SHA-512"
        }
    }

    /// The digest of `bytes`, ``byteCount`` long; nil when OpenSSL refuses (no provider offers
    /// the algorithm, or it cannot allocate).
    public func digest(of bytes: [UInt8]) -> [UInt8]? {
        // EVP_sha256 and EVP_sha512 return static method tables, never freed.
        let method = switch self {
        case .sha256: EVP_sha256()
        case .sha512: EVP_sha512()
        }
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // EVP_Digest makes and frees its own EVP_MD_CTX and writes into our buffer.
        let result = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, method, nil)
            }
        }
        guard result == 1, Int(length) == byteCount else {
            ERR_clear_error()
            return nil
        }
        return Array(output.prefix(byteCount))
    }
}
