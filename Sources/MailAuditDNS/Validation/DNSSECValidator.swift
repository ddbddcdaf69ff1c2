public import Foundation
public import MailAuditCore

/// What validation found about one answer, and the steps that decided it, for evidence.
public struct DNSSECValidation: Hashable, Sendable {
    public var status: DNSSECStatus
    public var trail: [String]

    public init(_ status: DNSSECStatus, _ trail: [String]) {
        self.status = status
        self.trail = trail
    }
}

/// Validates answers itself (RFC 4035 §5): from a trust anchor down through the DS and DNSKEY
/// records of each zone to the answer's signatures, or to a proven absence of DS (an insecure
/// delegation). ldns does the cryptography; lookups go through the run's resolver, which must
/// ask with the DO bit (``DNSSECMode/validate``). Each zone's verdict is worked out once.
///
/// ```swift
/// let validator = DNSSECValidator(resolver: resolver, anchors: try TrustAnchors(contentsOf: TrustAnchors.debianRootKey))
/// let verdict = await validator.validate(await resolver.resolve(DNSQuestion(domain, .mx)))
/// ```
public final class DNSSECValidator: Sendable {
    public let anchors: TrustAnchors
    let resolver: any Resolver
    /// The instant signatures are judged at.
    let time: Date
    private let zones = Locked<[DomainName: Task<ZoneTrust, Never>]>([:])
    private let prefetched = Locked<Set<DNSQuestion>>([])
    /// Zones remembered; past it the memory starts afresh, so a bulk run stays flat.
    static let rememberedZones = 10_000

    public init(resolver: any Resolver, anchors: TrustAnchors, time: Date = Date()) {
        self.resolver = resolver
        self.anchors = anchors
        self.time = time
    }

    /// The DNSSEC status of an answer the resolver gave.
    public func validate(_ answer: DNSAnswer) async -> DNSSECValidation {
        prefetch(for: answer)
        switch answer.outcome {
        case .records(let records):
            guard let first = records.first else { return DNSSECValidation(.indeterminate, []) }
            var result = await validate(records, signatures: answer.signatures, owner: first.name)
            // Each CNAME the lookup passed through is a record set of its own, signed in its own zone.
            for name in [answer.question.name] + answer.cnameChain.dropLast() where !answer.cnameChain.isEmpty {
                let link = await resolver.resolve(DNSQuestion(name, .cname))
                let part = link.records.isEmpty
                    ? DNSSECValidation(.indeterminate, ["\(name.fqdn) CNAME: \(link.outcome.summary)"])
                    : await validate(link.records, signatures: link.signatures, owner: name)
                result.status = result.status.combined(with: part.status)
                result.trail += part.trail
            }
            return result
        case .noData, .nxDomain:
            return await validateDenial(answer)
        case .serverFailure, .timeout, .networkError, .cnameLoop:
            return DNSSECValidation(.indeterminate, [])
        }
    }

    /// Asks at once, through the run's cache, the questions the walk below will ask one after
    /// another: the DS of every name between the anchor and the answer's owner, the DNSKEY of
    /// the signer and the anchor, and the owner's SOA when it is unsigned. The walk then finds
    /// them answered, so validation adds about one round trip, not one per zone.
    private func prefetch(for answer: DNSAnswer) {
        let owner = answer.cnameChain.last ?? answer.question.name
        guard let anchor = anchors.closestAnchor(above: owner) else { return }
        let signer = (answer.signatures + answer.authority).lazy.compactMap(\.signer).first
        var questions = [DNSQuestion(anchor, .dnskey)]
        if let signer, signer != anchor { questions.append(DNSQuestion(signer, .dnskey)) }
        if signer == nil { questions.append(DNSQuestion(owner, .soa)) }
        var name = signer ?? owner
        while name.labels.count > anchor.labels.count {
            questions.append(DNSQuestion(name, .ds))
            guard let parent = name.parent else { break }
            name = parent
        }
        // Each question is prefetched once a run: the cache forgets failures after a few seconds,
        // and a question asked again then would go out twice.
        let fresh = prefetched.withLock { asked in
            if asked.count >= Self.rememberedZones { asked.removeAll() }
            return questions.filter { asked.insert($0).inserted }
        }
        for question in fresh {
            Task { [resolver] in _ = await resolver.resolve(question) }
        }
    }

