/// A DNS record type (RFC 1035 §3.2.2 and later registrations).
public struct RRType: RawRepresentable, Hashable, Sendable, Comparable, CustomStringConvertible, Codable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RRType(rawValue: 1)
    public static let ns = RRType(rawValue: 2)
    public static let cname = RRType(rawValue: 5)
    public static let soa = RRType(rawValue: 6)
    public static let ptr = RRType(rawValue: 12)
    public static let mx = RRType(rawValue: 15)
    public static let txt = RRType(rawValue: 16)
    public static let aaaa = RRType(rawValue: 28)
    public static let srv = RRType(rawValue: 33)
    public static let ds = RRType(rawValue: 43)
    public static let rrsig = RRType(rawValue: 46)
    public static let nsec = RRType(rawValue: 47)
    public static let dnskey = RRType(rawValue: 48)
    public static let nsec3 = RRType(rawValue: 50)
    public static let nsec3param = RRType(rawValue: 51)
    public static let tlsa = RRType(rawValue: 52)

    private static let names: [UInt16: String] = [
        1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 12: "PTR", 15: "MX", 16: "TXT", 28: "AAAA", 33: "SRV",
        43: "DS", 46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA",
    ]

    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }
    public static func < (lhs: RRType, rhs: RRType) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if let match = Self.names.first(where: { $0.value == text }) {
            self.init(rawValue: match.key)
        } else {
            self.init(rawValue: UInt16(text.dropFirst(4)) ?? 0)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The data of one record, decoded for the types mailaudit reads.
public enum RData: Hashable, Sendable {
    case a(IPAddress)
    case aaaa(IPAddress)
    case mx(preference: UInt16, exchange: DomainName)
    case cname(DomainName)
    case ptr(DomainName)
    case ns(DomainName)
    /// The character-strings of a TXT record, as raw bytes, unjoined.
    case txt([[UInt8]])
    case ds(DelegationSigner)
    case dnskey(DNSKey)
    case rrsig(Signature)
    /// The next owner name in the zone and the types present at this one (RFC 4034 §4.1).
    case nsec(next: DomainName, types: [RRType])
    case nsec3(NSEC3Data)
    case tlsa(TLSAData)
    /// Any other type, as presentation text.
    case other(String)

    /// TXT strings joined with no separator (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    public var joinedText: String? {
        guard case .txt(let strings) = self else { return nil }
        return String(decoding: strings.joined(), as: UTF8.self)
    }
}

/// One resource record from an answer section.
public struct DNSRecord: Hashable, Sendable, CustomStringConvertible {
    public var name: DomainName
    public var type: RRType
    public var ttl: UInt32
    public var data: RData

    public init(name: DomainName, type: RRType, ttl: UInt32, data: RData) {
        self.name = name
        self.type = type
        self.ttl = ttl
        self.data = data
    }

    /// The record in zone-file form, for evidence: `example.com. 300 IN MX 10 mx.example.com.`
    public var description: String {
        let rdata: String = switch data {
        case .a(let address), .aaaa(let address): address.description
        case .mx(let preference, let exchange): "\(preference) \(exchange.fqdn)"
        case .cname(let target), .ptr(let target), .ns(let target): target.fqdn
        case .txt(let strings): strings.map { Self.quote($0) }.joined(separator: " ")
        case .other(let text): text
        case .ds, .dnskey, .rrsig, .nsec, .nsec3, .tlsa: data.dnssecPresentation ?? ""
        }
        return "\(name.fqdn) \(ttl) IN \(type) \(rdata)"
    }

    private static func quote(_ bytes: [UInt8]) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case 0x22, 0x5C: out += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E: out.append(Character(UnicodeScalar(byte)))
            default:
                let code = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - code.count) + code
            }
        }
        return out + "\""
    }
}

extension DomainName {
    /// The name with its trailing dot, as zone files and evidence show it.
    public var fqdn: String { labels.isEmpty ? "." : description + "." }
}

/// A question: a name and a type, class IN.
public struct DNSQuestion: Hashable, Sendable, CustomStringConvertible, Codable {
    public var name: DomainName
    public var type: RRType

    public init(_ name: DomainName, _ type: RRType) {
        self.name = name
        self.type = type
    }

    public var description: String { "\(name.fqdn) \(type)" }
}

/// What a lookup found. An empty list never stands for NODATA, NXDOMAIN or a failure.
public enum DNSOutcome: Hashable, Sendable {
    /// Records of the asked type at the end of any CNAME chain.
    case records([DNSRecord])
    /// The name exists but has no records of the asked type.
    case noData
    /// The name does not exist.
    case nxDomain
    /// The server answered with SERVFAIL, REFUSED or another error code.
    case serverFailure(rcode: UInt16)
    /// No server answered within the timeout, after every retry.
    case timeout
    /// The network refused or the replies could not be used (for example unreachable, malformed).
    case networkError(String)
    /// The CNAME chain returned to a name it had already visited.
    case cnameLoop

    /// True when the outcome says nothing about the name: the check could not be done.
    public var isInconclusive: Bool {
        switch self {
        case .serverFailure, .timeout, .networkError: true
        default: false
        }
    }

