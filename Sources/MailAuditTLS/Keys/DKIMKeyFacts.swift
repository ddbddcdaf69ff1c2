internal import COpenSSL

/// What OpenSSL says about a public key, as a Swift value.
public struct DKIMKeyFacts: Hashable, Sendable {
    /// The key algorithms a DKIM verifier knows (RFC 6376 §3.6.1, RFC 8463).
    public enum Algorithm: String, Hashable, Sendable {
        case rsa, ed25519
        /// Anything else OpenSSL could decode, such as an EC key; ``DKIMKeyFacts/typeName`` says which.
        case other
    }

    /// How the key was written.
    public enum Encoding: String, Hashable, Sendable {
        /// A DER SubjectPublicKeyInfo (RFC 5280 §4.1.2.7), as `openssl pkey -pubout` writes it and
        /// as most DKIM publishers use (RFC 6376 erratum 3017).
        case subjectPublicKeyInfo
        /// A bare DER PKCS#1 RSAPublicKey (RFC 8017 §A.1.1), the literal reading of RFC 6376 §3.6.1.
        case pkcs1
        /// The raw 32 bytes of an Ed25519 key (RFC 8463 §4.2).
        case rawEd25519
        /// A private key file; the facts are about its public half.
        case privateKeyFile
    }

    public var algorithm: Algorithm
    /// OpenSSL's name for the key type: "RSA", "ED25519", "EC", ….
    public var typeName: String
    /// The key size in bits: the RSA modulus length, or 256 for Ed25519.
    public var bits: Int
    public var encoding: Encoding
    /// The DER SubjectPublicKeyInfo of the key, the canonical form two keys are compared in.
    public var subjectPublicKeyInfo: [UInt8]
    /// The public exponent `e` of an RSA key; nil for other keys.
    public var rsaExponent: RSAPublicExponent?

    public init(algorithm: Algorithm, typeName: String, bits: Int, encoding: Encoding, subjectPublicKeyInfo: [UInt8],
                rsaExponent: RSAPublicExponent? = nil) {
        self.algorithm = algorithm
        self.typeName = typeName
        self.bits = bits
        self.encoding = encoding
        self.subjectPublicKeyInfo = subjectPublicKeyInfo
        self.rsaExponent = rsaExponent
    }

    /// True when both describe the same public key: their SubjectPublicKeyInfo DER is equal.
    public func isSameKey(as other: DKIMKeyFacts) -> Bool {
        !subjectPublicKeyInfo.isEmpty && subjectPublicKeyInfo == other.subjectPublicKeyInfo
    }

    /// "RSA 2048-bit" or "Ed25519".
    public var summary: String {
        switch algorithm {
        case .rsa: "RSA \(bits)-bit"
        case .ed25519: "Ed25519"
        case .other: "\(typeName) \(bits)-bit"
        }
    }

    init(_ key: EVPKeyOwner, encoding: Encoding) {
        let algorithm: Algorithm = switch key.baseID {
        case EVP_PKEY_RSA: .rsa
        case EVP_PKEY_ED25519: .ed25519
        default: .other
        }
        // OpenSSL reports 253 bits for Ed25519 (the group order); the key is 256 bits long.
        self.init(algorithm: algorithm, typeName: key.typeName, bits: algorithm == .ed25519 ? 256 : key.bits,
                  encoding: encoding, subjectPublicKeyInfo: key.subjectPublicKeyInfoDER, rsaExponent: key.rsaExponent)
    }
}

/// The public exponent `e` of an RSA key, as far as a verifier cares about it.
public struct RSAPublicExponent: Hashable, Sendable, CustomStringConvertible {
    /// Its length in bits.
    public var bits: Int
    /// Its value, when it fits in 64 bits.
    public var value: UInt64?
    public var isOdd: Bool

    public init(bits: Int, value: UInt64?, isOdd: Bool) {
        self.bits = bits
        self.value = value
        self.isOdd = isOdd
    }

    public init(_ value: UInt64) {
        self.init(bits: UInt64.bitWidth - value.leadingZeroBitCount, value: value, isOdd: value % 2 == 1)
    }

    /// "65537", or "a 96-bit number".
    public var description: String { value.map(String.init) ?? "a \(bits)-bit number" }
}

