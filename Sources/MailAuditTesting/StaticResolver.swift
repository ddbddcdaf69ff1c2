public import MailAuditCore

/// An in-memory ``Resolver`` that answers like an authoritative server for a fixed set of
/// records: the twin of the network resolver for unit tests and the RFC 7208 test suite.
///
/// ```swift
/// let resolver = try StaticResolver(zone: """
///     example.test.      MX    10 mx.example.test.
///     mx.example.test.   CNAME host.example.test.
///     host.example.test. A     192.0.2.1
///     """)
/// await resolver.resolve(DomainName(labels: ["mx", "example", "test"]), .a)
/// // .records([host.example.test. 300 IN A 192.0.2.1]), cnameChain [host.example.test]
/// ```
///
/// - A name with records but none of the asked type gives `.noData`.
/// - A name with no records gives `.nxDomain`, unless some name lies below it (an empty
///   non-terminal, RFC 8020 §2): then `.noData`.
/// - CNAMEs are followed within the data; `cnameChain` lists the targets; returning to a
///   visited name gives `.cnameLoop`. A question for type CNAME gets the CNAME itself.
/// - Overrides replace the outcome for one question, or for every type at one name, at any
///   step of a CNAME chain: `.timeout`, `.serverFailure(rcode: 2)`, even `.records(…)`.
///
/// Every question is counted, so tests can assert that nothing was asked twice.
public final class StaticResolver: Resolver {
    /// The records it serves, in the order given.
    public let records: [DNSRecord]
    /// The AD bit put on every answer.
    public let dnssec: DNSSECStatus
    /// A pause before each answer, to let concurrency show in tests.
    public let latency: Duration

    private let byName: [DomainName: [DNSRecord]]
    private let nonTerminals: Set<DomainName>
    private let state: Locked<State>

    private struct State {
        var overrides: [DNSQuestion: DNSOutcome]
        var nameOverrides: [DomainName: DNSOutcome]
        var asked: [DNSQuestion] = []
        var counts: [DNSQuestion: Int] = [:]
    }

    /// The longest CNAME chain followed before giving up with SERVFAIL, as resolvers do.
    public static let maximumChainLength = 16

    /// Serves `records`, with `overrides` for single questions and `nameOverrides` for every
    /// type at a name. An override wins over the records.
    public init(
        records: [DNSRecord], overrides: [DNSQuestion: DNSOutcome] = [:], nameOverrides: [DomainName: DNSOutcome] = [:],
        dnssec: DNSSECStatus = .indeterminate, latency: Duration = .zero
    ) {
        self.records = records
        self.dnssec = dnssec
        self.latency = latency
        byName = Dictionary(grouping: records, by: \.name)
        var nonTerminals = Set<DomainName>()
        for name in byName.keys {
            var parent = name.parent
            while let current = parent, nonTerminals.insert(current).inserted {
                parent = current.parent
            }
        }
        self.nonTerminals = nonTerminals
        state = Locked(State(overrides: overrides, nameOverrides: nameOverrides))
    }

    /// Serves the records of a zone-like text (see ``ZoneText``).
    ///
    /// - Throws: ``ZoneTextError`` naming the line that could not be read.
    public convenience init(
        zone: String, origin: DomainName? = nil, overrides: [DNSQuestion: DNSOutcome] = [:],
        nameOverrides: [DomainName: DNSOutcome] = [:], dnssec: DNSSECStatus = .indeterminate, latency: Duration = .zero
    ) throws(ZoneTextError) {
        self.init(
            records: try ZoneText.parse(zone, origin: origin), overrides: overrides, nameOverrides: nameOverrides,
            dnssec: dnssec, latency: latency)
    }

    /// Makes every later question `question` end in `outcome` (nil removes the override).
    public func override(_ question: DNSQuestion, with outcome: DNSOutcome?) {
        state.withLock { $0.overrides[question] = outcome }
    }

    /// Makes every later question about `name`, of any type, end in `outcome` (nil removes it).
    public func override(name: DomainName, with outcome: DNSOutcome?) {
        state.withLock { $0.nameOverrides[name] = outcome }
    }

    public func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        state.withLock { state in
            state.asked.append(question)
            state.counts[question, default: 0] += 1
        }
        if latency > .zero { try? await Task.sleep(for: latency) }
        return answer(question)
    }

    /// The answer to `question`, without counting it or waiting.
    public func answer(_ question: DNSQuestion) -> DNSAnswer {
        let (overrides, nameOverrides) = state.withLock { ($0.overrides, $0.nameOverrides) }
        var name = question.name
        var chain: [DomainName] = []
        var visited: Set<DomainName> = [name]
        func done(_ outcome: DNSOutcome) -> DNSAnswer {
            DNSAnswer(question: question, outcome: outcome, cnameChain: chain, dnssec: dnssec)
        }
        while true {
            if let outcome = overrides[DNSQuestion(name, question.type)] ?? nameOverrides[name] { return done(outcome) }
            let here = byName[name] ?? []
            let matching = here.filter { $0.type == question.type }
            if !matching.isEmpty { return done(.records(matching)) }
            if let cname = here.first(where: { $0.type == .cname }), case .cname(let target) = cname.data {
                guard visited.insert(target).inserted else { return done(.cnameLoop) }
                guard chain.count < Self.maximumChainLength else {
                    return done(.serverFailure(rcode: ResponseCode.servFail))
                }
                chain.append(target)
                name = target
                continue
            }
            return done(here.isEmpty && !nonTerminals.contains(name) ? .nxDomain : .noData)
        }
    }

    /// Every question asked through ``resolve(_:)``, in order.
    public var questionsAsked: [DNSQuestion] { state.withLock { $0.asked } }

    /// How many times each question was asked.
    public var questionCounts: [DNSQuestion: Int] { state.withLock { $0.counts } }

    /// The questions asked more than once, sorted by name then type.
    public var repeatedQuestions: [DNSQuestion] {
        state.withLock { $0.counts.filter { $0.value > 1 }.map(\.key) }
            .sorted { ($0.name, $0.type) < ($1.name, $1.type) }
    }

    /// Forgets the questions asked so far.
    public func resetCounts() {
        state.withLock { state in
            state.asked = []
            state.counts = [:]
        }
    }
}
