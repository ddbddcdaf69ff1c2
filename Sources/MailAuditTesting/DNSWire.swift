public import MailAuditCore

/// Just enough of the DNS wire format (RFC 1035 §4.1) for the harness: build a query,
/// read a header, a question and answer records. Every read is bounds-checked, so garbage
/// yields nil, never a crash.
public enum DNSWire {
    /// A query for one question, class IN, with an optional EDNS OPT record (RFC 6891 §6.1.2).
    ///
    /// - Returns: nil when a label is empty or longer than 63 octets, or the name longer than 255.
    public static func query(
        id: UInt16, name: DomainName, type: RRType, recursionDesired: Bool = false, ednsPayloadSize: UInt16? = 1232
    ) -> [UInt8]? {
        guard let encodedName = encode(name) else { return nil }
        var message: [UInt8] = []
        append(id, to: &message)
        append(recursionDesired ? 0x0100 : 0x0000, to: &message)
        append(1, to: &message)  // QDCOUNT
        append(0, to: &message)  // ANCOUNT
        append(0, to: &message)  // NSCOUNT
        append(ednsPayloadSize == nil ? 0 : 1, to: &message)  // ARCOUNT
        message += encodedName
        append(type.rawValue, to: &message)
        append(1, to: &message)  // class IN
        if let size = ednsPayloadSize {
            message.append(0)  // root owner
            append(41, to: &message)  // OPT
            append(size, to: &message)
            message += [0, 0, 0, 0]  // extended rcode, version, flags
            append(0, to: &message)  // RDLENGTH
        }
        return message
    }