    /// A short description for evidence and messages.
    public var summary: String {
        switch self {
        case .records(let records): "\(records.count) record\(records.count == 1 ? "" : "s")"
        case .noData: "NODATA (the name exists but has no such records)"
        case .nxDomain: "NXDOMAIN (the name does not exist)"
        case .serverFailure(let rcode): "\(ResponseCode.name(rcode)) from the server"
        case .timeout: "timeout (no answer after every retry)"
        case .networkError(let reason) where DNSOutcome.plainReasons.contains(where: reason.hasPrefix): reason
        case .networkError(let reason): "network error: \(reason)"
        case .cnameLoop: "CNAME loop"
        }
    }
}

/// DNS response codes (RFC 1035 §4.1.1, RFC 6895).
extension DNSOutcome {
    /// A lookup the audit's deadline cancelled before any server answered it: not a timeout
    /// of the servers, and not evidence that no resolver answers.
    public static let notFinished = DNSOutcome.networkError("not finished by the deadline")
    /// A reply still truncated (TC) over TCP: the answer is incomplete, so nothing is known (RFC 7766 §5).
    public static let truncatedOverTCP = DNSOutcome.networkError("truncated even over TCP")

    /// A CNAME chain that goes on past `hops` hops without repeating a name: too long to
    /// follow, which is not a loop (RFC 1034 §3.6.2 sets no number; resolvers stop, as this does).
    public static func cnameChainTooLong(_ hops: Int) -> DNSOutcome {
        .networkError("CNAME chain too long: more than \(hops) hops, not followed further")
    }

    /// True for ``notFinished``.
    public var isNotFinished: Bool { self == .notFinished }
    /// True for ``cnameChainTooLong(_:)``.
    public var isCNAMEChainTooLong: Bool {
        if case .networkError(let reason) = self { reason.hasPrefix("CNAME chain too long") } else { false }
    }

    /// Reasons that are shown as they are, without "network error:".
    static let plainReasons = ["not finished by the deadline", "CNAME chain too long", "truncated even over TCP"]
}

public enum ResponseCode {
    public static let noError: UInt16 = 0, formErr: UInt16 = 1, servFail: UInt16 = 2
    public static let nxDomain: UInt16 = 3, notImp: UInt16 = 4, refused: UInt16 = 5

    public static func name(_ code: UInt16) -> String {
        ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"].indices.contains(Int(code))
            ? ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"][Int(code)]
            : "RCODE\(code)"
    }
}

/// The answer to one question.
public struct DNSAnswer: Hashable, Sendable {
    public var question: DNSQuestion
    public var outcome: DNSOutcome
    /// Names the lookup passed through by CNAME, in order, not counting the question's name.
    public var cnameChain: [DomainName]
    /// Whether the answer is proven authentic; ``DNSSECStatus/indeterminate`` unless a
    /// validator, or a resolver the user trusts to validate, said so.
    public var dnssec: DNSSECStatus
    /// The RRSIG records covering the answer's records, when DNSSEC records were asked for.
    public var signatures: [DNSRecord]
    /// The authority section of a negative answer (SOA, and NSEC or NSEC3 proofs with their
    /// RRSIGs when DNSSEC records were asked for); empty for positive answers.
    public var authority: [DNSRecord]

    public init(question: DNSQuestion, outcome: DNSOutcome, cnameChain: [DomainName] = [], dnssec: DNSSECStatus = .indeterminate,
                signatures: [DNSRecord] = [], authority: [DNSRecord] = []) {
        self.question = question
        self.outcome = outcome
        self.cnameChain = cnameChain
        self.dnssec = dnssec
        self.signatures = signatures
        self.authority = authority
    }

    /// The records, or an empty list for every other outcome.
    public var records: [DNSRecord] {
        if case .records(let records) = outcome { records } else { [] }
    }

    /// The name the records finally belong to.
    public var canonicalName: DomainName { cnameChain.last ?? question.name }

    /// Lines for a finding's evidence: the question, any CNAME chain, and the records or outcome.
    public var evidence: [String] {
        var lines: [String] = []
        var owner = question.name
        for target in cnameChain {
            lines.append("\(owner.fqdn) IN CNAME \(target.fqdn)")
            owner = target
        }
        if case .records(let records) = outcome {
            lines += records.map(\.description)
        } else {
            lines.append("\(question): \(outcome.summary)")
        }
        return lines
    }
}

/// Anything that answers DNS questions. Checks take one; tests use an in-memory twin.
///
/// It never throws: timeouts, server failures and network errors are outcomes.
public protocol Resolver: Sendable {
    func resolve(_ question: DNSQuestion) async -> DNSAnswer
}

extension Resolver {
    public func resolve(_ name: DomainName, _ type: RRType) async -> DNSAnswer {
        await resolve(DNSQuestion(name, type))
    }
}

/// Counters a resolver keeps for one run. They go into the report.
public struct ResolverStatistics: Hashable, Sendable, Codable {
    /// Queries put on the network, first attempts only.
    public var queriesSent = 0
    /// Distinct questions asked of the resolver.
    public var uniqueQuestions = 0
    /// Distinct names asked about.
    public var uniqueNames = 0
    /// Attempts repeated after a timeout.
    public var retries = 0
    /// Queries repeated over TCP because the UDP answer was truncated.
    public var tcpFallbacks = 0
    /// Questions put on the network more than once (other than retries): should stay 0.
    public var repeatedQueries = 0
    /// Questions served from the cache or joined to one already in flight.
    public var cacheHits = 0

    public init() {}
}
