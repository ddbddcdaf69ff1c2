internal import COpenSSL
import Foundation
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CertificateFacts {
    /// Copies the facts out of a borrowed `X509`; the certificate is not freed here.
    init(certificate: OpaquePointer) {
        var dnsNames: [String] = []
        var ipAddresses: [IPAddress] = []
        if let names = GeneralNames(of: certificate) {
            for index in 0..<max(0, mailaudit_sk_GENERAL_NAME_num(names.pointer)) {
                // Borrowed from the stack, freed with it.
                guard let name = mailaudit_sk_GENERAL_NAME_value(names.pointer, index),
                      let string = mailaudit_GENERAL_NAME_string(name) else { continue }
                let bytes = asn1Bytes(string)
                switch mailaudit_GENERAL_NAME_type(name) {
                case GEN_DNS: dnsNames.append(String(decoding: bytes, as: UTF8.self))
                case GEN_IPADD: if let address = IPAddress(bytes: bytes) { ipAddresses.append(address) }
                default: break
                }
            }
        }
        self.init(
            subject: nameText(X509_get_subject_name(certificate)),  // borrowed
            issuer: nameText(X509_get_issuer_name(certificate)),  // borrowed
            dnsNames: dnsNames,
            ipAddresses: ipAddresses,
            notBefore: asn1Date(X509_get0_notBefore(certificate)),  // borrowed
            notAfter: asn1Date(X509_get0_notAfter(certificate)),  // borrowed
            publicKey: publicKeyFacts(certificate),
            signatureAlgorithm: readSignatureAlgorithm(certificate).name,
            signatureDigest: readSignatureAlgorithm(certificate).digest,
            isSelfSigned: X509_self_signed(certificate, 1) == 1,
            isCA: isCertificateAuthority(certificate),
            sha256Fingerprint: fingerprint(certificate),
            der: derEncoding(certificate),
            subjectPublicKeyInfo: subjectPublicKeyInfoEncoding(certificate))
    }
}

/// The DER encoding of a borrowed `X509` (RFC 5280 §4.1). OpenSSL keeps the signed part as
/// received, so these are the bytes the server sent. Empty only if OpenSSL cannot allocate.
func derEncoding(_ certificate: OpaquePointer) -> [UInt8] {
    encodeDER { i2d_X509(certificate, $0) }
}

/// The DER SubjectPublicKeyInfo of a borrowed `X509` (RFC 5280 §4.1.2.7), what a DANE TLSA
/// record with selector 1 matches (RFC 6698 §2.1.2).
func subjectPublicKeyInfoEncoding(_ certificate: OpaquePointer) -> [UInt8] {
    // X509_get_X509_PUBKEY: borrowed from the certificate.
    guard let key = X509_get_X509_PUBKEY(certificate) else { return [] }
    return encodeDER { i2d_X509_PUBKEY(key, $0) }
}

/// Runs an `i2d_*` call twice: with no buffer for the length, then into a buffer of ours, so
/// nothing OpenSSL allocates needs freeing.
private func encodeDER(_ encode: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8] {
    let length = encode(nil)
    guard length > 0 else { return [] }
    var bytes = [UInt8](repeating: 0, count: Int(length))
    let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
        // i2d advances the cursor past what it wrote; our array keeps its own base.
        var cursor = buffer.baseAddress
        return encode(&cursor)
    }
    return written == length ? bytes : []
}

/// The RFC 2253 text of a borrowed `X509_NAME`.
func nameText(_ name: OpaquePointer?) -> String {
    guard let name, let bio = MemoryBIO() else { return "" }
    guard mailaudit_X509_NAME_print_rfc2253(bio.pointer, name) >= 0 else { return "" }
    return bio.text
}

/// True when basicConstraints says CA, or keyUsage allows certificate signing (RFC 5280 §4.2.1.9).
func isCertificateAuthority(_ certificate: OpaquePointer) -> Bool {
    // X509_check_ca: 1 basicConstraints CA, 3 self-signed v1 certificate, 4 keyUsage keyCertSign, 5 Netscape CA.
    let kind = X509_check_ca(certificate)
    return kind == 1 || kind == 4 || kind == 5
}

