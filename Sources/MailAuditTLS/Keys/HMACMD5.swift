internal import COpenSSL

/// HMAC-MD5 (RFC 2104), which SASL CRAM-MD5 needs (RFC 2195 §2). MD5 is weak; CRAM-MD5 is
/// only used when a server offers it and nothing better.
public enum HMACMD5 {
    /// The 16-byte HMAC-MD5 of `message` under `key`, or nil when OpenSSL refuses
    /// (for example in FIPS mode, where MD5 is not available).
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // EVP_md5: a static method table, never freed. HMAC writes into our buffer.
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                output.withUnsafeMutableBufferPointer { out in
                    HMAC(EVP_md5(), keyBytes.baseAddress, Int32(keyBytes.count), messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                         messageBytes.count, out.baseAddress, &length)
                }
            }
        }
        guard result != nil, length == 16 else { return nil }
        return Array(output.prefix(16))
    }
}