/// Why key bytes or a key file could not be used. Messages never contain key material.
public enum DKIMKeyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// `k=` names a type other than rsa or ed25519.
    case unknownKeyType(String)
    /// The bytes are not an RSA public key in either DER form.
    case notAnRSAKey(byteCount: Int)
    /// The bytes decode, but as another kind of key.
    case wrongAlgorithm(expected: String, found: String)
    /// An Ed25519 key that is not 32 bytes.
    case badEd25519Length(Int)
    /// More bytes than any RSA key a verifier can use; not decoded, so decoding stays bounded.
    case oversized(byteCount: Int)
    /// The key file cannot be opened.
    case unreadableFile(String, reason: String)
    /// The file holds no private key OpenSSL can read without a passphrase.
    case notAPrivateKey(String, reason: String)

    public var description: String {
        switch self {
        case .unknownKeyType(let type): "\"\(type)\" is not a DKIM key type (rsa or ed25519)"
        case .notAnRSAKey(let count):
            "the \(count) bytes of the key are neither a SubjectPublicKeyInfo nor a PKCS#1 RSAPublicKey"
        case .wrongAlgorithm(let expected, let found): "the record says \(expected), but the key is \(found)"
        case .badEd25519Length(let count): "an Ed25519 key is 32 bytes; this one is \(count)"
        case .oversized(let count):
            "the key is \(count) bytes, over \(count / 1000 * 8)000 bits: far beyond the \(DKIMPublicKey.maximumRSABits) bits OpenSSL verifies with"
        case .unreadableFile(let path, let reason): "cannot open \(path): \(reason)"
        case .notAPrivateKey(let path, let reason):
            "\(path) holds no unencrypted PEM private key OpenSSL can read (\(reason))"
        }
    }
}

/// Decodes the public key of a DKIM key record with OpenSSL.
public enum DKIMPublicKey {
    /// The longest RSA modulus OpenSSL does public-key operations with
    /// (`OPENSSL_RSA_MAX_MODULUS_BITS`): a longer key makes every verification fail.
    public static let maximumRSABits = 16_384
    /// Key bytes beyond this are not handed to OpenSSL at all: 8 KiB of DER is a modulus of
    /// some 65,000 bits, four times the longest usable key. DNS bounds a record to 64 KiB anyway.
    public static let maximumRSAKeyBytes = 8_192

    /// Decodes `p=` bytes (already base64-decoded) for the key type `k=`.
    ///
    /// For `rsa`, a DER SubjectPublicKeyInfo is tried first, as `openssl pkey -pubout` writes it
    /// and most publishers use; then a bare PKCS#1 RSAPublicKey, which RFC 6376 §3.6.1 names
    /// and erratum 3017 allows beside the first. Both are accepted; ``DKIMKeyFacts/encoding``
    /// says which was found. For `ed25519`, the key is the raw 32 bytes (RFC 8463 §4.2); a
    /// SubjectPublicKeyInfo there is refused, as verifiers refuse it.
    ///
    /// ```swift
    /// let facts = try DKIMPublicKey.decode(keyType: "rsa", bytes: record.publicKey)
    /// facts.bits   // 2048
    /// ```
    ///
    /// - Throws: ``DKIMKeyError`` for an unknown key type, bytes that are not a key of that
    ///   type, an Ed25519 key that is not 32 bytes, or RSA bytes over ``maximumRSAKeyBytes``.
    public static func decode(keyType: String, bytes: [UInt8]) throws(DKIMKeyError) -> DKIMKeyFacts {
        switch keyType.lowercased() {
        case "rsa":
            guard bytes.count <= maximumRSAKeyBytes else { throw .oversized(byteCount: bytes.count) }
            let facts: DKIMKeyFacts
            if let key = EVPKeyOwner.subjectPublicKeyInfo(bytes) {
                facts = DKIMKeyFacts(key, encoding: .subjectPublicKeyInfo)
            } else if let key = EVPKeyOwner.rsaPublicKey(bytes) {
                facts = DKIMKeyFacts(key, encoding: .pkcs1)
            } else {
                throw .notAnRSAKey(byteCount: bytes.count)
            }
            guard facts.algorithm == .rsa else { throw .wrongAlgorithm(expected: "rsa", found: facts.typeName) }
            return facts
        case "ed25519":
            guard let key = EVPKeyOwner.ed25519(raw: bytes) else { throw .badEd25519Length(bytes.count) }
            return DKIMKeyFacts(key, encoding: .rawEd25519)
        default:
            throw .unknownKeyType(keyType)
        }
    }
}

/// A private key file the user holds, read only to compare its public half with a published key.
public enum DKIMPrivateKeyFile {
    /// The public half of the private key in the PEM file at `path`.
    ///
    /// The file is read by OpenSSL and the private key is freed at once; nothing about it but the
    /// public half leaves this function, and nothing of it is printed or logged.
    ///
    /// - Throws: ``DKIMKeyError/unreadableFile(_:reason:)`` or
    ///   ``DKIMKeyError/notAPrivateKey(_:reason:)`` (an encrypted key included).
    public static func publicKey(atPath path: String) throws(DKIMKeyError) -> DKIMKeyFacts {
        DKIMKeyFacts(try EVPKeyOwner.privateKey(pemFile: path), encoding: .privateKeyFile)
    }
}
