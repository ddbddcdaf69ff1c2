public import Foundation
public import MailAuditCore

/// What one completed TLS handshake showed: the protocol, the cipher, the server's
/// certificate chain and the result of verifying it.
///
/// The handshake is completed with verification deferred, so these facts exist for an
/// expired, self-signed or misnamed certificate too: the auditor reports, it does not abort.
public struct TLSFacts: Hashable, Sendable, Codable {
    /// The negotiated protocol version, for example ``TLSProtocolVersion/tls1_3``.
    public var protocolVersion: TLSProtocolVersion
    /// The negotiated cipher suite's OpenSSL name, for example "TLS_AES_256_GCM_SHA384".
    public var cipher: String
    /// The certificates the server sent, leaf first, in the order sent (RFC 8446 §4.4.2), at
    /// most 20. Each carries its DER and SubjectPublicKeyInfo for DANE matching (RFC 6698).
    public var peerChain: [CertificateFacts]
    /// The chain verification against the trust store, at the verification time.
    public var verification: ChainVerification

    public init(protocolVersion: TLSProtocolVersion, cipher: String, peerChain: [CertificateFacts], verification: ChainVerification) {
        self.protocolVersion = protocolVersion
        self.cipher = cipher
        self.peerChain = peerChain
        self.verification = verification
    }

    /// The server's own certificate, when it sent one.
    public var leaf: CertificateFacts? { peerChain.first }
}

/// A TLS protocol version by its wire value (RFC 8446 §4.2.1), for example 0x0304 for TLS 1.3.
///
/// Versions below 1.2 are deprecated by RFC 8996; ``isDeprecated`` says so.
public struct TLSProtocolVersion: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let ssl3 = TLSProtocolVersion(rawValue: 0x0300)
    public static let tls1_0 = TLSProtocolVersion(rawValue: 0x0301)
    public static let tls1_1 = TLSProtocolVersion(rawValue: 0x0302)
    public static let tls1_2 = TLSProtocolVersion(rawValue: 0x0303)
    public static let tls1_3 = TLSProtocolVersion(rawValue: 0x0304)

    /// True below TLS 1.2: RFC 8996 §4 and §5 forbid TLS 1.0 and 1.1 (RFC 7568, SSL 3).
    public var isDeprecated: Bool { self < .tls1_2 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// "TLSv1.3", "TLSv1.2", … as OpenSSL names them.
    public var description: String {
        switch self {
        case .ssl3: "SSLv3"
        case .tls1_0: "TLSv1"
        case .tls1_1: "TLSv1.1"
        case .tls1_2: "TLSv1.2"
        case .tls1_3: "TLSv1.3"
        default: "0x" + String(rawValue, radix: 16)
        }
    }

    /// In JSON as its name ("TLSv1.3"), which is what people look for.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        let known: [TLSProtocolVersion] = [.ssl3, .tls1_0, .tls1_1, .tls1_2, .tls1_3]
        if let version = known.first(where: { $0.description == text }) {
            self = version
        } else if text.hasPrefix("0x"), let value = Int(text.dropFirst(2), radix: 16) {
            self.init(rawValue: value)
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a TLS version: \(text)"))
        }
    }
}

/// The facts of one X.509 certificate (RFC 5280 §4.1), copied out of OpenSSL.
///
/// ``der`` and ``subjectPublicKeyInfo`` are kept out of the Codable form, so reports and the
/// run history do not carry whole certificates; a decoded value has them empty.
public struct CertificateFacts: Hashable, Sendable, Codable {
    /// The subject in RFC 2253 form, for example "CN=mx1.example.com,O=Example".
    public var subject: String
    /// The issuer in RFC 2253 form.
    public var issuer: String
    /// The DNS names of the subjectAltName extension (RFC 5280 §4.2.1.6), in order.
    public var dnsNames: [String]
    /// The IP addresses of the subjectAltName extension.
    public var ipAddresses: [IPAddress]
    public var notBefore: Date
    public var notAfter: Date
    /// The public key, for example RSA 2048 or EC 256 (prime256v1).
    public var publicKey: PublicKeyFacts
    /// The signature algorithm's OpenSSL long name, for example "sha256WithRSAEncryption".
    public var signatureAlgorithm: String
    /// The signature's digest, for example "SHA256" or "SHA1"; nil for algorithms without a
    /// separate digest (Ed25519).
    public var signatureDigest: String?
    /// True when issuer and subject are the same and the certificate's signature verifies
    /// with its own key.
    public var isSelfSigned: Bool
    /// True when basicConstraints marks it as a CA (RFC 5280 §4.2.1.9).
    public var isCA: Bool
    /// The SHA-256 fingerprint of the DER encoding, as lowercase hex.
    public var sha256Fingerprint: String
    /// The whole certificate in DER, as the server sent it: what a DANE TLSA record with
    /// selector 0 matches (RFC 6698 §2.1.2). Not encoded; empty after decoding.
    public var der: [UInt8] = []
    /// The certificate's SubjectPublicKeyInfo in DER (RFC 5280 §4.1.2.7): what a TLSA record
    /// with selector 1 matches. Not encoded; empty after decoding.
    public var subjectPublicKeyInfo: [UInt8] = []

