internal import CLDNS
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why bytes could not be turned into a DNS message, or a question into bytes.
enum CodecError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The question cannot be put on the wire (for example a name longer than 255 octets).
    case unencodable(String)
    /// The bytes are not a well-formed DNS message.
    case malformed(String)

    /// The problem alone, without the "malformed reply" prefix.
    var reason: String {
        switch self {
        case .unencodable(let reason), .malformed(let reason): reason
        }
    }

    var description: String {
        switch self {
        case .unencodable(let reason): "cannot encode the query: \(reason)"
        case .malformed(let reason): "malformed reply: \(reason)"
        }
    }
}

/// A DNS message read off the wire, copied out of ldns into Swift values.
struct DecodedReply: Hashable, Sendable {
    var id: UInt16
    /// The QR bit: set on responses (RFC 1035 §4.1.1).
    var isResponse: Bool
    /// The 4-bit header RCODE (RFC 1035 §4.1.1).
    var rcode: UInt16
    /// The TC bit: the answer did not fit and must be asked again over TCP (RFC 1035 §4.2.1, RFC 7766 §5).
    var truncated: Bool
    /// The AD bit (RFC 4035 §3.2.3).
    var authenticData: Bool
    /// The RD bit (RFC 1035 §4.1.1).
    var recursionDesired: Bool
    /// The requestor's UDP payload size from the OPT record, nil without EDNS (RFC 6891 §6.2.3).
    var ednsUDPSize: UInt16?
    /// The first question, or nil when the message carries none or a class other than IN.
    var question: DNSQuestion?
    /// The answer section's records of class IN.
    var answers: [DNSRecord]
    /// The authority section's records of class IN (SOA, NS, NSEC, NSEC3, their RRSIGs).
    var authority: [DNSRecord] = []
}

/// The ldns wire codec. This is the only code in mailaudit that touches ldns pointers:
/// every packet is created and freed inside one call, and only Swift values leave it.
enum LDNSCodec {
    /// The EDNS0 UDP payload size advertised in queries (DNS Flag Day 2020; RFC 6891 §6.2.5).
    static let ednsUDPSize: UInt16 = 1232

    /// Encodes a recursive query (RD set) for `question`, class IN, with the given ID and an OPT
    /// record advertising ``ednsUDPSize``; with `dnssecOK`, the OPT record's DO bit asks for
    /// RRSIG, NSEC and NSEC3 records (RFC 3225, RFC 4035 §3.2.1).
    /// With `checkingDisabled`, the CD bit asks a validating resolver for the data even when
    /// validation fails (RFC 4035 §3.2.2).
    static func encodeQuery(_ question: DNSQuestion, id: UInt16, dnssecOK: Bool = false, checkingDisabled: Bool = false)
        throws(CodecError) -> [UInt8]
    {
        let name = try wireName(question.name)
        // ldns_dname_new_frm_data copies the bytes into a new rdf that we own until
        // ldns_pkt_query_new takes it.
        let qname = name.withUnsafeBytes { raw in
            ldns_dname_new_frm_data(UInt16(raw.count), raw.baseAddress)
        }
        guard let qname else { throw .unencodable("ldns could not build the name \(question.name.fqdn)") }
        // ldns_pkt_query_new takes ownership of qname on success (freed with the packet);
        // on failure it leaves qname to us. The packet is freed with ldns_pkt_free.
        let type = ldns_rr_type(rawValue: UInt32(question.type.rawValue))
        guard let packet = ldns_pkt_query_new(qname, type, LDNS_RR_CLASS_IN, UInt16(LDNS_RD)) else {
            ldns_rdf_deep_free(qname)
            throw .unencodable("ldns could not build a query packet")
        }
        defer { ldns_pkt_free(packet) }
        ldns_pkt_set_id(packet, id)
        ldns_pkt_set_edns_udp_size(packet, ednsUDPSize)
        if dnssecOK { ldns_pkt_set_edns_do(packet, true) }
        if checkingDisabled { ldns_pkt_set_cd(packet, true) }

        // ldns_pkt2wire mallocs `buffer`; we free it.
        var buffer: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_pkt2wire(&buffer, packet, &size)
        defer { free(buffer) }
        guard status == LDNS_STATUS_OK, let buffer else {
            throw .unencodable(errorText(status))
        }
        return Array(UnsafeBufferPointer(start: buffer, count: size))
    }

