public import MailAuditCore

/// The result of check_host() (RFC 7208 §2.6, §8).
public enum SPFResult: String, Hashable, Sendable, CaseIterable, Codable, CustomStringConvertible {
    /// The client is authorized (§8.3).
    case pass
    /// The client is not authorized (§8.4).
    case fail
    /// Probably not authorized; a weak statement (§8.5).
    case softfail
    /// The domain makes no assertion (§8.2).
    case neutral
    /// No SPF record, or no valid domain to check (§8.1).
    case none
    /// A transient DNS error: the check could not be done (§8.6).
    case temperror
    /// The record is broken or a limit was exceeded (§8.7).
    case permerror

    public var description: String { rawValue }
}

/// Why check_host() ended in "permerror" or "temperror".
public enum SPFProblem: Hashable, Sendable, CustomStringConvertible {
    /// The record does not follow the grammar (RFC 7208 §4.6, §12).
    case syntax(SPFParseError)
    /// More than one TXT record starts with `v=spf1` (RFC 7208 §4.5).
    case multipleRecords([String])
    /// More than the allowed terms that cause DNS lookups (RFC 7208 §4.6.4).
    case tooManyLookupTerms(limit: Int)
    /// More than the allowed lookups that found no records (RFC 7208 §4.6.4).
    case tooManyVoidLookups(limit: Int)
    /// An `mx` target with more MX records than allowed (RFC 7208 §4.6.4).
    case tooManyMXRecords(DomainName, count: Int, limit: Int)
    /// The domain named by `include` has no SPF record (RFC 7208 §5.2).
    case includeWithoutRecord(DomainName)
    /// The domain named by `redirect` has no SPF record (RFC 7208 §6.1).
    case redirectWithoutRecord(DomainName)
    /// The `include` or `redirect` target does not expand to a valid domain name (RFC 7208 §4.3, §6.1).
    case invalidTarget(term: String, expansion: String)
    /// A lookup timed out or failed: the check is inconclusive (RFC 7208 §4.4, §5).
    case dnsFailure(DNSQuestion, DNSOutcome)

    /// "temperror" for DNS failures, "permerror" for everything else.
    public var result: SPFResult {
        if case .dnsFailure = self { .temperror } else { .permerror }
    }

    public var description: String {
        switch self {
        case .syntax(let error): "syntax error in \(error)"
        case .multipleRecords(let records):
            "\(records.count) TXT records start with v=spf1; there must be exactly one (RFC 7208 §4.5)"
        case .tooManyLookupTerms(let limit):
            "more than \(limit) terms that cause DNS lookups (include, a, mx, ptr, exists, redirect) (RFC 7208 §4.6.4)"
        case .tooManyVoidLookups(let limit):
            "more than \(limit) lookups found no records (NXDOMAIN or NODATA) (RFC 7208 §4.6.4)"
        case .tooManyMXRecords(let name, let count, let limit):
            "\(name) has \(count) MX records; the mx mechanism allows at most \(limit) (RFC 7208 §4.6.4)"
        case .includeWithoutRecord(let name): "the included domain \(name) has no SPF record (RFC 7208 §5.2)"
        case .redirectWithoutRecord(let name): "the redirect target \(name) has no SPF record (RFC 7208 §6.1)"
        case .invalidTarget(let term, let expansion):
            "\(term) names \"\(expansion)\", which is not a valid domain name"
        case .dnsFailure(let question, let outcome): "the lookup \(question) failed: \(outcome.summary)"
        }
    }
}

/// One step of an evaluation, for showing how the result was reached.
public struct SPFTraceStep: Hashable, Sendable, CustomStringConvertible {
    /// 0 for the checked domain, one more for each include or redirect.
    public var depth: Int
    /// The domain whose record was being evaluated.
    public var domain: DomainName
    /// What happened.
    public var event: Event

    public init(depth: Int, domain: DomainName, event: Event) {
        self.depth = depth
        self.domain = domain
        self.event = event
    }

