import MailAuditCore

/// Reads the rdata of DS, DNSKEY, RRSIG, NSEC, NSEC3 and TLSA records from their wire form
/// (RFC 4034 §2.1, §3.1, §4.1, §5.1; RFC 5155 §3.2; RFC 6698 §2.1). Pure: no ldns. Names in
/// these records are never compressed (RFC 4034 §6.2), so they are read as they stand.
enum DNSSECRData {
    /// The typed data, or nil when the type is none of these or the bytes do not fit its layout.
    static func parse(_ type: RRType, _ wire: [UInt8]) -> RData? {
        var reader = WireReader(wire)
        switch type {
        case .ds:
            guard let tag = reader.u16(), let algorithm = reader.u8(), let digestType = reader.u8(), !reader.atEnd else { return nil }
            return .ds(DelegationSigner(keyTag: tag, algorithm: algorithm, digestType: digestType, digest: reader.rest()))
        case .dnskey:
            guard let flags = reader.u16(), let proto = reader.u8(), let algorithm = reader.u8(), !reader.atEnd else { return nil }
            return .dnskey(DNSKey(flags: flags, protocolField: proto, algorithm: algorithm, publicKey: reader.rest()))
        case .rrsig:
            guard let covered = reader.u16(), let algorithm = reader.u8(), let labels = reader.u8(), let ttl = reader.u32(),
                  let expiration = reader.u32(), let inception = reader.u32(), let tag = reader.u16(),
                  let signer = reader.name(), !reader.atEnd else { return nil }
            return .rrsig(Signature(
                typeCovered: RRType(rawValue: covered), algorithm: algorithm, labels: labels, originalTTL: ttl,
                expiration: expiration, inception: inception, keyTag: tag, signerName: signer, signature: reader.rest()))
        case .nsec:
            guard let next = reader.name(), let types = typeBitmaps(reader.rest()) else { return nil }
            return .nsec(next: next, types: types)
        case .nsec3:
            guard let algorithm = reader.u8(), let flags = reader.u8(), let iterations = reader.u16(),
                  let salt = reader.counted(), let next = reader.counted(), !next.isEmpty,
                  let types = typeBitmaps(reader.rest()) else { return nil }
            return .nsec3(NSEC3Data(hashAlgorithm: algorithm, flags: flags, iterations: iterations, salt: salt,
                                    nextHashedOwner: next, types: types))
        case .tlsa:
            guard let usage = reader.u8(), let selector = reader.u8(), let matching = reader.u8() else { return nil }
            return .tlsa(TLSAData(usage: usage, selector: selector, matchingType: matching, data: reader.rest()))
        default:
            return nil
        }
    }

    /// The types of NSEC and NSEC3 type bitmaps (RFC 4034 §4.1.2): windows in increasing order,
    /// each a window number, a length of 1 to 32 and that many bitmap octets.
    static func typeBitmaps(_ wire: [UInt8]) -> [RRType]? {
        var types: [RRType] = []
        var index = 0
        var lastWindow = -1
        while index < wire.count {
            guard index + 2 <= wire.count else { return nil }
            let window = Int(wire[index]), length = Int(wire[index + 1])
            guard window > lastWindow, (1...32).contains(length), index + 2 + length <= wire.count else { return nil }
            for (offset, octet) in wire[(index + 2)..<(index + 2 + length)].enumerated() {
                for bit in 0..<8 where octet & (0x80 >> bit) != 0 {
                    types.append(RRType(rawValue: UInt16(window * 256 + offset * 8 + bit)))
                }
            }
            lastWindow = window
            index += 2 + length
        }
        return types
    }
}

/// A cursor over rdata octets; each read returns nil past the end.
private struct WireReader {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index >= bytes.count }

    mutating func u8() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    mutating func u16() -> UInt16? {
        guard let high = u8(), let low = u8() else { return nil }
        return UInt16(high) << 8 | UInt16(low)
    }

    mutating func u32() -> UInt32? {
        guard let high = u16(), let low = u16() else { return nil }
        return UInt32(high) << 16 | UInt32(low)
    }

    /// A length octet and that many octets (NSEC3 salt and next hashed owner).
    mutating func counted() -> [UInt8]? {
        guard let length = u8(), index + Int(length) <= bytes.count else { return nil }
        defer { index += Int(length) }
        return Array(bytes[index..<(index + Int(length))])
    }

    /// An uncompressed wire-format name ending in the root label.
    mutating func name() -> DomainName? {
        var labels: [[UInt8]] = []
        var total = 1
        while let length = u8() {
            if length == 0 {
                return try? LDNSCodec.domainName(wire: labels.flatMap { [UInt8($0.count)] + $0 } + [0])
            }
            guard length <= 63, index + Int(length) <= bytes.count else { return nil }
            total += 1 + Int(length)
            guard total <= 255 else { return nil }
            labels.append(Array(bytes[index..<(index + Int(length))]))
            index += Int(length)
        }
        return nil
    }

    mutating func rest() -> [UInt8] {
        defer { index = bytes.count }
        return index < bytes.count ? Array(bytes[index...]) : []
    }
}
