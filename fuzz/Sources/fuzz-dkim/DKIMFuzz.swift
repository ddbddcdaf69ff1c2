// DKIM key records (RFC 6376 §3.6.1: the tag list and base64) and the key inside, decoded by
// OpenSSL; the raw bytes are also decoded as an RSA and an Ed25519 key.
import MailAuditRecords
import MailAuditTLS

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let record = try? DKIMKeyRecord(parsing: String(decoding: bytes, as: UTF8.self)) {
        // The rendering must parse again. Not always to an equal value: see docs/fuzzing.md.
        let rendered = record.description
        guard (try? DKIMKeyRecord(parsing: rendered)) != nil else {
            fatalError("DKIM key record renders as text that does not parse: \(rendered.debugDescription)")
        }
        if !record.isRevoked, let key = try? DKIMPublicKey.decode(keyType: record.effectiveKeyType, bytes: record.publicKey) {
            _ = key.isSameKey(as: key)
        }
    }
    _ = try? DKIMPublicKey.decode(keyType: "rsa", bytes: bytes)
    _ = try? DKIMPublicKey.decode(keyType: "ed25519", bytes: bytes)
    return 0
}
