public import MailAuditCore
public import MailAuditRecords

/// A domain's SPF record and, below it, every record it pulls in through `include` and
/// `redirect`, with the lookups its other terms make. The audit's view of RFC 7208 §4.6.4.
public struct SPFNode: Hashable, Sendable {
    /// How this record was reached.
    public enum Link: Hashable, Sendable {
        case root
        case include(SPFQualifier)
        case redirect
    }

    /// What was found at the domain.
    public enum Content: Hashable, Sendable {
        case record(SPFRecord, text: String)
        /// No TXT record starts with `v=spf1`.
        case none
        case multiple([String])
        case invalid(SPFParseError, text: String)
        /// The TXT lookup timed out or failed (inconclusive), or ran into a CNAME loop.
        case lookupFailed(DNSOutcome)
        /// The domain is already above this node in the tree.
        case loop
        /// Not fetched: the target uses macros, or the tree is too deep or too large.
        case notFollowed(reason: String)
    }

    public var domain: DomainName
    /// The term that led here, as written: `include:_spf.example.com`, `redirect=…`, or the domain.
    public var term: String
    public var link: Link
    public var answer: DNSAnswer?
    public var content: Content
    /// The records pulled in by include and redirect, in the order their terms appear.
    public var children: [SPFNode]
    /// The lookups made for this record's `a`, `mx` and `exists` terms.
    public var termLookups: [SPFTermLookup]
    /// Terms of this record that would query DNS but were not looked up: past the audit's
    /// cap (``SPFTreeLookup/maximumTermsPerRecord``, ``SPFTreeLookup/maximumTermLookups``).
    public var termsNotLookedUp: [String] = []

    public var record: SPFRecord? {
        if case .record(let record, _) = content { record } else { nil }
    }

    /// The redirect that check_host() follows: ignored when the record has an `all` (RFC 7208 §6.1).
    public var effectiveRedirect: SPFMacroString? {
        guard let record, !record.hasAll else { return nil }
        return record.redirect
    }

    /// Terms of this record that count against the limit of 10: include, a, mx, ptr, exists,
    /// and a redirect that is followed (RFC 7208 §4.6.4).
    public var ownCost: Int {
        guard let record else { return 0 }
        return record.directives.filter(\.mechanism.causesLookup).count + (effectiveRedirect == nil ? 0 : 1)
    }

    /// This record's cost plus that of everything below it.
    public var totalCost: Int { ownCost + children.reduce(0) { $0 + $1.totalCost } }

    /// Lookups that found nothing (NXDOMAIN or NODATA), here and below (RFC 7208 §4.6.4).
    public var voidLookups: [String] {
        var lines = termLookups.filter(\.isVoid).map { "\($0.term) at \(domain): \($0.answers.map(\.outcome.summary).joined(separator: ", "))" }
        for child in children {
            if let answer = child.answer, answer.outcome == .nxDomain || answer.outcome == .noData {
                lines.append("\(child.term): \(answer.outcome.summary)")
            }
            lines += child.voidLookups
        }
        return lines
    }

    /// Every node in the tree, depth first in term order.
    public var allNodes: [SPFNode] { [self] + children.flatMap(\.allNodes) }

    /// False when the audit stopped somewhere in this tree (its caps, not macros): then
    /// ``totalCost`` and ``voidLookups`` are lower bounds.
    public var isComplete: Bool {
        allNodes.allSatisfy { node in
            guard node.termsNotLookedUp.isEmpty else { return false }
            if case .notFollowed(let reason) = node.content, reason == SPFTreeLookup.capReason { return false }
            return true
        }
    }
}

/// A lookup made for an `a`, `mx` or `exists` term whose domain has no macros.
public struct SPFTermLookup: Hashable, Sendable {
    public var term: String
    public var answers: [DNSAnswer]
    /// For `mx`: the addresses of the MX hosts (at most 10 hosts are looked up).
    public var hostAnswers: [DNSAnswer]

    /// True when every lookup for the term found no records (RFC 7208 §4.6.4 "void lookup").
    public var isVoid: Bool {
        !answers.isEmpty && answers.allSatisfy { $0.outcome == .nxDomain || $0.outcome == .noData }
    }

    public var mxCount: Int { answers.first { $0.question.type == .mx }?.records.count ?? 0 }
}

/// Fetches an SPF tree. Includes and redirects at one level are fetched at once, and so are
/// the lookups of the record's own terms; the run's cache means a shared include is fetched once.
struct SPFTreeLookup {
    /// Deeper than this, records are not fetched: check_host() would have hit the limit of 10.
    static let maximumDepth = 10
    /// At most this many records are fetched for one domain, whatever their shape.
    static let maximumRecords = 60
    /// At most this many `a`, `mx` and `exists` terms of one record are looked up: check_host()
    /// stops at the 11th DNS-querying term anyway (RFC 7208 §4.6.4).
    public static let maximumTermsPerRecord = 10
    /// At most this many such terms are looked up in one tree (each at most 2 queries, or for
    /// `mx` 1 + 10 × 2): with ``maximumRecords`` this bounds one SPF tree at 60 + 20 × 21 = 480
    /// queries, however large its records, so the audit cannot be used to amplify queries.
    public static let maximumTermLookups = 20
    /// The reason given for includes not fetched because of the caps.
    static let capReason = "the include tree is deeper or larger than any evaluation could follow"

    let resolver: any Resolver
    private let budget = Budget()

    init(resolver: any Resolver) { self.resolver = resolver }

