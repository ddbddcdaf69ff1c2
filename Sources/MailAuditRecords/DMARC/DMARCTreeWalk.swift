public import MailAuditCore

/// One name the DNS tree walk asked about: `_dmarc.<domain>` TXT (RFC 9989 §4.10).
public struct DMARCWalkStep: Hashable, Sendable {
    /// What the lookup found.
    public enum Content: Hashable, Sendable {
        /// One DMARC record that parses.
        case record(DMARCRecord, text: String)
        /// One DMARC record (it starts with `v=DMARC1`) that does not parse. It still counts as
        /// the record at this name: receivers discard the bad parts (RFC 9989 §4.8).
        case invalid(DMARCParseError, text: String)
        /// No DMARC record: NXDOMAIN, NODATA, or only TXT records that are not DMARC records.
        case none
        /// More than one DMARC record: all are discarded (RFC 9989 §4.10 step 2).
        case multiple([String])
        /// The lookup timed out or failed: nothing is known about this name.
        case lookupFailed(DNSOutcome)
    }

    /// The domain; the name asked is `_dmarc.<domain>`.
    public var domain: DomainName
    public var answer: DNSAnswer
    public var content: Content
    /// TXT records here that mention DMARC1 but do not start with `v=DMARC1`.
    public var nearMisses: [String]

    /// Reads what `answer` says about `_dmarc.<domain>`.
    public init(domain: DomainName, answer: DNSAnswer) {
        self.domain = domain
        self.answer = answer
        var nearMisses: [String] = []
        switch answer.outcome {
        case .records(let records):
            let selection = DMARCRecordSelection(records: records)
            nearMisses = selection.nearMisses
            switch selection.outcome {
            case .none: content = .none
            case .multiple(let texts): content = .multiple(texts)
            case .record(let text):
                do throws(DMARCParseError) {
                    content = .record(try DMARCRecord(parsing: text), text: text)
                } catch {
                    content = .invalid(error, text: text)
                }
            }
        case let outcome where outcome.isInconclusive: content = .lookupFailed(outcome)
        // A CNAME loop is no answer at all, not "no record": receivers get a DNS error here.
        case .cnameLoop: content = .lookupFailed(.cnameLoop)
        default: content = .none
        }
        self.nearMisses = nearMisses
    }

    /// True when a single DMARC record is here, valid or not.
    public var hasRecord: Bool {
        switch content {
        case .record, .invalid: true
        default: false
        }
    }

    /// The parsed record, when there is one that parses.
    public var record: DMARCRecord? {
        if case .record(let record, _) = content { record } else { nil }
    }

    /// The record's text, valid or not.
    public var recordText: String? {
        switch content {
        case .record(_, let text), .invalid(_, let text): text
        default: nil
        }
    }

    /// The `psd` flag of a record that parses; an invalid record counts as `u`.
    public var publicSuffix: DMARCPublicSuffix { record?.publicSuffix ?? .undetermined }

    /// The name that was asked: `_dmarc.<domain>`.
    public var name: DomainName { domain.prepending("_dmarc") }
}

/// What the DNS tree walk found for a domain: the record that governs it and its
/// Organizational Domain (RFC 9989 §4.10, §4.10.1, §4.10.2).
public struct DMARCDiscovery: Hashable, Sendable {
    /// Which record governs the domain, in RFC 9989 §4.10.1's order of preference.
    public enum Source: Hashable, Sendable {
        /// The domain's own record: its `p` applies.
        case ownRecord
        /// The Organizational Domain's record, found by the tree walk: its `sp` (or `np`) applies.
        case organizationalDomain
        /// A Public Suffix Domain's record (`psd=y`): its `sp` (or `np`) applies.
        case publicSuffixDomain
    }

    /// The domain the walk started from.
    public var domain: DomainName
    /// The names consulted, in walk order. Never empty: the first is the domain itself.
    public var steps: [DMARCWalkStep]
    /// The Organizational Domain, or nil when a failed lookup left it undecided.
    public var organizationalDomain: DomainName?
    /// The step whose record governs the domain, or nil when there is none (or it is unknown).
    public var governing: DMARCWalkStep?
    /// Why ``governing`` governs.
    public var source: Source?
    /// The failed lookup that stopped the walk, if any.
    public var failedStep: DMARCWalkStep?

    /// The domain's own `_dmarc` lookup.
    public var ownStep: DMARCWalkStep { steps[0] }

    /// The domain whose record governs: where reports are requested from (RFC 7489 §7.1).
    public var policyDomain: DomainName? { governing?.domain }

    /// The Organizational Domain of the policy domain, for comparing report destinations:
    /// a Public Suffix Domain is its own (RFC 9989 §4.10.2, rules 2 and 3).
    public var policyOrganizationalDomain: DomainName? {
        source == .publicSuffixDomain ? governing?.domain : organizationalDomain
    }

