public import MailAuditCore

/// A ``Resolver`` that answers from a zone file as its authoritative server would, and asks
/// another resolver (or, offline, nobody) about every other name: the audit of a zone before
/// it is published.
///
/// ```swift
/// let zone = try ZoneFile.read(path: "example.com.zone")
/// let dns = ZoneFileResolver(zone: zone, outside: .resolver(DNSClient.make(nameservers: servers)))
/// await dns.resolve(zone.origin.prepending("_dmarc"), .txt)   // the TXT records in the file
/// ```
///
/// For a name at or below the origin:
/// - records of the asked type give `.records`; a CNAME is followed (RFC 1034 §4.3.2 step 3a),
///   inside the zone or out of it, and a name seen twice, or more than 8 hops, gives `.cnameLoop`;
/// - a name with other records, or with names below it (an empty non-terminal, RFC 8020 §2), gives `.noData`;
/// - otherwise a wildcard `*.<closest encloser>` answers with its records renamed to the
///   question's name (RFC 4592 §3.3.1), and without one the answer is `.nxDomain`;
/// - a name at or below an NS record other than the apex's is delegated (RFC 1034 §4.2.1): it is not
///   this zone's to answer and goes outside, except the DS records at the cut, which the parent holds.
///
/// Outside, ``Outside/offline`` answers `.networkError("not looked up: --offline, …")`, an
/// inconclusive outcome, so checks say they could not check rather than that something is
/// missing; ``questionsNotLookedUp`` lists those questions for the report.
public final class ZoneFileResolver: Resolver, ResolverStatisticsSource, Sendable {
    /// Who answers for names the zone file does not hold.
    public enum Outside: Sendable {
        /// The live resolver (`--resolver`, or /etc/resolv.conf).
        case resolver(any Resolver)
        /// Nobody (`--offline`).
        case offline
    }

    /// The outcome's text for a name outside the zone under `--offline`.
    public static let offlineReason = "not looked up: --offline, outside the zone file"

    public let origin: DomainName
    private let byName: [DomainName: [DNSRecord]]
    /// Names that exist: owners of records, and every name between them and the origin.
    private let existing: Set<DomainName>
    /// Owners of NS records below the apex: delegation points.
    private let cuts: Set<DomainName>
    private let outside: Outside
    private let skipped = Locked<(list: [DNSQuestion], seen: Set<DNSQuestion>)>(([], []))

    public init(origin: DomainName, records: [DNSRecord], outside: Outside) {
        self.origin = origin
        self.outside = outside
        let inZone = records.filter { $0.name.isSubdomain(of: origin) }
        byName = Dictionary(grouping: inZone, by: \.name)
        var existing: Set<DomainName> = [origin]
        for name in byName.keys {
            var current: DomainName? = name
            while let here = current, here != origin, existing.insert(here).inserted { current = here.parent }
        }
        self.existing = existing
        cuts = Set(inZone.filter { $0.type == .ns && $0.name != origin }.map(\.name))
    }

    public convenience init(zone: ZoneFile, outside: Outside) {
        self.init(origin: zone.origin, records: zone.records.map(\.record), outside: outside)
    }

    /// The questions answered "not looked up" under `--offline`, in the order first asked.
    public var questionsNotLookedUp: [DNSQuestion] { skipped.withLock { $0.list } }

    public func statistics() async -> ResolverStatistics {
        if case .resolver(let resolver) = outside, let source = resolver as? any ResolverStatisticsSource {
            return await source.statistics()
        }
        return ResolverStatistics()
    }

    public func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        var chain: [DomainName] = []
        var visited: Set<DomainName> = [question.name]
        var name = question.name
        while true {
            switch local(name, question.type) {
            case .outcome(let outcome):
                return DNSAnswer(question: question, outcome: outcome, cnameChain: chain)
            case .cname(let target):
                chain.append(target)
                guard visited.insert(target).inserted, chain.count <= CNAMEPolicy.maximumHops else {
                    return DNSAnswer(question: question, outcome: .cnameLoop, cnameChain: chain)
                }
                name = target
            case .notHere(let reason):
                let answer = await ask(DNSQuestion(name, question.type), reason: reason)
                if chain.isEmpty { return answer }
                for target in answer.cnameChain {
                    chain.append(target)
                    guard visited.insert(target).inserted, chain.count <= CNAMEPolicy.maximumHops else {
                        return DNSAnswer(question: question, outcome: .cnameLoop, cnameChain: chain)
                    }
                }
                return DNSAnswer(question: question, outcome: answer.outcome, cnameChain: chain,
                                 signatures: answer.signatures, authority: answer.authority)
            }
        }
    }

    private enum Local {
        case outcome(DNSOutcome)
        case cname(DomainName)
        /// Not this zone's to answer; the reason, for offline answers.
        case notHere(String)
    }

    /// What the zone says about `name` and `type`.
    private func local(_ name: DomainName, _ type: RRType) -> Local {
        guard name.isSubdomain(of: origin) else { return .notHere(Self.offlineReason) }
        if let cut = delegation(of: name), !(name == cut && type == .ds) {
            return .notHere("not looked up: --offline, delegated away from the zone file at \(cut.fqdn)")
        }
        if let here = byName[name] { return answer(here, type: type, owner: name) }
        if existing.contains(name) { return .outcome(.noData) }
        // The closest encloser, and its wildcard (RFC 4592 §3.3.1).
        var encloser = name.parent
        while let current = encloser, !existing.contains(current) { encloser = current.parent }
        if let encloser, let wildcard = byName[encloser.prepending("*")] {
            return answer(wildcard, type: type, owner: name)
        }
        return .outcome(.nxDomain)
    }

    private func answer(_ here: [DNSRecord], type: RRType, owner: DomainName) -> Local {
        if type != .cname, let alias = here.first(where: { $0.type == .cname }), case .cname(let target) = alias.data {
            return .cname(target)
        }
        let matching = here.filter { $0.type == type }.map { record in
            var renamed = record
            renamed.name = owner
            return renamed
        }
        return .outcome(matching.isEmpty ? .noData : .records(matching))
    }

    /// The delegation point at or above `name`, below the apex, if any.
    private func delegation(of name: DomainName) -> DomainName? {
        guard !cuts.isEmpty else { return nil }
        var current: DomainName? = name
        while let here = current, here != origin {
            if cuts.contains(here) { return here }
            current = here.parent
        }
        return nil
    }

    private func ask(_ question: DNSQuestion, reason: String) async -> DNSAnswer {
        switch outside {
        case .resolver(let resolver):
            return await resolver.resolve(question)
        case .offline:
            skipped.withLock { state in
                if state.seen.insert(question).inserted { state.list.append(question) }
            }
            return DNSAnswer(question: question, outcome: .networkError(reason))
        }
    }
}