    /// Decodes a DNS message.
    ///
    /// - Throws: ``CodecError/malformed(_:)`` when ldns rejects the bytes (short header,
    ///   a section past the end, a compression pointer loop, ...) or a record is inconsistent.
    static func decodeReply(_ bytes: [UInt8]) throws(CodecError) -> DecodedReply {
        guard bytes.count >= 12 else {
            throw .malformed("\(bytes.count) bytes is shorter than the 12-byte header (RFC 1035 §4.1.1)")
        }
        // ldns does not check that rdata fields end where RDLENGTH says: checked here first.
        if let problem = RDataLengthCheck.problem(in: bytes) { throw .malformed(problem) }
        // ldns_wire2pkt allocates the packet only on success; we free it with ldns_pkt_free.
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = bytes.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            if let packet { ldns_pkt_free(packet) }
            throw .malformed(errorText(status))
        }
        defer { ldns_pkt_free(packet) }

        var reply = DecodedReply(
            id: ldns_pkt_id(packet),
            isResponse: ldns_pkt_qr(packet),
            rcode: UInt16(ldns_pkt_get_rcode(packet).rawValue & 0x0F),
            truncated: ldns_pkt_tc(packet),
            authenticData: ldns_pkt_ad(packet),
            recursionDesired: ldns_pkt_rd(packet),
            ednsUDPSize: ldns_pkt_edns(packet) ? ldns_pkt_edns_udp_size(packet) : nil,
            question: nil,
            answers: [])