    // MARK: - Answers

    private func validate(_ records: [DNSRecord], signatures: [DNSRecord], owner: DomainName) async -> DNSSECValidation {
        let what = "\(owner.fqdn) \(records[0].type)"
        guard let signer = signatures.lazy.compactMap(\.signer).first else {
            guard let zone = await zoneApex(of: owner) else {
                return DNSSECValidation(.indeterminate, ["\(what) is unsigned, and the zone it belongs to could not be found"])
            }
            let trust = await zoneTrust(zone)
            switch trust.verdict {
            case .secure:
                return trust.answer(.bogus("\(what) has no signature, but its zone \(zone.fqdn) is signed"))
            case .insecure, .bogus, .unknown:
                return trust.answer(nil)
            }
        }
        guard owner.isSubdomain(of: signer) else {
            return DNSSECValidation(.bogus("\(what) is signed by \(signer.fqdn), which is not at or above it"), [])
        }
        let trust = await zoneTrust(signer)
        guard case .secure(let keys) = trust.verdict else { return trust.answer(nil) }
        switch LDNSDNSSEC.verify(records, signatures: signatures, keys: keys, at: time) {
        case .success:
            return DNSSECValidation(.secure, trust.steps + ["\(what): signature verified with a key of \(signer.fqdn)"])
        case .failure(let failure):
            return trust.answer(.bogus("\(what): \(failure.reason)"))
        }
    }

    private func validateDenial(_ answer: DNSAnswer) async -> DNSSECValidation {
        let name = answer.cnameChain.last ?? answer.question.name
        let what = "\(name.fqdn) \(answer.question.type) (\(answer.outcome == .nxDomain ? "NXDOMAIN" : "NODATA"))"
        guard let zone = answer.authority.first(where: { $0.type == .soa })?.name, name.isSubdomain(of: zone) else {
            return DNSSECValidation(.indeterminate, ["\(what): the negative answer names no zone (no SOA)"])
        }
        let trust = await zoneTrust(zone)
        guard case .secure(let keys) = trust.verdict else { return trust.answer(nil) }
        switch proveDenial(of: DNSQuestion(name, answer.question.type), nxDomain: answer.outcome == .nxDomain,
                           authority: answer.authority, keys: keys) {
        case .success(let how):
            return DNSSECValidation(.secure, trust.steps + ["\(what): \(how)"])
        case .failure(let failure):
            return trust.answer(.bogus("\(what): \(failure.reason)"))
        }
    }

    /// Verifies the NSEC or NSEC3 records of a negative answer with `keys` and checks that they
    /// prove it (RFC 4035 §5.4, RFC 5155 §8).
    private func proveDenial(of question: DNSQuestion, nxDomain: Bool, authority: [DNSRecord],
                             keys: [DNSRecord]) -> Result<String, DNSSECFailure> {
        let signatures = authority.filter { $0.type == .rrsig }
        let proofs = authority.filter { $0.type == .nsec || $0.type == .nsec3 }
        guard !proofs.isEmpty else { return .failure(DNSSECFailure("no NSEC or NSEC3 record proves it")) }
        // Keyed by the group rather than set[0]: the latter in the closure below crashed the Swift 6.3.1
        // optimiser (CopyPropagation, "Found outside of lifetime use") in every -O build.
        for (owner, set) in Dictionary(grouping: proofs, by: { DNSQuestion($0.name, $0.type) }) {
            let covering = signatures.filter { $0.name == owner.name && $0.covered == owner.type }
            if case .failure(let failure) = LDNSDNSSEC.verify(set, signatures: covering, keys: keys, at: time) {
                return .failure(DNSSECFailure("the \(owner.type) record at \(owner.name.fqdn): \(failure.reason)"))
            }
        }
        let nsec = proofs.filter { $0.type == .nsec }
        if !nsec.isEmpty {
            return Self.nsecProves(question, nxDomain: nxDomain, nsec)
                ? .success("proven by signed NSEC records")
                : .failure(DNSSECFailure("the NSEC records do not prove it"))
        }
        return LDNSDNSSEC.nsec3Proves(question, nxDomain: nxDomain, nsec3: proofs, signatures: signatures)
            ? .success("proven by signed NSEC3 records")
            : .failure(DNSSECFailure("the NSEC3 records do not prove it"))
    }

