/// Checks, before ldns reads a message, that every record's RDLENGTH agrees with its rdata.
///
/// ldns (`ldns_wire2rdf` in wire2host.c) reads a domain name in rdata up to the end of the
/// packet, not the end of the rdata, and never checks that the fields it read end where
/// RDLENGTH says: an MX record whose RDLENGTH is shorter than its name is accepted, and the
/// next record is then read from the wrong offset. RFC 1035 §3.2.1 and §4.1.3 make RDLENGTH
/// the length of the RDATA field, so a record whose fields do not fill it exactly is malformed.
///
/// Only the types whose rdata is made of known fields are measured: A (4 octets), AAAA (16),
/// NS, CNAME, PTR (one name), MX (2 octets and a name), SOA (two names and 20 octets). For the
/// others only the bounds are checked (RDLENGTH within the message).
enum RDataLengthCheck {
    /// Nil when the message is consistent, otherwise why not.
    static func problem(in message: [UInt8]) -> String? {
        guard message.count >= 12 else { return nil }
        func u16(_ at: Int) -> Int { Int(message[at]) << 8 | Int(message[at + 1]) }
        let questions = u16(4)
        let records = u16(6) + u16(8) + u16(10)
        var offset = 12
        for _ in 0..<questions {
            guard let end = nameEnd(message, from: offset), end + 4 <= message.count else {
                return "a question runs past the end of the message"
            }
            offset = end + 4
        }
        for index in 0..<records {
            guard let end = nameEnd(message, from: offset), end + 10 <= message.count else {
                return "record \(index + 1) runs past the end of the message"
            }
            let type = u16(end)
            let length = u16(end + 8)
            let start = end + 10
            guard start + length <= message.count else {
                return "record \(index + 1) has RDLENGTH \(length), past the end of the message"
            }
            if let measured = measure(type: type, message, from: start, limit: start + length), measured != length {
                return "record \(index + 1) (type \(type)) has RDLENGTH \(length) but its data is \(measured) octets (RFC 1035 §3.2.1)"
            }
            offset = start + length
        }
        return nil
    }

    /// The length of the rdata's known fields read from `start`, names read no further than
    /// `limit`; `limit + 1` when they do not fit in it; nil for types not measured.
    private static func measure(type: Int, _ message: [UInt8], from start: Int, limit: Int) -> Int? {
        func name(at offset: Int) -> Int? {
            guard let end = nameEnd(message, from: offset), end <= limit else { return nil }
            return end
        }
        switch type {
        case 1: return 4
        case 28: return 16
        case 2, 5, 12: return name(at: start).map { $0 - start } ?? limit - start + 1
        case 15:
            guard start + 2 <= limit else { return limit - start + 1 }
            return name(at: start + 2).map { $0 - start } ?? limit - start + 1
        case 6:
            guard let first = name(at: start), let second = name(at: first) else { return limit - start + 1 }
            return second + 20 - start
        default: return nil
        }
    }

    /// The offset just past the name at `offset` as it sits in the message (a compression
    /// pointer counts as its two octets), or nil when it is malformed or runs off the end.
    static func nameEnd(_ message: [UInt8], from offset: Int) -> Int? {
        var position = offset
        while position < message.count {
            let length = Int(message[position])
            switch length & 0xC0 {
            case 0x00:
                if length == 0 { return position + 1 }
                position += 1 + length
            case 0xC0:
                return position + 2 <= message.count ? position + 2 : nil
            default:
                return nil
            }
        }
        return nil
    }
}