    /// A name in wire form, or nil when a label is empty or too long, or the name too long.
    /// Each character of a label stands for one octet (its scalar value below 256).
    public static func encode(_ name: DomainName) -> [UInt8]? {
        var out: [UInt8] = []
        for label in name.labels {
            let bytes = label.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
            guard !bytes.isEmpty, bytes.count <= 63 else { return nil }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        return out.count <= 255 ? out : nil
    }

    /// The fixed header of a message.
    public struct Header: Hashable, Sendable {
        public var id: UInt16
        public var flags: UInt16
        public var questionCount: UInt16
        public var answerCount: UInt16
        public var authorityCount: UInt16
        public var additionalCount: UInt16

        public var isResponse: Bool { flags & 0x8000 != 0 }
        public var isAuthoritative: Bool { flags & 0x0400 != 0 }
        public var isTruncated: Bool { flags & 0x0200 != 0 }
        public var authenticData: Bool { flags & 0x0020 != 0 }
        /// The 4-bit RCODE of the header (without any EDNS extension).
        public var rcode: UInt16 { flags & 0x000F }
    }

    /// Reads the 12-byte header, or nil when the message is shorter.
    public static func header(of message: [UInt8]) -> Header? {
        var reader = Reader(message)
        guard let id = reader.u16(), let flags = reader.u16(), let qd = reader.u16(), let an = reader.u16(),
              let ns = reader.u16(), let ar = reader.u16() else { return nil }
        return Header(id: id, flags: flags, questionCount: qd, answerCount: an, authorityCount: ns, additionalCount: ar)
    }

    /// The first question of a message, or nil when there is none or it cannot be read.
    public static func firstQuestion(of message: [UInt8]) -> DNSQuestion? {
        guard let header = header(of: message), header.questionCount > 0 else { return nil }
        var reader = Reader(message, offset: 12)
        guard let name = reader.name(), let type = reader.u16(), reader.u16() != nil else { return nil }
        return DNSQuestion(name, RRType(rawValue: type))
    }

    /// One record as read off the wire: the raw rdata, and decoded data for the types
    /// mailaudit reads (names in it decompressed against the whole message).
    public struct Record: Hashable, Sendable {
        public var name: DomainName
        public var type: RRType
        public var recordClass: UInt16
        public var ttl: UInt32
        public var rdata: [UInt8]
        /// The decoded data of an A, AAAA, MX, CNAME, PTR, NS or TXT record; nil for other
        /// types or when the rdata is malformed.
        public var data: RData?
        /// The address of an A or AAAA record, nil for other types.
        public var address: IPAddress? {
            (type == .a && rdata.count == 4) || (type == .aaaa && rdata.count == 16) ? IPAddress(bytes: rdata) : nil
        }
    }

    /// The header and the answer-section records of a message, or nil when it cannot be read.
    public static func answers(of message: [UInt8]) -> (header: Header, answers: [Record])? {
        guard let header = header(of: message) else { return nil }
        var reader = Reader(message, offset: 12)
        for _ in 0..<header.questionCount {
            guard reader.name() != nil, reader.u16() != nil, reader.u16() != nil else { return nil }
        }
        var records: [Record] = []
        for _ in 0..<header.answerCount {
            guard let name = reader.name(), let type = reader.u16(), let rrClass = reader.u16(),
                  let ttl = reader.u32(), let length = reader.u16() else { return nil }
            let start = reader.offset
            guard let rdata = reader.bytes(Int(length)) else { return nil }
            let rrType = RRType(rawValue: type)
            records.append(Record(
                name: name, type: rrType, recordClass: rrClass, ttl: ttl, rdata: rdata,
                data: decode(rrType, rdata, at: start, in: message)))
        }
        return (header, records)
    }

    /// Decodes rdata that starts at `offset` of `message`.
    static func decode(_ type: RRType, _ rdata: [UInt8], at offset: Int, in message: [UInt8]) -> RData? {
        var reader = Reader(message, offset: offset)
        let end = offset + rdata.count
        func nameFillsRData() -> DomainName? {
            guard let name = reader.name(), reader.offset == end else { return nil }
            return name
        }
        switch type {
        case .a: return rdata.count == 4 ? IPAddress(bytes: rdata).map { .a($0) } : nil
        case .aaaa: return rdata.count == 16 ? IPAddress(bytes: rdata).map { .aaaa($0) } : nil
        case .mx:
            guard let preference = reader.u16(), let exchange = nameFillsRData() else { return nil }
            return .mx(preference: preference, exchange: exchange)
        case .cname: return nameFillsRData().map { .cname($0) }
        case .ptr: return nameFillsRData().map { .ptr($0) }
        case .ns: return nameFillsRData().map { .ns($0) }
        case .txt:
            var strings: [[UInt8]] = []
            var rest = rdata[...]
            while let length = rest.popFirst() {
                guard rest.count >= Int(length) else { return nil }
                strings.append(Array(rest.prefix(Int(length))))
                rest = rest.dropFirst(Int(length))
            }
            return .txt(strings)
        default: return nil
        }
    }

    /// Appends `value` in network byte order.
    public static func append(_ value: UInt16, to message: inout [UInt8]) {
        message.append(UInt8(value >> 8))
        message.append(UInt8(value & 0xFF))
    }

    /// A bounds-checked cursor over a message.
    struct Reader {
        let bytes: [UInt8]
        var offset: Int

        init(_ bytes: [UInt8], offset: Int = 0) {
            self.bytes = bytes
            self.offset = offset
        }

        mutating func u8() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() -> UInt16? {
            guard let high = u8(), let low = u8() else { return nil }
            return UInt16(high) << 8 | UInt16(low)
        }

        mutating func u32() -> UInt32? {
            guard let high = u16(), let low = u16() else { return nil }
            return UInt32(high) << 16 | UInt32(low)
        }

        mutating func bytes(_ count: Int) -> [UInt8]? {
            guard count >= 0, offset + count <= bytes.count else { return nil }
            defer { offset += count }
            return Array(bytes[offset..<offset + count])
        }

        /// A possibly compressed name (RFC 1035 §4.1.4). Pointers must point backwards,
        /// which rules out loops.
        mutating func name() -> DomainName? {
            var labels: [String] = []
            var position = offset
            var resumeAt: Int?
            var wireLength = 1
            while true {
                guard position < bytes.count else { return nil }
                let length = Int(bytes[position])
                switch length & 0xC0 {
                case 0x00:
                    if length == 0 {
                        offset = resumeAt ?? position + 1
                        return DomainName(labels: labels)
                    }
                    guard position + 1 + length <= bytes.count else { return nil }
                    wireLength += length + 1
                    guard wireLength <= 255 else { return nil }
                    let label = bytes[position + 1...position + length]
                    labels.append(String(String.UnicodeScalarView(label.map { Unicode.Scalar($0) })))
                    position += 1 + length
                case 0xC0:
                    guard position + 1 < bytes.count else { return nil }
                    let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                    guard target < position else { return nil }
                    if resumeAt == nil { resumeAt = position + 2 }
                    position = target
                default:
                    return nil
                }
            }
        }
    }
}