    private enum CodingKeys: String, CodingKey {
        case subject, issuer, dnsNames, ipAddresses, notBefore, notAfter, publicKey, signatureAlgorithm, signatureDigest,
             isSelfSigned, isCA, sha256Fingerprint
    }

    public init(
        subject: String, issuer: String, dnsNames: [String], ipAddresses: [IPAddress], notBefore: Date, notAfter: Date,
        publicKey: PublicKeyFacts, signatureAlgorithm: String, signatureDigest: String?, isSelfSigned: Bool, isCA: Bool,
        sha256Fingerprint: String, der: [UInt8] = [], subjectPublicKeyInfo: [UInt8] = []
    ) {
        self.subject = subject
        self.issuer = issuer
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.publicKey = publicKey
        self.signatureAlgorithm = signatureAlgorithm
        self.signatureDigest = signatureDigest
        self.isSelfSigned = isSelfSigned
        self.isCA = isCA
        self.sha256Fingerprint = sha256Fingerprint
        self.der = der
        self.subjectPublicKeyInfo = subjectPublicKeyInfo
    }

    /// Whole days from `date` until notAfter, rounded down: 0 on the last day, negative once
    /// expired (RFC 5280 §4.1.2.5).
    public func daysUntilExpiry(at date: Date) -> Int {
        Int((notAfter.timeIntervalSince(date) / 86_400).rounded(.down))
    }

    /// True when `date` lies within notBefore…notAfter.
    public func isValid(at date: Date) -> Bool { notBefore <= date && date <= notAfter }

    /// True when the signature uses SHA-1 or MD5, whose collision resistance is broken
    /// (RFC 6194 §3, RFC 6151 §2).
    public var hasWeakSignatureDigest: Bool {
        guard let digest = signatureDigest?.uppercased() else { return false }
        return digest == "SHA1" || digest == "MD5"
    }
}

/// A certificate's public key: its algorithm, its size and, for elliptic curves, the curve.
public struct PublicKeyFacts: Hashable, Sendable, Codable, CustomStringConvertible {
    /// OpenSSL's type name: "RSA", "EC", "ED25519", "ED448", "DSA", …
    public var algorithm: String
    /// The key size in bits (the modulus for RSA, the group order for EC).
    public var bits: Int
    /// The curve, for example "prime256v1"; nil for non-EC keys.
    public var curve: String?

    public init(algorithm: String, bits: Int, curve: String? = nil) {
        self.algorithm = algorithm
        self.bits = bits
        self.curve = curve
    }

    public var description: String { "\(algorithm) \(bits)" + (curve.map { " (\($0))" } ?? "") }
}

/// The result of verifying the peer chain, read after a handshake that did not abort on it.
public struct ChainVerification: Hashable, Sendable, Codable {
    /// OpenSSL's final result (`SSL_get_verify_result`): ``VerifyCode/ok`` or the last error.
    public var result: VerifyCode
    /// Every error OpenSSL met while verifying, in order, with the certificate concerned.
    public var errors: [VerifyError]
    /// Whether the leaf matches the expected host name (RFC 6125 §6.4, via X509_check_host);
    /// nil when no name was given.
    public var hostNameMatches: Bool?
    /// The name checked, for example the MX host name.
    public var hostName: String?
    /// The time the chain was verified at: the injected time, or the clock's time.
    public var verifiedAt: Date
    /// Whole days from `verifiedAt` until the leaf expires; negative once expired; nil when
    /// the server sent no certificate.
    public var daysUntilExpiry: Int?
    /// Why the chain is not trusted, or nil when it leads to a trusted root.
    public var untrusted: UntrustedChain?

    public init(
        result: VerifyCode, errors: [VerifyError], hostNameMatches: Bool?, hostName: String?, verifiedAt: Date,
        daysUntilExpiry: Int?, untrusted: UntrustedChain?
    ) {
        self.result = result
        self.errors = errors
        self.hostNameMatches = hostNameMatches
        self.hostName = hostName
        self.verifiedAt = verifiedAt
        self.daysUntilExpiry = daysUntilExpiry
        self.untrusted = untrusted
    }

    /// True when nothing at all was wrong: trusted, in date, the right name.
    public var isValid: Bool { result == .ok && errors.isEmpty }