    /// NODATA: an NSEC at the name without the type (nor CNAME). NXDOMAIN: NSECs covering the
    /// name and the wildcard that could have answered it.
    static func nsecProves(_ question: DNSQuestion, nxDomain: Bool, _ nsec: [DNSRecord]) -> Bool {
        if !nxDomain {
            return nsec.contains { record in
                guard record.name == question.name, case .nsec(_, let types) = record.data else { return false }
                return !types.contains(question.type) && !types.contains(.cname)
            }
        }
        guard nsec.contains(where: { LDNSDNSSEC.covers($0, question.name) }) else { return false }
        var ancestor = question.name.parent
        while let name = ancestor {
            let wildcard = name.prepending("*")
            if nsec.contains(where: { LDNSDNSSEC.covers($0, wildcard) || $0.name == name }) { return true }
            ancestor = name.parent
        }
        return false
    }

    /// The apex of the zone `name` is in, from its SOA answer.
    private func zoneApex(of name: DomainName) async -> DomainName? {
        let answer = await resolver.resolve(DNSQuestion(name, .soa))
        if answer.records.contains(where: { $0.type == .soa }) { return name }
        return answer.authority.first { $0.type == .soa && name.isSubdomain(of: $0.name) }?.name
    }

    // MARK: - Zones

    /// The trust in a zone's keys, worked out once per run for every answer from the zone.
    func zoneTrust(_ zone: DomainName) async -> ZoneTrust {
        let task = zones.withLock { memo in
            if let task = memo[zone] { return task }
            if memo.count >= Self.rememberedZones { memo.removeAll() }
            let task = Task { await self.computeTrust(zone) }
            memo[zone] = task
            return task
        }
        let trust = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        // A walk cut short by the deadline is not kept: a later audit of the zone asks again.
        if Task.isCancelled, case .unknown = trust.verdict { zones.withLock { if $0[zone] == task { $0[zone] = nil } } }
        return trust
    }

    private func computeTrust(_ zone: DomainName) async -> ZoneTrust {
        if let anchor = anchors.anchor(for: zone) {
            return await keySet(of: zone, matching: anchor, what: "the trust anchor (\(anchors.source))", above: ZoneTrust(.insecure, []))
        }
        guard anchors.covers(zone), let parentName = zone.parent else {
            return ZoneTrust(.unknown, ["no trust anchor is at or above \(zone.fqdn)"])
        }
        let ds = await resolver.resolve(DNSQuestion(zone, .ds))
        switch ds.outcome {
        case .records(let records):
            guard let signer = ds.signatures.lazy.compactMap(\.signer).first, zone.isSubdomain(of: signer), signer != zone else {
                guard let parent = await zoneApex(of: parentName), parent != zone else {
                    return ZoneTrust(.unknown, ["the DS of \(zone.fqdn) is unsigned and its parent zone could not be found"])
                }
                let trust = await zoneTrust(parent)
                if case .secure = trust.verdict { return trust.replacing(.bogus("the DS of \(zone.fqdn) has no signature")) }
                return trust
            }
            let parent = await zoneTrust(signer)
            guard case .secure(let parentKeys) = parent.verdict else { return parent }
            if case .failure(let failure) = LDNSDNSSEC.verify(records, signatures: ds.signatures, keys: parentKeys, at: time) {
                return parent.replacing(.bogus("the DS of \(zone.fqdn) at \(signer.fqdn): \(failure.reason)"))
            }
            let usable = records.filter { if case .ds(let ds) = $0.data { LDNSDNSSEC.canUse(ds) } else { false } }
            guard !usable.isEmpty else {
                // RFC 4035 §5.2: a zone signed only with what the validator cannot check is treated as unsigned.
                return ZoneTrust(.insecure, parent.steps + ["the DS records of \(zone.fqdn) use only algorithms or digests this validator does not support"])
            }
            return await keySet(of: zone, matching: usable, what: "its DS at \(signer.fqdn)", above: parent)
        case .noData, .nxDomain:
            guard let parent = ds.authority.first(where: { $0.type == .soa })?.name, zone.isSubdomain(of: parent), parent != zone else {
                // The server answered from the child zone: it does not serve the parent.
                return ZoneTrust(.unknown, ["the DS question for \(zone.fqdn) was answered without its parent zone (\(ds.outcome.summary))"])
            }
            let trust = await zoneTrust(parent)
            guard case .secure(let parentKeys) = trust.verdict else { return trust }
            switch proveDenial(of: DNSQuestion(zone, .ds), nxDomain: ds.outcome == .nxDomain, authority: ds.authority, keys: parentKeys) {
            case .success(let how):
                return ZoneTrust(.insecure, trust.steps + ["\(zone.fqdn) has no DS at \(parent.fqdn), \(how): an insecure delegation"])
            case .failure(let failure):
                return trust.replacing(.bogus("\(parent.fqdn) gives no DS for \(zone.fqdn) without proving it: \(failure.reason)"))
            }
        case .serverFailure, .timeout, .networkError, .cnameLoop:
            return ZoneTrust(.unknown, ["DS \(zone.fqdn): \(ds.outcome.summary)"])
        }
    }

