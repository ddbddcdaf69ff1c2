public import MailAuditCore

/// One host named by an MX record, with what its address lookups found.
public struct MailHost: Hashable, Sendable {
    public var preference: UInt16
    /// The exchange as published.
    public var name: DomainName
    /// The A answer, its records cut to ``MailRoutingLookup/maximumAddressesPerFamily``.
    public var ipv4: DNSAnswer?
    /// The AAAA answer, its records cut the same way.
    public var ipv6: DNSAnswer?
    /// Addresses published for this host beyond the cap, not followed (reverse DNS, probes, blocklists).
    public var addressesNotFollowed = 0

    /// The host's addresses, IPv4 first.
    public var addresses: [IPAddress] {
        (ipv4?.records ?? []).compactMap(\.address) + (ipv6?.records ?? []).compactMap(\.address)
    }
}

/// How a domain receives mail, as DNS says (RFC 5321 §5.1, RFC 7505).
public struct MailRouting: Hashable, Sendable {
    public var domain: DomainName
    public var mxAnswer: DNSAnswer
    /// MX hosts sorted by preference, or the domain itself when mail falls back to implicit MX.
    public var hosts: [MailHost]
    /// True when `hosts` holds the domain itself because it has no MX records.
    public var isImplicit: Bool
    /// MX hosts past the limit, not followed.
    public var skippedHosts: [DomainName] = []

    /// Every address of every host, without repeats, in host order.
    public var addresses: [(host: MailHost, address: IPAddress)] {
        var seen = Set<IPAddress>()
        var out: [(MailHost, IPAddress)] = []
        for host in hosts {
            for address in host.addresses where seen.insert(address).inserted { out.append((host, address)) }
        }
        return out
    }
}

extension DNSRecord {
    var address: IPAddress? {
        switch data {
        case .a(let address), .aaaa(let address): address
        default: nil
        }
    }
}

/// Finds a domain's mail hosts and their addresses: MX, then A and AAAA of every target at once.
struct MailRoutingLookup {
    /// At most this many MX hosts are followed, by preference.
    static let maximumHosts = 30
    /// At most this many distinct addresses of each family are followed per MX host, in the
    /// order the server gave them: 30 hosts × 2 × 16 bound the reverse lookups and probes of
    /// one domain at 960. Senders try a few addresses of a host (RFC 5321 §5.1 lets them stop).
    public static let maximumAddressesPerFamily = 16
    let resolver: any Resolver

    func run(for domain: DomainName) async -> MailRouting {
        let mxAnswer = await resolver.resolve(domain, .mx)
        var targets: [(UInt16, DomainName)] = mxAnswer.records.compactMap {
            if case .mx(let preference, let exchange) = $0.data { (preference, exchange) } else { nil }
        }
        var isImplicit = false
        switch mxAnswer.outcome {
        case .noData:
            // RFC 5321 §5.1: with no MX, the domain itself is the implicit MX host.
            targets = [(0, domain)]
            isImplicit = true
        default:
            break
        }
        // A hostile answer can hold hundreds of MX records, each worth several lookups and a
        // probe: only the most preferred are followed.
        targets.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        let skipped = Array(targets.dropFirst(Self.maximumHosts).map(\.1))
        targets = Array(targets.prefix(Self.maximumHosts))
        // Null MX and IP literals get no address lookups: neither names a host.
        let lookups = targets.filter { !$0.1.labels.isEmpty && MXRules.ipLiteral(in: $0.1) == nil }
        let resolved = await withTaskGroup(of: (DomainName, DNSAnswer, DNSAnswer).self) { group in
            for name in Set(lookups.map(\.1)) {
                group.addTask {
                    async let v4 = resolver.resolve(name, .a)
                    async let v6 = resolver.resolve(name, .aaaa)
                    return await (name, v4, v6)
                }
            }
            var byName: [DomainName: (DNSAnswer, DNSAnswer)] = [:]
            for await (name, v4, v6) in group { byName[name] = (v4, v6) }
            return byName
        }
        let hosts = targets.map { target in
            let (v4, cutV4) = Self.capped(resolved[target.1]?.0)
            let (v6, cutV6) = Self.capped(resolved[target.1]?.1)
            return MailHost(preference: target.0, name: target.1, ipv4: v4, ipv6: v6, addressesNotFollowed: cutV4 + cutV6)
        }
        return MailRouting(domain: domain, mxAnswer: mxAnswer, hosts: hosts, isImplicit: isImplicit, skippedHosts: skipped)
    }
}

extension MailRoutingLookup {
    /// The answer with its address records made distinct and cut to the cap, and how many
    /// distinct addresses were cut. Linear in the records.
    static func capped(_ answer: DNSAnswer?) -> (DNSAnswer?, Int) {
        guard var answer, case .records(let records) = answer.outcome else { return (answer, 0) }
        var seen = Set<IPAddress>()
        var kept: [DNSRecord] = []
        var cut = 0
        for record in records {
            guard let address = record.address else { continue }
            guard seen.insert(address).inserted else { continue }
            if kept.count < maximumAddressesPerFamily { kept.append(record) } else { cut += 1 }
        }
        if cut == 0 && kept.count == records.count { return (answer, 0) }
        answer.outcome = .records(kept)
        return (answer, cut)
    }
}