    /// True when some certificate was outside its validity period at `verifiedAt`.
    public var hasExpiredCertificate: Bool { errors.contains { $0.code == .certificateHasExpired } }
}

/// An X.509 verification result code (the `X509_V_*` values of OpenSSL's x509_vfy.h).
public struct VerifyCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let ok = VerifyCode(rawValue: 0)
    public static let unableToGetIssuerCertificate = VerifyCode(rawValue: 2)
    public static let certificateNotYetValid = VerifyCode(rawValue: 9)
    public static let certificateHasExpired = VerifyCode(rawValue: 10)
    public static let depthZeroSelfSignedCertificate = VerifyCode(rawValue: 18)
    public static let selfSignedCertificateInChain = VerifyCode(rawValue: 19)
    public static let unableToGetIssuerCertificateLocally = VerifyCode(rawValue: 20)
    public static let unableToVerifyLeafSignature = VerifyCode(rawValue: 21)
    public static let certificateUntrusted = VerifyCode(rawValue: 27)
    public static let hostnameMismatch = VerifyCode(rawValue: 62)

    /// OpenSSL's text for the code, for example "certificate has expired".
    public var text: String { verifyCodeText(rawValue) }

    public var description: String { "\(rawValue) (\(text))" }

    /// True for the codes that mean "no path to a trusted root".
    public var isTrustFailure: Bool {
        [.unableToGetIssuerCertificate, .depthZeroSelfSignedCertificate, .selfSignedCertificateInChain,
         .unableToGetIssuerCertificateLocally, .unableToVerifyLeafSignature, .certificateUntrusted].contains(self)
    }
}

/// One verification error and the certificate it concerns.
public struct VerifyError: Hashable, Sendable, Codable, CustomStringConvertible {
    public var code: VerifyCode
    /// The position in the chain OpenSSL built: 0 is the leaf.
    public var depth: Int
    /// The subject and issuer of the certificate at that depth (RFC 2253 form).
    public var subject: String
    public var issuer: String
    /// Whether that certificate is a CA certificate.
    public var isCA: Bool

    public init(code: VerifyCode, depth: Int, subject: String, issuer: String, isCA: Bool) {
        self.code = code
        self.depth = depth
        self.subject = subject
        self.issuer = issuer
        self.isCA = isCA
    }

    public var description: String { "depth \(depth) \(subject): \(code.text)" }
}

/// Why a chain leads to no trusted root.
public enum UntrustedChain: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The server's own certificate signs itself (X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT).
    case selfSigned
    /// The server sent no certificate for `missingIssuer`, the issuer of its last non-CA
    /// certificate; the trust store does not have it either. The usual cause is a server
    /// configured with its certificate alone, without the intermediate.
    case incompleteChain(missingIssuer: String)
    /// The chain is complete up to `issuer`, which is no root the trust store holds.
    case unknownIssuer(issuer: String)

    public var description: String {
        switch self {
        case .selfSigned: "self-signed certificate"
        case .incompleteChain(let issuer): "incomplete chain: issuer \(issuer) not sent"
        case .unknownIssuer(let issuer): "unknown issuer \(issuer)"
        }
    }

    /// Classifies the errors of one verification, or nil when none is a trust failure.
    ///
    /// - A self-signed leaf (code 18) is ``selfSigned``.
    /// - A self-signed root in the chain that the store lacks (code 19) is ``unknownIssuer(issuer:)``.
    /// - A missing issuer (codes 2, 20, 21) is ``incompleteChain(missingIssuer:)`` when the
    ///   certificate lacking it is no CA (the server sent its leaf alone, so an intermediate
    ///   is missing), and ``unknownIssuer(issuer:)`` when it is a CA (the server sent its
    ///   intermediates, and they lead to a root the store does not hold).
    public static func classify(_ errors: [VerifyError]) -> UntrustedChain? {
        if errors.contains(where: { $0.code == .depthZeroSelfSignedCertificate }) { return .selfSigned }
        if let root = errors.first(where: { $0.code == .selfSignedCertificateInChain }) {
            return .unknownIssuer(issuer: root.subject)
        }
        let missing: Set<VerifyCode> = [.unableToGetIssuerCertificate, .unableToGetIssuerCertificateLocally, .unableToVerifyLeafSignature]
        if let top = errors.first(where: { missing.contains($0.code) }) {
            return top.isCA ? .unknownIssuer(issuer: top.issuer) : .incompleteChain(missingIssuer: top.issuer)
        }
        if let untrusted = errors.first(where: { $0.code == .certificateUntrusted }) {
            return .unknownIssuer(issuer: untrusted.issuer)
        }
        return nil
    }
}
