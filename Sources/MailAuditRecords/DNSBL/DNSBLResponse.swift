public import MailAuditCore

extension IPAddress {
    /// The name a DNS blocklist is asked about this address (RFC 5782 §2.1, §2.4): the octets of
    /// an IPv4 address, or the nibbles of an IPv6 address, in reverse order, then the list's zone.
    ///
    /// ```swift
    /// IPAddress("127.0.0.2")!.dnsblName(in: zone)   // 2.0.0.127.zen.example
    /// IPAddress("2001:db8::1")!.dnsblName(in: zone) // 1.0.0.0.….8.b.d.0.1.0.0.2.zen.example (32 nibbles)
    /// ```
    public func dnsblName(in zone: DomainName) -> DomainName {
        // The PTR name is the same reversal under in-addr.arpa or ip6.arpa (RFC 1035 §3.5, RFC 3596 §2.5).
        DomainName(labels: reverseName.labels.dropLast(2) + zone.labels)
    }
}

/// What a DNS blocklist's A answer says about one address (RFC 5782 §2.1).
///
/// ```swift
/// DNSBLResponse(answer)   // .listed(codes: [127.0.0.2]) for an A record 127.0.0.2
///                         // .notListed for NXDOMAIN; .lookupFailed(.timeout) for a timeout
/// ```
public enum DNSBLResponse: Hashable, Sendable {
    /// The list holds an A record for the address: the codes say which sublist (RFC 5782 §2.3).
    case listed(codes: [IPAddress])
    /// NXDOMAIN (or a name with no A record): the address is not listed.
    case notListed
    /// The query timed out or the server failed: the list said nothing.
    case lookupFailed(DNSOutcome)
    /// An answer that is not a listing: codes outside 127.0.0.0/8, or a list's error code.
    case invalidAnswer(codes: [IPAddress], reason: String)

    /// Spamhaus's documented error codes (127.255.255.252 a typing error in the list's name,
    /// .254 a query through a public resolver, .255 too many queries): the querier is refused.
    static let refusalCodes = IPNetwork(address: .v4([127, 255, 255, 0]), prefixLength: 24)
    static let loopback = IPNetwork(address: .v4([127, 0, 0, 0]), prefixLength: 8)

    public init(_ answer: DNSAnswer) {
        switch answer.outcome {
        case .records(let records):
            let codes = records.compactMap { record -> IPAddress? in
                if case .a(let code) = record.data { code } else { nil }
            }
            if codes.isEmpty {
                self = .notListed
            } else if let outside = codes.first(where: { !Self.loopback.contains($0) }) {
                // Some lists answer every query with a public address when they block the querier.
                self = .invalidAnswer(codes: codes, reason: "it answered \(outside), outside 127.0.0.0/8, where every listing code lies")
            } else if let refusal = codes.first(where: Self.refusalCodes.contains) {
                self = .invalidAnswer(codes: codes, reason: "it answered \(refusal), an error code: the list refuses queries from this resolver (a public resolver, or over its limit)")
            } else {
                self = .listed(codes: codes)
            }
        case .nxDomain, .noData:
            self = .notListed
        case .cnameLoop, .serverFailure, .timeout, .networkError:
            self = .lookupFailed(answer.outcome)
        }
    }
}

/// Whether a DNS blocklist can be trusted, from its test entries (RFC 5782 §5, §7): "IPv4-based
/// DNSxLs MUST contain an entry for 127.0.0.2 for testing purposes. IPv4-based DNSxLs MUST NOT
/// contain an entry for 127.0.0.1." A list that fails either is not used (§7: users "SHOULD NOT
/// use any DNSxL domain that does not have correct test entries").
///
/// ```swift
/// DNSBLHealth(listedTest: .listed(codes: [two]), unlistedTest: .notListed).problems  // []: working
/// DNSBLHealth(listedTest: .listed(codes: [two]), unlistedTest: .listed(codes: [two])).problems
/// // ["127.0.0.1 is listed (127.0.0.2), which no list may do: it answers every query"]
/// ```
public struct DNSBLHealth: Hashable, Sendable {
    /// The address every list must list.
    public static let listedTestAddress = IPAddress.v4([127, 0, 0, 2])
    /// The address no list may list.
    public static let unlistedTestAddress = IPAddress.v4([127, 0, 0, 1])

    /// The answer about 127.0.0.2.
    public var listedTest: DNSBLResponse
    /// The answer about 127.0.0.1.
    public var unlistedTest: DNSBLResponse

    public init(listedTest: DNSBLResponse, unlistedTest: DNSBLResponse) {
        self.listedTest = listedTest
        self.unlistedTest = unlistedTest
    }

    /// True when 127.0.0.2 is listed and 127.0.0.1 is not.
    public var isWorking: Bool { problems.isEmpty }

    /// Why the list cannot be trusted, one sentence a problem; empty when it works.
    public var problems: [String] {
        var problems: [String] = []
        switch listedTest {
        case .listed: break
        case .notListed: problems.append("127.0.0.2, which every list must list, is not listed")
        case .lookupFailed(let outcome): problems.append("the query for 127.0.0.2 failed: \(outcome.summary)")
        case .invalidAnswer(_, let reason): problems.append("asked about 127.0.0.2, \(reason)")
        }
        switch unlistedTest {
        case .notListed: break
        case .listed(let codes):
            problems.append("127.0.0.1 is listed (\(codes.map(\.description).joined(separator: ", "))), which no list may do: it answers every query, as some lists do for queriers they refuse")
        case .lookupFailed(let outcome): problems.append("the query for 127.0.0.1 failed: \(outcome.summary)")
        case .invalidAnswer(_, let reason): problems.append("asked about 127.0.0.1, \(reason)")
        }
        return problems
    }
}