    private final class Budget: Sendable {
        let remaining = Locked(SPFTreeLookup.maximumRecords)
        let terms = Locked(SPFTreeLookup.maximumTermLookups)
        func take() -> Bool { remaining.withLock { if $0 > 0 { $0 -= 1; return true } else { return false } } }
        func takeTerm() -> Bool { terms.withLock { if $0 > 0 { $0 -= 1; return true } else { return false } } }
    }

    func run(for domain: DomainName) async -> SPFNode {
        await fetch(domain, term: domain.description, link: .root, ancestors: [], depth: 0)
    }

    private func fetch(_ domain: DomainName, term: String, link: SPFNode.Link, ancestors: Set<DomainName>, depth: Int) async -> SPFNode {
        var node = SPFNode(domain: domain, term: term, link: link, answer: nil, content: .none, children: [], termLookups: [])
        if ancestors.contains(domain) {
            node.content = .loop
            return node
        }
        if depth > Self.maximumDepth || !budget.take() {
            node.content = .notFollowed(reason: Self.capReason)
            return node
        }
        let answer = await resolver.resolve(domain, .txt)
        node.answer = answer
        switch answer.outcome {
        case .records(let records):
            let selection = SPFRecordSelection(records: records)
            switch selection.outcome {
            case .none: node.content = .none
            case .multiple(let texts): node.content = .multiple(texts)
            case .record(let text):
                do throws(SPFParseError) {
                    node.content = .record(try SPFRecord(parsing: text), text: text)
                } catch {
                    node.content = .invalid(error, text: text)
                }
            }
        case .noData, .nxDomain: node.content = .none
        case let outcome:
            // Timeouts and server failures are inconclusive; a CNAME loop is a broken name.
            node.content = .lookupFailed(outcome)
        }
        guard let record = node.record else { return node }

        var targets: [(term: String, spec: SPFMacroString, link: SPFNode.Link)] = record.directives.compactMap {
            if case .include(let spec) = $0.mechanism { ($0.description, spec, .include($0.qualifier)) } else { nil }
        }
        if let redirect = node.effectiveRedirect { targets.append(("redirect=\(redirect)", redirect, .redirect)) }
        let below = ancestors.union([domain])
        async let lookups = termLookups(record, at: domain)
        node.children = await withTaskGroup(of: (Int, SPFNode).self) { group in
            for (index, target) in targets.enumerated() {
                group.addTask {
                    guard !target.spec.hasMacros, let name = SPFEvaluator.domainName(fromExpansion: target.spec.description) else {
                        let reason = target.spec.hasMacros ? "the target uses macros, so it depends on the message" : "not a valid domain name"
                        return (index, SPFNode(domain: domain, term: target.term, link: target.link, answer: nil,
                                               content: .notFollowed(reason: reason), children: [], termLookups: []))
                    }
                    return (index, await fetch(name, term: target.term, link: target.link, ancestors: below, depth: depth + 1))
                }
            }
            var children: [(Int, SPFNode)] = []
            for await child in group { children.append(child) }
            return children.sorted { $0.0 < $1.0 }.map(\.1)
        }
        (node.termLookups, node.termsNotLookedUp) = await lookups
        return node
    }

    /// The lookups check_host() would make for `a`, `mx` and `exists` terms without macros.
    /// Terms past the caps are returned as not looked up, in order.
    private func termLookups(_ record: SPFRecord, at domain: DomainName) async -> ([SPFTermLookup], [String]) {
        var skipped: [String] = []
        var taken = 0
        let looked: [SPFTermLookup] = await withTaskGroup(of: (Int, SPFTermLookup?).self) { group in
            for (index, directive) in record.directives.enumerated() {
                switch directive.mechanism {
                case .a, .mx, .exists:
                    guard taken < Self.maximumTermsPerRecord, budget.takeTerm() else {
                        skipped.append(directive.description)
                        continue
                    }
                    taken += 1
                default:
                    continue
                }
                group.addTask {
                    let term = directive.description
                    func target(_ spec: SPFMacroString?) -> DomainName? {
                        guard let spec else { return domain }
                        return spec.hasMacros ? nil : SPFEvaluator.domainName(fromExpansion: spec.description)
                    }
                    switch directive.mechanism {
                    case .a(let spec, _):
                        guard let name = target(spec) else { return (index, nil) }
                        async let v4 = resolver.resolve(name, .a)
                        async let v6 = resolver.resolve(name, .aaaa)
                        return (index, SPFTermLookup(term: term, answers: await [v4, v6], hostAnswers: []))
                    case .mx(let spec, _):
                        guard let name = target(spec) else { return (index, nil) }
                        let mx = await resolver.resolve(name, .mx)
                        let hosts = mx.records.compactMap { record -> DomainName? in
                            if case .mx(_, let exchange) = record.data, exchange != .root { exchange } else { nil }
                        }.prefix(10)
                        let hostAnswers = await withTaskGroup(of: [DNSAnswer].self) { hostGroup in
                            for host in hosts {
                                hostGroup.addTask {
                                    async let v4 = resolver.resolve(host, .a)
                                    async let v6 = resolver.resolve(host, .aaaa)
                                    return await [v4, v6]
                                }
                            }
                            var all: [DNSAnswer] = []
                            for await answers in hostGroup { all += answers }
                            return all
                        }
                        return (index, SPFTermLookup(term: term, answers: [mx], hostAnswers: hostAnswers))
                    case .exists(let spec):
                        guard let name = target(spec) else { return (index, nil) }
                        return (index, SPFTermLookup(term: term, answers: [await resolver.resolve(name, .a)], hostAnswers: []))
                    default:
                        return (index, nil)
                    }
                }
            }
            var lookups: [(Int, SPFTermLookup)] = []
            for await (index, lookup) in group { if let lookup { lookups.append((index, lookup)) } }
            return lookups.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return (looked, skipped)
    }
}