    /// The kinds of step: lookups, the record, each term evaluated, and how each domain ended.
    public enum Event: Hashable, Sendable {
        /// A DNS query and what it found.
        case lookup(DNSAnswer)
        /// The SPF record selected at the domain (RFC 7208 §4.5).
        case record(String)
        /// A term was evaluated, and what came of it.
        case term(SPFTerm, TermOutcome, detail: String)
        /// check_host() for this domain ended with this result.
        case finished(SPFResult, detail: String)
        /// The explanation computed for a "fail" (RFC 7208 §6.2).
        case explanation(String)
        /// Something worth knowing that did not change the result (an `exp` that was ignored).
        case note(String)
    }

    /// What came of evaluating one term.
    public enum TermOutcome: Hashable, Sendable {
        /// The mechanism matched: the result is the qualifier's.
        case matched(SPFResult)
        /// The mechanism did not match; evaluation went on.
        case notMatched
        /// `redirect` was followed to this domain (RFC 7208 §6.1).
        case followed(DomainName)
        /// Evaluation stopped here with "permerror" or "temperror".
        case error(SPFProblem)
    }

    /// One line: `example.com: ip4:192.0.2.0/24 matched → pass (192.0.2.1 is in 192.0.2.0/24)`.
    public var description: String {
        let body: String = switch event {
        case .lookup(let answer): "lookup \(answer.question): \(answer.outcome.summary)"
        case .record(let text): "record \"\(text)\""
        case .term(let term, let outcome, let detail):
            switch outcome {
            case .matched(let result): "\(term) matched → \(result) (\(detail))"
            case .notMatched: "\(term) did not match (\(detail))"
            case .followed(let target): "\(term) followed to \(target) (\(detail))"
            case .error(let problem): "\(term) → \(problem.result): \(problem)"
            }
        case .finished(let result, let detail): "result \(result) (\(detail))"
        case .explanation(let text): "explanation \"\(text)\""
        case .note(let text): text
        }
        return "\(domain): \(body)"
    }
}

/// What check_host() found (RFC 7208 §4), with the steps that led there.
public struct SPFEvaluation: Hashable, Sendable {
    /// The result (RFC 7208 §8).
    public var result: SPFResult
    /// The domain checked.
    public var domain: DomainName
    /// The text of `exp=` when the result is "fail" and the explanation could be had
    /// (RFC 7208 §6.2); nil otherwise, and the receiver uses its own default.
    public var explanation: String?
    /// Why the result is "permerror" or "temperror"; nil for other results.
    public var problem: SPFProblem?
    /// Every step, in order.
    public var trace: [SPFTraceStep]
    /// The steps that decided the result, outermost first: the matching term and, through
    /// `include` and `redirect`, the terms inside that decided; or the step where it stopped.
    public var decidingSteps: [SPFTraceStep]
    /// Terms evaluated that cause DNS lookups (RFC 7208 §4.6.4; at most 10).
    public var lookupTerms: Int
    /// Lookups that found no records (RFC 7208 §4.6.4; at most 2).
    public var voidLookups: Int

    public init(
        result: SPFResult, domain: DomainName, explanation: String? = nil, problem: SPFProblem? = nil,
        trace: [SPFTraceStep] = [], decidingSteps: [SPFTraceStep] = [], lookupTerms: Int = 0, voidLookups: Int = 0
    ) {
        self.result = result
        self.domain = domain
        self.explanation = explanation
        self.problem = problem
        self.trace = trace
        self.decidingSteps = decidingSteps
        self.lookupTerms = lookupTerms
        self.voidLookups = voidLookups
    }
}

/// The processing limits of RFC 7208 §4.6.4.
public struct SPFLimits: Hashable, Sendable {
    /// Terms that cause DNS lookups (include, a, mx, ptr, exists, redirect): 10.
    public var lookupTerms: Int
    /// Lookups answered with NXDOMAIN or NODATA: 2.
    public var voidLookups: Int
    /// MX records one `mx` mechanism may look at: 10; more is "permerror".
    public var mxNames: Int
    /// PTR names one `ptr` mechanism or `%{p}` may look at: 10; the rest are ignored.
    public var ptrNames: Int

    public init(lookupTerms: Int = 10, voidLookups: Int = 2, mxNames: Int = 10, ptrNames: Int = 10) {
        self.lookupTerms = lookupTerms
        self.voidLookups = voidLookups
        self.mxNames = mxNames
        self.ptrNames = ptrNames
    }
}
