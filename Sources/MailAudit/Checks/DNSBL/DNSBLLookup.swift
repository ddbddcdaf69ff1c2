import MailAuditCore
import MailAuditRecords

/// An address to look up on the blocklists, and why it is checked.
struct DNSBLTarget: Hashable, Sendable {
    var address: IPAddress
    /// The MX hosts with this address; empty for an address named only with `--ip`.
    var mailHosts: [DomainName]
    /// True when the address was named with `--ip`.
    var isSender: Bool

    /// Every MX address and every sending address, each once, MX addresses first.
    static func targets(routing: MailRouting, senders: [IPAddress]) -> [DNSBLTarget] {
        var targets: [DNSBLTarget] = []
        var positions: [IPAddress: Int] = [:]
        func add(_ address: IPAddress, host: DomainName?) {
            let position = positions[address] ?? targets.count
            if position == targets.count {
                positions[address] = position
                targets.append(DNSBLTarget(address: address, mailHosts: [], isSender: false))
            }
            if let host, !targets[position].mailHosts.contains(host) { targets[position].mailHosts.append(host) }
            if host == nil { targets[position].isSender = true }
        }
        for host in routing.hosts {
            for address in host.addresses { add(address, host: host.name) }
        }
        for address in senders { add(address, host: nil) }
        return targets
    }
}

/// A blocklist and what its test entries said (RFC 5782 §5).
struct DNSBLList: Hashable, Sendable {
    var zone: DomainName
    var health: DNSBLHealth
    /// The answers about 127.0.0.2 and 127.0.0.1.
    var evidence: [String]
}

/// One working list's answer about one address, with its TXT reason when it lists it.
struct DNSBLListing: Hashable, Sendable {
    var zone: DomainName
    var address: IPAddress
    var answer: DNSAnswer
    /// The TXT answer at the same name, asked only for a listed address (RFC 5782 §2.1).
    var reasonAnswer: DNSAnswer?

    var response: DNSBLResponse { DNSBLResponse(answer) }
    /// The TXT strings, each joined.
    var reasons: [String] { (reasonAnswer?.records ?? []).compactMap(\.data.joinedText) }
}

/// Everything the DNSBL verdicts need.
struct DNSBLResult: Hashable, Sendable {
    /// Every list asked for, in the order given, working or not.
    var lists: [DNSBLList]
    var targets: [DNSBLTarget]
    /// The answers of the working lists: one per target and working list.
    var listings: [DNSBLListing]
}

/// Asks DNS blocklists about addresses (RFC 5782): first each list's test entries, then every
/// address on the lists that pass them. A list that fails them is never asked about an address.
struct DNSBLLookup: Sendable {
    let resolver: any Resolver

    /// Tests the lists while `targets` are gathered, then asks the working lists about them.
    func run(zones: [DomainName], targets: @Sendable () async -> [DNSBLTarget]) async -> DNSBLResult {
        async let tested = zones.mapConcurrently { zone in await health(of: zone) }
        let targets = await targets()
        let lists = await tested
        guard !targets.isEmpty else { return DNSBLResult(lists: lists, targets: [], listings: []) }
        let pairs = targets.flatMap { target in lists.filter(\.health.isWorking).map { (target.address, $0.zone) } }
        let listings = await pairs.mapConcurrently { address, zone in await listing(of: address, on: zone) }
        return DNSBLResult(lists: lists, targets: targets, listings: listings)
    }

    /// Asks the list about 127.0.0.2 (which it must list) and 127.0.0.1 (which it must not).
    func health(of zone: DomainName) async -> DNSBLList {
        async let listed = resolver.resolve(DNSBLHealth.listedTestAddress.dnsblName(in: zone), .a)
        async let unlisted = resolver.resolve(DNSBLHealth.unlistedTestAddress.dnsblName(in: zone), .a)
        let (listedAnswer, unlistedAnswer) = await (listed, unlisted)
        return DNSBLList(
            zone: zone, health: DNSBLHealth(listedTest: DNSBLResponse(listedAnswer), unlistedTest: DNSBLResponse(unlistedAnswer)),
            evidence: listedAnswer.evidence + unlistedAnswer.evidence)
    }

    /// The A answer for the address and, when it lists it, the TXT reason at the same name.
    func listing(of address: IPAddress, on zone: DomainName) async -> DNSBLListing {
        let name = address.dnsblName(in: zone)
        let answer = await resolver.resolve(name, .a)
        var listing = DNSBLListing(zone: zone, address: address, answer: answer)
        if case .listed = listing.response { listing.reasonAnswer = await resolver.resolve(name, .txt) }
        return listing
    }
}