private func asn1Bytes(_ string: UnsafePointer<ASN1_STRING>) -> [UInt8] {
    // ASN1_STRING_get0_data: borrowed from the string.
    let count = Int(ASN1_STRING_length(string))
    guard count > 0, let data = ASN1_STRING_get0_data(string) else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: count))
}

private func asn1Date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
    var parts = tm()
    guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return Date(timeIntervalSince1970: 0) }
    return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
}

private func publicKeyFacts(_ certificate: OpaquePointer) -> PublicKeyFacts {
    // X509_get0_pubkey: borrowed from the certificate; nil when OpenSSL cannot decode the key.
    guard let key = X509_get0_pubkey(certificate) else { return PublicKeyFacts(algorithm: "unknown", bits: 0) }
    let algorithm: String
    if let name = EVP_PKEY_get0_type_name(key) {  // static string
        algorithm = String(cString: name)
    } else if let name = OBJ_nid2sn(EVP_PKEY_get_base_id(key)) {  // static string
        algorithm = String(cString: name)
    } else {
        algorithm = "unknown"
    }
    var curve: String?
    var buffer = [CChar](repeating: 0, count: 80)
    var length = 0
    if EVP_PKEY_get_base_id(key) == EVP_PKEY_EC, EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1 {
        curve = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return PublicKeyFacts(algorithm: algorithm, bits: Int(EVP_PKEY_get_bits(key)), curve: curve)
}

private func readSignatureAlgorithm(_ certificate: OpaquePointer) -> (name: String, digest: String?) {
    let signature = X509_get_signature_nid(certificate)
    // OBJ_nid2ln and OBJ_nid2sn return static strings.
    let name = OBJ_nid2ln(signature).map { String(cString: $0) } ?? "unknown"
    var digest: Int32 = 0
    var key: Int32 = 0
    guard OBJ_find_sigid_algs(signature, &digest, &key) == 1, digest != NID_undef,
          let digestName = OBJ_nid2sn(digest) else { return (name, nil) }
    return (name, String(cString: digestName))
}

private func fingerprint(_ certificate: OpaquePointer) -> String {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    // EVP_sha256 returns a static method; X509_digest writes into our buffer.
    guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else { return "" }
    return digest.prefix(Int(length)).map { byte in
        let hex = String(byte, radix: 16)
        return byte < 16 ? "0" + hex : hex
    }.joined()
}

/// Collects the verification errors of one handshake; reached from the C verify callback
/// through the SSL object's app data (ex_data index 0).
final class VerificationRecorder {
    /// A hostile chain cannot make the list grow without bound.
    static let maximumErrors = 32
    var errors: [VerifyError] = []
}

/// The verify callback: records the error and returns 1, so the handshake goes on
/// (verification is deferred; the auditor reads the results afterwards).
func recordVerifyError(_ preverifyOK: Int32, _ store: OpaquePointer?) -> Int32 {
    guard preverifyOK == 0, let store else { return 1 }
    // All borrowed: the SSL from the store's ex_data, the recorder from the SSL's app data,
    // the current certificate from the store.
    guard let sslRaw = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
          let recorderRaw = SSL_get_ex_data(OpaquePointer(sslRaw), 0) else { return 1 }
    let recorder = Unmanaged<VerificationRecorder>.fromOpaque(recorderRaw).takeUnretainedValue()
    guard recorder.errors.count < VerificationRecorder.maximumErrors else { return 1 }
    let certificate = X509_STORE_CTX_get_current_cert(store)
    recorder.errors.append(VerifyError(
        code: VerifyCode(rawValue: Int(X509_STORE_CTX_get_error(store))),
        depth: Int(X509_STORE_CTX_get_error_depth(store)),
        subject: certificate.map { nameText(X509_get_subject_name($0)) } ?? "",
        issuer: certificate.map { nameText(X509_get_issuer_name($0)) } ?? "",
        isCA: certificate.map(isCertificateAuthority) ?? false))
    return 1
}

/// The strict verify callback: records the error like ``recordVerifyError(_:_:)``, then
/// returns OpenSSL's verdict, so that with SSL_VERIFY_PEER the first error aborts the handshake.
func recordVerifyErrorAndAbort(_ preverifyOK: Int32, _ store: OpaquePointer?) -> Int32 {
    _ = recordVerifyError(preverifyOK, store)
    return preverifyOK
}