        // ldns_pkt_question / ldns_pkt_answer and the RRs in them are borrowed from the packet.
        if let section = ldns_pkt_question(packet), ldns_rr_list_rr_count(section) > 0,
           let rr = ldns_rr_list_rr(section, 0), ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN,
           let owner = ldns_rr_owner(rr) {
            reply.question = DNSQuestion(try domainName(owner), RRType(rawValue: rrType(rr)))
        }
        reply.answers = try records(ldns_pkt_answer(packet))
        reply.authority = try records(ldns_pkt_authority(packet))
        return reply
    }

    /// The class IN records of a section (borrowed from its packet).
    private static func records(_ section: UnsafeMutablePointer<ldns_rr_list>?) throws(CodecError) -> [DNSRecord] {
        guard let section else { return [] }
        var records: [DNSRecord] = []
        for index in 0..<ldns_rr_list_rr_count(section) {
            guard let rr = ldns_rr_list_rr(section, index), ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN else { continue }
            records.append(try record(rr))
        }
        return records
    }

    // MARK: - Records

    private static func rrType(_ rr: UnsafeMutablePointer<ldns_rr>) -> UInt16 {
        UInt16(truncatingIfNeeded: ldns_rr_get_type(rr).rawValue)
    }

    /// Copies one RR (borrowed from its packet) into a ``DNSRecord``.
    static func record(_ rr: UnsafeMutablePointer<ldns_rr>) throws(CodecError) -> DNSRecord {
        // ldns_rr_owner is borrowed from the RR; never freed here.
        guard let owner = ldns_rr_owner(rr) else { throw .malformed("a record has no owner name") }
        let type = RRType(rawValue: rrType(rr))
        return DNSRecord(name: try domainName(owner), type: type, ttl: ldns_rr_ttl(rr), data: try rdata(rr, type: type))
    }

    private static func rdata(_ rr: UnsafeMutablePointer<ldns_rr>, type: RRType) throws(CodecError) -> RData {
        // ldns_rr_rdf returns a borrowed field, or nil past ldns_rr_rd_count.
        let fields = (0..<ldns_rr_rd_count(rr)).compactMap { ldns_rr_rdf(rr, $0) }
        switch type {
        case .a, .aaaa:
            if fields.count == 1, let address = IPAddress(bytes: bytes(fields[0])),
               address.isIPv6 == (type == .aaaa) {
                return type == .a ? .a(address) : .aaaa(address)
            }
        case .mx:
            if fields.count == 2, ldns_rdf_get_type(fields[1]) == LDNS_RDF_TYPE_DNAME {
                let preference = bytes(fields[0])
                if preference.count == 2 {
                    return .mx(preference: UInt16(preference[0]) << 8 | UInt16(preference[1]),
                               exchange: try domainName(fields[1]))
                }
            }
        case .cname, .ptr, .ns:
            if fields.count == 1, ldns_rdf_get_type(fields[0]) == LDNS_RDF_TYPE_DNAME {
                let target = try domainName(fields[0])
                return type == .cname ? .cname(target) : type == .ptr ? .ptr(target) : .ns(target)
            }
        case .txt:
            // Each STR rdf is one <character-string>: a length octet, then that many octets (RFC 1035 §3.3).
            var strings: [[UInt8]] = []
            for field in fields where ldns_rdf_get_type(field) == LDNS_RDF_TYPE_STR {
                let raw = bytes(field)
                guard let length = raw.first, Int(length) + 1 <= raw.count else {
                    throw .malformed("a TXT character-string is shorter than its length octet says")
                }
                strings.append(Array(raw[1..<(1 + Int(length))]))
            }
            if strings.count == fields.count { return .txt(strings) }
        case .ds, .dnskey, .rrsig, .nsec, .nsec3, .tlsa:
            // ldns keeps each field in its wire form, so the fields end to end are the rdata.
            if let typed = DNSSECRData.parse(type, fields.flatMap(bytes)) { return typed }
        default:
            break
        }
        // Anything unexpected, and every other type, as presentation text.
        return .other(fields.map(presentation).joined(separator: " "))
    }

    /// The rdf's octets (borrowed memory, copied out).
    private static func bytes(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> [UInt8] {
        let size = ldns_rdf_size(rdf)
        guard size > 0, let data = ldns_rdf_data(rdf) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// The rdf in presentation format. ldns_rdf2str mallocs the string; we free it.
    private static func presentation(_ rdf: UnsafeMutablePointer<ldns_rdf>) -> String {
        guard let text = ldns_rdf2str(rdf) else { return "" }
        defer { free(text) }
        return String(cString: text)
    }

    // MARK: - Names

    /// Reads a name from an uncompressed wire-format dname rdf (ldns has already followed
    /// compression pointers). Each octet becomes the Unicode scalar of the same value, so
    /// odd octets survive and `DomainName` prints them as `\DDD`.
    static func domainName(_ rdf: UnsafeMutablePointer<ldns_rdf>) throws(CodecError) -> DomainName {
        try domainName(wire: bytes(rdf))
    }

    /// Reads an uncompressed wire-format name (RFC 1035 §3.1): length-prefixed labels ending in a zero octet.
    static func domainName(wire: [UInt8]) throws(CodecError) -> DomainName {
        var labels: [String] = []
        var index = 0
        while index < wire.count {
            let length = Int(wire[index])
            if length == 0 { return DomainName(labels: labels) }
            guard length <= 63, index + 1 + length <= wire.count else {
                throw .malformed("a name has a label running past its end")
            }
            let label = wire[(index + 1)..<(index + 1 + length)]
            // Octets are kept as the scalars U+0000–U+00FF; ASCII, the common case, is the same in UTF-8.
            labels.append(label.allSatisfy { $0 < 0x80 } ? String(decoding: label, as: UTF8.self)
                : String(String.UnicodeScalarView(label.map { Unicode.Scalar($0) })))
            index += 1 + length
        }
        // An rdf without the root label: accept what was read (ldns always adds it).
        return DomainName(labels: labels)
    }

    /// The wire form of a name: each label's scalars as octets (scalars above 255, which never
    /// come off the wire, as UTF-8), then the root label.
    static func wireName(_ name: DomainName) throws(CodecError) -> [UInt8] {
        var wire: [UInt8] = []
        for label in name.labels {
            var octets: [UInt8] = []
            for scalar in label.unicodeScalars {
                if scalar.value <= 0xFF { octets.append(UInt8(scalar.value)) } else { octets += Array(String(scalar).utf8) }
            }
            guard !octets.isEmpty, octets.count <= 63 else {
                throw .unencodable("the label \"\(label)\" is \(octets.count) octets; a label holds 1 to 63 (RFC 1035 §2.3.4)")
            }
            wire.append(UInt8(octets.count))
            wire += octets
        }
        wire.append(0)
        guard wire.count <= 255 else {
            throw .unencodable("\(name.fqdn) is \(wire.count) octets in wire form; a name holds at most 255 (RFC 1035 §2.3.4)")
        }
        return wire
    }

    private static func errorText(_ status: ldns_status) -> String {
        guard let text = ldns_get_errorstr_by_id(status) else { return "ldns status \(status.rawValue)" }
        return String(cString: text)
    }
}