    /// Reads the answers of a tree walk, one per name of ``DMARCTreeWalk/names(from:)`` in
    /// that order, as RFC 9989 §4.10 does: stop at a record with `psd=y` or `psd=n`, or at a
    /// failed lookup; then choose the Organizational Domain (§4.10.2) and the governing record
    /// (§4.10.1). A pure function: the tests feed it answers.
    public init(domain: DomainName, answers: [DNSAnswer]) {
        self.domain = domain
        var steps: [DMARCWalkStep] = []
        var failedStep: DMARCWalkStep?
        for (name, answer) in zip(DMARCTreeWalk.names(from: domain), answers) {
            let step = DMARCWalkStep(domain: name, answer: answer)
            steps.append(step)
            if case .lookupFailed = step.content {
                failedStep = step
                break
            }
            if step.publicSuffix == .yes || step.publicSuffix == .no { break }
        }
        if steps.isEmpty {
            steps = [DMARCWalkStep(domain: domain, answer: DNSAnswer(question: DNSQuestion(domain.prepending("_dmarc"), .txt), outcome: .timeout))]
            failedStep = steps[0]
        }
        self.steps = steps
        self.failedStep = failedStep

        // §4.10.2: from the longest name to the shortest, a record with psd=n is the
        // Organizational Domain; one with psd=y (other than the starting domain's) puts it one
        // label below; otherwise it is the record with the fewest labels. The walk stopped at the
        // first psd flag, so the deciding record is the last one found. No record: the domain itself.
        if failedStep == nil {
            if let last = steps.last(where: \.hasRecord) {
                if last.publicSuffix == .yes && last.domain != domain {
                    organizationalDomain = DomainName(labels: Array(domain.labels.suffix(last.domain.labels.count + 1)))
                } else {
                    organizationalDomain = last.domain
                }
            } else {
                organizationalDomain = domain
            }
        }

        // §4.10.1: the Author Domain's record, else the Organizational Domain's, else the PSD's.
        if steps[0].hasRecord {
            governing = steps[0]
            source = .ownRecord
        } else if failedStep == nil {
            if let organizational = steps.first(where: { $0.hasRecord && $0.domain == organizationalDomain }) {
                governing = organizational
                source = .organizationalDomain
            } else if let publicSuffix = steps.last(where: { $0.hasRecord && $0.publicSuffix == .yes }) {
                governing = publicSuffix
                source = .publicSuffixDomain
            }
        }
    }
}

/// The DNS tree walk of RFC 9989 §4.10, over any ``Resolver``.
///
/// ```swift
/// let discovery = await DMARCTreeWalk(resolver: resolver).discover(try DomainName(parsing: "mail.example.com"))
/// discovery.governing?.domain      // example.com: "inherited from _dmarc.example.com by the tree walk"
/// discovery.organizationalDomain   // example.com
/// ```
///
/// The walk asks about at most eight names (``names(from:)``). Their answers do not depend on
/// each other, so all are asked at once and read in walk order afterwards; names after the point
/// where the walk stops are asked but not used. The run's cache shares them between domains.
public struct DMARCTreeWalk: Sendable {
    /// At most this many names are asked about (RFC 9989 §4.10).
    public static let maximumQueries = 8

    public let resolver: any Resolver

    public init(resolver: any Resolver) { self.resolver = resolver }

    /// The domains whose `_dmarc` names the walk asks about, in order: the domain itself; then,
    /// when it has more than eight labels, its last seven; otherwise its parent; then each
    /// parent in turn down to the top-level domain (RFC 9989 §4.10 steps 3-7, §4.10.1).
    ///
    /// `a.b.c.d.e.f.g.h.i.j.mail.example.com` gives that name, `g.h.i.j.mail.example.com`,
    /// `h.i.j.mail.example.com`, … `example.com`, `com`: eight names.
    public static func names(from domain: DomainName) -> [DomainName] {
        var names = [domain]
        var labels = domain.labels
        if labels.count > 1 {
            labels = Array(labels.suffix(min(labels.count - 1, maximumQueries - 1)))
            while !labels.isEmpty {
                names.append(DomainName(labels: labels))
                labels.removeFirst()
            }
        }
        return names
    }

    /// Walks the tree for `domain` and reads the answers (see ``DMARCDiscovery/init(domain:answers:)``).
    public func discover(_ domain: DomainName) async -> DMARCDiscovery {
        let names = Self.names(from: domain)
        let answers = await withTaskGroup(of: (Int, DNSAnswer).self) { group in
            for (index, name) in names.enumerated() {
                group.addTask { (index, await resolver.resolve(name.prepending("_dmarc"), .txt)) }
            }
            var answers: [(Int, DNSAnswer)] = []
            for await answer in group { answers.append(answer) }
            return answers.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return DMARCDiscovery(domain: domain, answers: answers)
    }
}
