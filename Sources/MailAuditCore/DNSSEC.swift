import Foundation

/// What is known about an answer's authenticity (RFC 4033 §5, RFC 4035 §4.3).
public enum DNSSECStatus: Hashable, Sendable, CustomStringConvertible {
    /// A chain of signatures from a trust anchor proves the answer.
    case secure
    /// The answer is provably unsigned: the chain of trust ends in a proven absence of DS.
    case insecure
    /// The answer should be signed but its signatures do not verify; the reason says how.
    case bogus(String)
    /// Nothing was checked, or the check could not be finished: neither secure nor broken.
    case indeterminate

    /// The status of an answer built from several replies (a CNAME chain): its weakest link.
    public func combined(with other: DNSSECStatus) -> DNSSECStatus {
        switch (self, other) {
        case (.bogus, _): self
        case (_, .bogus): other
        case (.indeterminate, _), (_, .indeterminate): .indeterminate
        case (.insecure, _), (_, .insecure): .insecure
        default: .secure
        }
    }

    public var description: String {
        switch self {
        case .secure: "secure"
        case .insecure: "insecure (unsigned)"
        case .bogus(let reason): "bogus: \(reason)"
        case .indeterminate: "not validated"
        }
    }
}

/// DS rdata (RFC 4034 §5.1): a digest of a child zone's key, published in the parent.
public struct DelegationSigner: Hashable, Sendable {
    public var keyTag: UInt16
    public var algorithm: UInt8
    public var digestType: UInt8
    public var digest: [UInt8]

    public init(keyTag: UInt16, algorithm: UInt8, digestType: UInt8, digest: [UInt8]) {
        self.keyTag = keyTag
        self.algorithm = algorithm
        self.digestType = digestType
        self.digest = digest
    }
}

/// DNSKEY rdata (RFC 4034 §2.1).
public struct DNSKey: Hashable, Sendable {
    public var flags: UInt16
    public var protocolField: UInt8
    public var algorithm: UInt8
    public var publicKey: [UInt8]

    public init(flags: UInt16, protocolField: UInt8, algorithm: UInt8, publicKey: [UInt8]) {
        self.flags = flags
        self.protocolField = protocolField
        self.algorithm = algorithm
        self.publicKey = publicKey
    }

    /// The Zone Key flag (bit 7).
    public var isZoneKey: Bool { flags & 0x0100 != 0 }
    /// The Secure Entry Point flag (bit 15): a key-signing key by convention.
    public var isSecureEntryPoint: Bool { flags & 0x0001 != 0 }
}

/// RRSIG rdata (RFC 4034 §3.1). Times are seconds since 1970 modulo 2^32 (serial arithmetic, RFC 1982).
public struct Signature: Hashable, Sendable {
    public var typeCovered: RRType
    public var algorithm: UInt8
    public var labels: UInt8
    public var originalTTL: UInt32
    public var expiration: UInt32
    public var inception: UInt32
    public var keyTag: UInt16
    public var signerName: DomainName
    public var signature: [UInt8]

    public init(typeCovered: RRType, algorithm: UInt8, labels: UInt8, originalTTL: UInt32, expiration: UInt32,
                inception: UInt32, keyTag: UInt16, signerName: DomainName, signature: [UInt8]) {
        self.typeCovered = typeCovered
        self.algorithm = algorithm
        self.labels = labels
        self.originalTTL = originalTTL
        self.expiration = expiration
        self.inception = inception
        self.keyTag = keyTag
        self.signerName = signerName
        self.signature = signature
    }
}

/// NSEC3 rdata (RFC 5155 §3.2).
public struct NSEC3Data: Hashable, Sendable {
    public var hashAlgorithm: UInt8
    public var flags: UInt8
    public var iterations: UInt16
    public var salt: [UInt8]
    public var nextHashedOwner: [UInt8]
    public var types: [RRType]

    public init(hashAlgorithm: UInt8, flags: UInt8, iterations: UInt16, salt: [UInt8], nextHashedOwner: [UInt8], types: [RRType]) {
        self.hashAlgorithm = hashAlgorithm
        self.flags = flags
        self.iterations = iterations
        self.salt = salt
        self.nextHashedOwner = nextHashedOwner
        self.types = types
    }

    /// The Opt-Out flag: unsigned delegations may lie in this span.
    public var optOut: Bool { flags & 0x01 != 0 }
}

/// TLSA rdata (RFC 6698 §2.1): how a TLS server's certificate is pinned.
public struct TLSAData: Hashable, Sendable {
    /// 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE (RFC 7218).
    public var usage: UInt8
    /// 0 the full certificate, 1 its SubjectPublicKeyInfo.
    public var selector: UInt8
    /// 0 exact bytes, 1 SHA-256, 2 SHA-512.
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }
}

/// Presentation forms (RFC 4034 §2.2, §3.2, §4.2, §5.3; RFC 5155 §3.3; RFC 6698 §2.2).
extension RData {
    var dnssecPresentation: String? {
        switch self {
        case .ds(let ds):
            "\(ds.keyTag) \(ds.algorithm) \(ds.digestType) \(ds.digest.hexUpper)"
        case .dnskey(let key):
            "\(key.flags) \(key.protocolField) \(key.algorithm) \(Data(key.publicKey).base64EncodedString())"
        case .rrsig(let sig):
            "\(sig.typeCovered) \(sig.algorithm) \(sig.labels) \(sig.originalTTL) \(Self.timestamp(sig.expiration)) "
                + "\(Self.timestamp(sig.inception)) \(sig.keyTag) \(sig.signerName.fqdn) \(Data(sig.signature).base64EncodedString())"
        case .nsec(let next, let types):
            ([next.fqdn] + types.map(\.description)).joined(separator: " ")
        case .nsec3(let nsec3):
            ([
                "\(nsec3.hashAlgorithm) \(nsec3.flags) \(nsec3.iterations) \(nsec3.salt.isEmpty ? "-" : nsec3.salt.hexUpper)",
                Base32Hex.encode(nsec3.nextHashedOwner),
            ] + nsec3.types.map(\.description)).joined(separator: " ")
        case .tlsa(let tlsa):
            "\(tlsa.usage) \(tlsa.selector) \(tlsa.matchingType) \(tlsa.data.hexUpper)"
        default:
            nil
        }
    }

    /// YYYYMMDDHHmmSS in UTC.
    private static func timestamp(_ seconds: UInt32) -> String {
        var components = Calendar(identifier: .gregorian).dateComponents(
            in: TimeZone(identifier: "UTC") ?? .current, from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        components.nanosecond = nil
        return String(format: "%04d%02d%02d%02d%02d%02d", components.year ?? 0, components.month ?? 0, components.day ?? 0,
                      components.hour ?? 0, components.minute ?? 0, components.second ?? 0)
    }
}

extension [UInt8] {
    /// Upper-case hexadecimal, as DS and TLSA records are written.
    public var hexUpper: String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Base 32 with the extended hex alphabet, no padding (RFC 4648 §7), as NSEC3 owner names use.
public enum Base32Hex {
    public static func encode(_ bytes: [UInt8]) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUV".utf8)
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[(buffer >> bits) & 0x1F])
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 0x1F]) }
        return String(decoding: out, as: UTF8.self)
    }
}