    /// The zone's DNSKEY set, trusted when one of its keys matches `anchor` (DS or DNSKEY
    /// records) and signs the set.
    private func keySet(of zone: DomainName, matching anchor: [DNSRecord], what: String, above: ZoneTrust) async -> ZoneTrust {
        let answer = await resolver.resolve(DNSQuestion(zone, .dnskey))
        switch answer.outcome {
        case .records(let keys):
            let trusted = LDNSDNSSEC.keys(keys, matching: anchor)
            guard !trusted.isEmpty else {
                let tags = anchor.compactMap { if case .ds(let ds) = $0.data { String(ds.keyTag) } else { nil } }
                return above.replacing(.bogus("no DNSKEY of \(zone.fqdn) matches \(what)"
                    + (tags.isEmpty ? "" : " (key tag \(tags.joined(separator: ", ")))")))
            }
            if case .failure(let failure) = LDNSDNSSEC.verify(keys, signatures: answer.signatures, keys: trusted, at: time) {
                return above.replacing(.bogus("the DNSKEY set of \(zone.fqdn): \(failure.reason)"))
            }
            return ZoneTrust(.secure(keys), above.steps + ["\(zone.fqdn) DNSKEY: a key matches \(what) and signs the key set"])
        case .noData, .nxDomain:
            return above.replacing(.bogus("\(zone.fqdn) publishes no DNSKEY, though \(what) says it is signed"))
        case .serverFailure, .timeout, .networkError, .cnameLoop:
            return ZoneTrust(.unknown, above.steps + ["DNSKEY \(zone.fqdn): \(answer.outcome.summary)"])
        }
    }
}

/// How far a zone's keys can be trusted, and the steps from the anchor that showed it.
struct ZoneTrust: Sendable {
    enum Verdict: Sendable {
        /// The zone's DNSKEY set, proven from a trust anchor.
        case secure([DNSRecord])
        case insecure
        case bogus(String)
        case unknown
    }

    var verdict: Verdict
    var steps: [String]

    init(_ verdict: Verdict, _ steps: [String]) {
        self.verdict = verdict
        self.steps = steps
    }

    /// The same steps ending in another verdict: bogus, for something found below the zone.
    func replacing(_ verdict: Verdict) -> ZoneTrust {
        ZoneTrust(verdict, steps)
    }

    /// An answer's status: `status`, or else this zone's verdict.
    func answer(_ status: DNSSECStatus?) -> DNSSECValidation {
        if let status { return DNSSECValidation(status, steps) }
        switch verdict {
        case .secure: return DNSSECValidation(.secure, steps)
        case .insecure: return DNSSECValidation(.insecure, steps)
        case .bogus(let reason): return DNSSECValidation(.bogus(reason), steps)
        case .unknown: return DNSSECValidation(.indeterminate, steps)
        }
    }
}

extension DNSRecord {
    /// The signer of an RRSIG record.
    var signer: DomainName? { if case .rrsig(let signature) = data { signature.signerName } else { nil } }
    /// The type an RRSIG record covers.
    var covered: RRType? { if case .rrsig(let signature) = data { signature.typeCovered } else { nil } }
}
