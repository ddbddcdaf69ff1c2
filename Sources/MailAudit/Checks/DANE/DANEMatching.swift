import MailAuditCore
import MailAuditTLS

/// TLSA records matched against the chain an SMTP server sent (RFC 6698 §2.1, RFC 7672 §3.1).
/// Pure: the digests come from OpenSSL, the chain from the probe.
enum DANEMatching {
    enum Usage: UInt8 {
        case pkixTA = 0, pkixEE = 1, daneTA = 2, daneEE = 3
    }

    /// True when one of `chain`'s certificates matches `tlsa`: for DANE-EE the leaf only; for
    /// DANE-TA any certificate the server sent after the leaf (the trust anchor must be in the
    /// chain, RFC 7672 §3.1.2). PKIX usages never match for SMTP (RFC 7672 §3.1.3).
    static func matches(_ tlsa: TLSAData, chain: [CertificateFacts]) -> Bool {
        switch Usage(rawValue: tlsa.usage) {
        case .daneEE: chain.first.map { matches(tlsa, certificate: $0) } ?? false
        case .daneTA: chain.dropFirst().contains { matches(tlsa, certificate: $0) }
        default: false
        }
    }

    /// Selector 0 takes the whole certificate, 1 its SubjectPublicKeyInfo; matching type 0
    /// compares the bytes, 1 their SHA-256, 2 their SHA-512.
    static func matches(_ tlsa: TLSAData, certificate: CertificateFacts) -> Bool {
        let selected: [UInt8]
        switch tlsa.selector {
        case 0: selected = certificate.der
        case 1: selected = certificate.subjectPublicKeyInfo
        default: return false
        }
        guard !selected.isEmpty else { return false }
        switch tlsa.matchingType {
        case 0: return selected == tlsa.data
        case 1: return DigestAlgorithm.sha256.digest(of: selected) == tlsa.data
        case 2: return DigestAlgorithm.sha512.digest(of: selected) == tlsa.data
        default: return false
        }
    }

    /// Usable for SMTP: DANE-TA or DANE-EE, a known selector and matching type (RFC 7672 §3.1).
    static func isUsable(_ tlsa: TLSAData) -> Bool {
        (tlsa.usage == 2 || tlsa.usage == 3) && tlsa.selector <= 1 && tlsa.matchingType <= 2
    }

    /// A key rollover can happen without an outage: two usable records of one kind (the current
    /// key and the next), or DANE-EE beside DANE-TA (RFC 7671 §8.1, §8.4).
    static func hasRolloverScheme(_ records: [TLSAData]) -> Bool {
        let usable = records.filter(isUsable)
        let usages = Set(usable.map(\.usage))
        return usages.count > 1 || Set(usable.map { [$0.usage, $0.selector, $0.matchingType] + $0.data }).count > 1
    }
}
