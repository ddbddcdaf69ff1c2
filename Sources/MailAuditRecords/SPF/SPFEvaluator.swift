public import MailAuditCore
import Foundation

/// Runs check_host() (RFC 7208 §4) against a ``Resolver``.
///
/// ```swift
/// let evaluator = SPFEvaluator(resolver: resolver)
/// let evaluation = await evaluator.checkHost(
///     ip: IPAddress("192.0.2.1")!, domain: try DomainName(parsing: "example.com"),
///     sender: "alice@example.com", helo: "mail.example.com")
/// evaluation.result          // .pass, .fail, …
/// evaluation.decidingSteps   // the terms that decided
/// ```
///
/// Terms are evaluated one after another, in order, stopping at the first match, so the
/// limits of §4.6.4 are counted exactly: a term that causes lookups counts when it is
/// reached. Only the address lookups of one `mx` or `ptr` run concurrently.
///
/// DNS timeouts, SERVFAIL and other failures give "temperror" (inconclusive), never "none".
/// A CNAME loop counts as a failure too, as a recursive resolver reports it with SERVFAIL.
public struct SPFEvaluator: Sendable {
    /// Every lookup goes through it.
    public let resolver: any Resolver
    /// The processing limits (RFC 7208 §4.6.4).
    public var limits: SPFLimits
    /// The name of the host performing the check, for `%{r}` in explanations (RFC 7208 §7.2).
    public var receiver: String
    /// Seconds since the epoch, for `%{t}` in explanations; injected so tests do not depend on the clock.
    public var clock: @Sendable () -> Int

    /// - Parameters:
    ///   - receiver: the value of `%{r}`; "unknown" by default (RFC 7208 §7.2).
    ///   - clock: the value of `%{t}`; the system clock when nil.
    public init(
        resolver: any Resolver, limits: SPFLimits = SPFLimits(), receiver: String = "unknown",
        clock: (@Sendable () -> Int)? = nil
    ) {
        self.resolver = resolver
        self.limits = limits
        self.receiver = receiver
        self.clock = clock ?? { Int(Date().timeIntervalSince1970) }
    }

    /// check_host(`ip`, `domain`, `sender`) as RFC 7208 §4 defines it.
    ///
    /// - Parameters:
    ///   - ip: the SMTP client's address; an IPv4-mapped IPv6 address is treated as IPv4 (§5).
    ///   - domain: the domain whose policy is checked; a name that is not a valid multi-label
    ///     domain gives "none" (§4.3).
    ///   - sender: the MAIL FROM or HELO identity, `local-part@domain`; a missing local-part
    ///     becomes "postmaster" (§4.3).
    ///   - helo: the HELO/EHLO name for `%{h}`; "unknown" when nil.
    /// - Returns: the result, the explanation when the result is "fail" (§6.2), and the trace.
    public func checkHost(ip: IPAddress, domain: DomainName, sender: String, helo: String?) async -> SPFEvaluation {
        let address = Self.unmapped(ip)
        var local = sender
        var senderDomain = domain.labels.joined(separator: ".")
        if let at = sender.lastIndex(of: "@") {
            local = String(sender[..<at])
            senderDomain = String(sender[sender.index(after: at)...])
        } else if !sender.isEmpty {
            local = ""
            senderDomain = sender
        }
        if local.isEmpty { local = "postmaster" }
        var run = Run(
            ip: address, sender: "\(local)@\(senderDomain)", localPart: local, senderDomain: senderDomain,
            helo: helo ?? "unknown", timestamp: clock())
        let verdict = await evaluate(domain, depth: 0, wantsExplanation: true, &run)
        return SPFEvaluation(
            result: verdict.result, domain: domain, explanation: verdict.explanation, problem: verdict.problem,
            trace: run.trace, decidingSteps: verdict.decision, lookupTerms: run.lookupTerms, voidLookups: run.voidLookups)
    }

    /// Checks the MAIL FROM identity (RFC 7208 §2.4), or the HELO identity when MAIL FROM is
    /// empty: the sender becomes `postmaster@` the HELO name (§2.4, §4.3).
    ///
    /// The domain is taken from the text after the last "@", with one trailing dot removed; a
    /// domain that is malformed (empty or overlong label, single label, address literal) gives
    /// "none" as §4.3 requires.
    public func checkHost(ip: IPAddress, mailFrom: String, helo: String?) async -> SPFEvaluation {
        let sender = mailFrom.isEmpty ? "postmaster@" + (helo ?? "") : mailFrom
        var domainText = String(sender[(sender.lastIndex(of: "@").map { sender.index(after: $0) } ?? sender.startIndex)...])
        if domainText.hasSuffix(".") { domainText.removeLast() }
        let domain = DomainName(labels: domainText.split(separator: ".", omittingEmptySubsequences: false).map(String.init))
        return await checkHost(ip: ip, domain: domain, sender: sender, helo: helo)
    }

    // MARK: - One evaluation

    /// What one check_host() call keeps while it runs.
    struct Run {
        let ip: IPAddress
        let sender: String
        let localPart: String
        let senderDomain: String
        let helo: String
        let timestamp: Int
        var lookupTerms = 0
        var voidLookups = 0
        var trace: [SPFTraceStep] = []
        /// The names that `%{p}` may use, once looked up.
        var validatedNames: [DomainName]?

        init(ip: IPAddress, sender: String, localPart: String, senderDomain: String, helo: String, timestamp: Int) {
            self.ip = ip
            self.sender = sender
            self.localPart = localPart
            self.senderDomain = senderDomain
            self.helo = helo
            self.timestamp = timestamp
        }

        @discardableResult
        mutating func step(_ depth: Int, _ domain: DomainName, _ event: SPFTraceStep.Event) -> SPFTraceStep {
            let step = SPFTraceStep(depth: depth, domain: domain, event: event)
            trace.append(step)
            return step
        }
    }

    /// How check_host() ended for one domain.
    struct Verdict {
        var result: SPFResult
        var problem: SPFProblem?
        var decision: [SPFTraceStep]
        var explanation: String?
    }

    /// What one mechanism came to.
    enum Match {
        case match(String, inner: [SPFTraceStep])
        case noMatch(String)
        case error(SPFProblem, inner: [SPFTraceStep])
    }

    /// check_host() for one domain: §4.3 to §4.7, then §6.1 redirect.
    func evaluate(_ domain: DomainName, depth: Int, wantsExplanation: Bool, _ run: inout Run) async -> Verdict {
        func finish(_ result: SPFResult, _ detail: String, problem: SPFProblem? = nil) -> Verdict {
            let step = run.step(depth, domain, .finished(result, detail: detail))
            return Verdict(result: result, problem: problem, decision: [step])
        }
        // §4.3: a malformed domain gives "none" without a lookup.
        if let malformation = Self.malformation(of: domain) {
            return finish(.none, "\"\(domain)\" \(malformation), so there is nothing to check (RFC 7208 §4.3)")
        }
        // §4.4: the TXT lookup.
        let answer = await resolver.resolve(domain, .txt)
        run.step(depth, domain, .lookup(answer))
        switch Self.classify(answer) {
        case .failure:
            let problem = SPFProblem.dnsFailure(answer.question, answer.outcome)
            return finish(.temperror, problem.description, problem: problem)
        case .void:
            return finish(.none, "no TXT records: \(answer.outcome.summary) (RFC 7208 §4.5)")
        case .records: break
        }
        // §4.5: record selection.
        let text: String
        switch SPFRecordSelection(records: answer.records).outcome {
        case .none: return finish(.none, "no TXT record starts with \"v=spf1\" (RFC 7208 §4.5)")
        case .multiple(let records):
            let problem = SPFProblem.multipleRecords(records)
            return finish(.permerror, problem.description, problem: problem)
        case .record(let selected): text = selected
        }
        run.step(depth, domain, .record(text))
        // §4.6: the whole record is parsed before anything is evaluated.
        let record: SPFRecord
        do throws(SPFParseError) {
            record = try SPFRecord(parsing: text)
        } catch {
            let problem = SPFProblem.syntax(error)
            return finish(.permerror, problem.description, problem: problem)
        }
        // §4.6.2: mechanisms left to right; the first match decides.
        for directive in record.directives {
            let term = SPFTerm.directive(directive)
            switch await match(directive.mechanism, domain: domain, depth: depth, &run) {
            case .match(let detail, let inner):
                let result = directive.qualifier.result
                let step = run.step(depth, domain, .term(term, .matched(result), detail: detail))
                var explanation: String?
                if result == .fail && wantsExplanation {
                    explanation = await explain(record, domain: domain, depth: depth, &run)
                }
                run.step(depth, domain, .finished(result, detail: "\(term) matched"))
                return Verdict(result: result, decision: [step] + inner, explanation: explanation)
            case .noMatch(let detail):
                run.step(depth, domain, .term(term, .notMatched, detail: detail))
            case .error(let problem, let inner):
                let step = run.step(depth, domain, .term(term, .error(problem), detail: problem.description))
                run.step(depth, domain, .finished(problem.result, detail: "stopped at \(term)"))
                return Verdict(result: problem.result, problem: problem, decision: [step] + inner)
            }
        }
        // §6.1: redirect when nothing matched (an `all` always matches, so it overrides redirect).
        if let spec = record.redirect {
            let term = SPFTerm.modifier(.redirect(spec))
            func stop(_ problem: SPFProblem, _ inner: [SPFTraceStep] = []) -> Verdict {
                let step = run.step(depth, domain, .term(term, .error(problem), detail: problem.description))
                run.step(depth, domain, .finished(problem.result, detail: "stopped at \(term)"))
                return Verdict(result: problem.result, problem: problem, decision: [step] + inner)
            }
            if let problem = countLookupTerm(&run) { return stop(problem) }
            let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
            guard let target else { return stop(.invalidTarget(term: term.description, expansion: expansion)) }
            let step = run.step(depth, domain, .term(term, .followed(target), detail: "no mechanism matched"))
            var inner = await evaluate(target, depth: depth + 1, wantsExplanation: wantsExplanation, &run)
            if inner.result == .none { return stop(.redirectWithoutRecord(target), inner.decision) }
            inner.decision.insert(step, at: 0)
            run.step(depth, domain, .finished(inner.result, detail: "the result of \(target), by redirect"))
            return inner
        }
        return finish(.neutral, "no mechanism matched and there is no redirect (RFC 7208 §4.7)")
    }

    // MARK: - Mechanisms (§5)

    func match(_ mechanism: SPFMechanism, domain: DomainName, depth: Int, _ run: inout Run) async -> Match {
        let ip = run.ip
        if mechanism.causesLookup, let problem = countLookupTerm(&run) { return .error(problem, inner: []) }
        switch mechanism {
        case .all:
            return .match("all always matches", inner: [])

        case .ip4(let network, let length), .ip6(let network, let length):
            guard network.isIPv6 == ip.isIPv6 else {
                return .noMatch("\(ip) is \(ip.isIPv6 ? "IPv6" : "IPv4"); \(mechanism.name) matches only \(network.isIPv6 ? "IPv6" : "IPv4")")
            }
            let prefix = IPNetwork(address: network, prefixLength: length ?? (network.isIPv6 ? 128 : 32))
            return prefix.contains(ip) ? .match("\(ip) is in \(prefix)", inner: []) : .noMatch("\(ip) is not in \(prefix)")

        case .a(let spec, let cidr):
            let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
            guard let target else { return .noMatch(Self.invalidName(expansion)) }
            let answer = await resolver.resolve(target, ip.isIPv6 ? .aaaa : .a)
            run.step(depth, domain, .lookup(answer))
            switch Self.classify(answer) {
            case .failure: return .error(.dnsFailure(answer.question, answer.outcome), inner: [])
            case .void:
                if let problem = countVoid(&run) { return .error(problem, inner: []) }
                return .noMatch("\(answer.question): \(answer.outcome.summary)")
            case .records(let records):
                return Self.addressMatch(ip, records, cidr, from: target)
            }

        case .mx(let spec, let cidr):
            let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
            guard let target else { return .noMatch(Self.invalidName(expansion)) }
            let answer = await resolver.resolve(target, .mx)
            run.step(depth, domain, .lookup(answer))
            let records: [DNSRecord]
            switch Self.classify(answer) {
            case .failure: return .error(.dnsFailure(answer.question, answer.outcome), inner: [])
            case .void:
                if let problem = countVoid(&run) { return .error(problem, inner: []) }
                return .noMatch("\(target) has no MX records; mx never falls back to A (RFC 7208 §5.4)")
            case .records(let found): records = found
            }
            // §4.6.4: more than 10 MX records is a permerror, not a partial check.
            guard records.count <= limits.mxNames else {
                return .error(.tooManyMXRecords(target, count: records.count, limit: limits.mxNames), inner: [])
            }
            let hosts = records.compactMap { record -> DomainName? in
                if case .mx(_, let exchange) = record.data, !exchange.labels.isEmpty { exchange } else { nil }
            }
            let answers = await lookUpAll(hosts.map { DNSQuestion($0, ip.isIPv6 ? .aaaa : .a) })
            for host in answers { run.step(depth, domain, .lookup(host)) }
            for host in answers {
                switch Self.classify(host) {
                case .failure: return .error(.dnsFailure(host.question, host.outcome), inner: [])
                case .void: continue
                case .records(let addresses):
                    if case .match(let detail, _) = Self.addressMatch(ip, addresses, cidr, from: host.question.name) {
                        return .match("MX \(host.question.name): \(detail)", inner: [])
                    }
                }
            }
            return .noMatch(hosts.isEmpty ? "\(target) has only a null MX" : "\(ip) is not an address of any MX host of \(target)")

        case .ptr(let spec):
            let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
            guard let target else { return .noMatch(Self.invalidName(expansion)) }
            let answer = await resolver.resolve(ip.reverseName, .ptr)
            run.step(depth, domain, .lookup(answer))
            let names: [DomainName]
            switch Self.classify(answer) {
            case .failure: return .noMatch("the PTR lookup failed, so ptr does not match (RFC 7208 §5.5)")
            case .void:
                if let problem = countVoid(&run) { return .error(problem, inner: []) }
                return .noMatch("\(ip) has no PTR records")
            case .records(let records): names = Self.ptrNames(records)
            }
            // §4.6.4: only the first 10 names are looked at; §5.5: only those in <target-name>.
            let candidates = names.prefix(limits.ptrNames).filter { $0.isSubdomain(of: target) }
            guard !candidates.isEmpty else {
                return .noMatch("no PTR name of \(ip) is \(target) or below it")
            }
            let validated = await validate(Array(candidates), depth: depth, domain: domain, &run)
            if let name = validated.first {
                return .match("\(name) is a validated name of \(ip) within \(target)", inner: [])
            }
            return .noMatch("no PTR name of \(ip) within \(target) resolves back to \(ip)")

        case .exists(let spec):
            let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
            guard let target else { return .noMatch(Self.invalidName(expansion)) }
            // §5.7: always an A lookup, whatever the client's address family.
            let answer = await resolver.resolve(target, .a)
            run.step(depth, domain, .lookup(answer))
            switch Self.classify(answer) {
            case .failure: return .error(.dnsFailure(answer.question, answer.outcome), inner: [])
            case .void:
                if let problem = countVoid(&run) { return .error(problem, inner: []) }
                return .noMatch("\(target) has no A records")
            case .records: return .match("\(target) has A records", inner: [])
            }

        case .include(let spec):
            let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
            guard let target else {
                return .error(.invalidTarget(term: mechanism.description, expansion: expansion), inner: [])
            }
            // §5.2: the included record's exp is never used.
            let inner = await evaluate(target, depth: depth + 1, wantsExplanation: false, &run)
            switch inner.result {
            case .pass: return .match("the check of \(target) gave pass", inner: inner.decision)
            case .fail, .softfail, .neutral: return .noMatch("the check of \(target) gave \(inner.result)")
            case .temperror, .permerror:
                return .error(inner.problem ?? .includeWithoutRecord(target), inner: inner.decision)
            case .none: return .error(.includeWithoutRecord(target), inner: inner.decision)
            }
        }
    }

    /// Counts a term that causes lookups; a problem once the limit is passed (§4.6.4).
    func countLookupTerm(_ run: inout Run) -> SPFProblem? {
        run.lookupTerms += 1
        return run.lookupTerms > limits.lookupTerms ? .tooManyLookupTerms(limit: limits.lookupTerms) : nil
    }

    /// Counts a lookup that found nothing; a problem once the limit is passed (§4.6.4).
    func countVoid(_ run: inout Run) -> SPFProblem? {
        run.voidLookups += 1
        return run.voidLookups > limits.voidLookups ? .tooManyVoidLookups(limit: limits.voidLookups) : nil
    }

    /// Asks every question at once and returns the answers in the order asked.
    func lookUpAll(_ questions: [DNSQuestion]) async -> [DNSAnswer] {
        let resolver = self.resolver
        return await withTaskGroup(of: (Int, DNSAnswer).self) { group in
            for (index, question) in questions.enumerated() {
                group.addTask { (index, await resolver.resolve(question)) }
            }
            var answers = [DNSAnswer?](repeating: nil, count: questions.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers.compactMap { $0 }
        }
    }

    /// The names among `names` that have an address equal to the client's (§5.5). Lookups
    /// that fail are skipped, as §5.5 says.
    func validate(_ names: [DomainName], depth: Int, domain: DomainName, _ run: inout Run) async -> [DomainName] {
        let ip = run.ip
        let answers = await lookUpAll(names.map { DNSQuestion($0, ip.isIPv6 ? .aaaa : .a) })
        var validated: [DomainName] = []
        for answer in answers {
            run.step(depth, domain, .lookup(answer))
            if case .records(let records) = Self.classify(answer), Self.addresses(records).contains(ip) {
                validated.append(answer.question.name)
            }
        }
        return validated
    }

    /// The value of `%{p}` for `domain` (§7.3): `domain` itself if validated, else a validated
    /// subdomain of it, else any validated name, else "unknown". The PTR lookups are done once
    /// per evaluation; they do not count against the limits, which count terms.
    func validatedName(for domain: DomainName, depth: Int, _ run: inout Run) async -> String {
        if run.validatedNames == nil {
            let answer = await resolver.resolve(run.ip.reverseName, .ptr)
            run.step(depth, domain, .lookup(answer))
            var names: [DomainName] = []
            if case .records(let records) = Self.classify(answer) { names = Self.ptrNames(records) }
            let validated = await validate(Array(names.prefix(limits.ptrNames)), depth: depth, domain: domain, &run)
            run.validatedNames = validated
        }
        let names = run.validatedNames ?? []
        let chosen = names.first { $0 == domain } ?? names.first { $0.isSubdomain(of: domain) } ?? names.first
        return chosen.map { $0.labels.joined(separator: ".") } ?? "unknown"
    }

    // MARK: - Names and macros (§7)

    func context(_ domain: DomainName, _ run: Run) -> SPFMacroContext {
        SPFMacroContext(
            sender: run.sender, localPart: run.localPart, senderDomain: run.senderDomain,
            domain: domain.labels.joined(separator: "."), ip: run.ip, helo: run.helo,
            receiver: receiver, timestamp: run.timestamp)
    }

    /// The target-name of a term: `<domain>` when no domain-spec is given, else the expansion
    /// made into a name (§4.8, §7.3), or nil with the expansion when that is not a valid name.
    func targetName(_ spec: SPFMacroString?, domain: DomainName, depth: Int, _ run: inout Run) async -> (DomainName?, String) {
        guard let spec else { return (domain, domain.description) }
        var values = context(domain, run)
        if spec.uses(.p) { values.validatedName = await validatedName(for: domain, depth: depth, &run) }
        let expansion = spec.expand(in: values)
        return (Self.domainName(fromExpansion: expansion), expansion)
    }

    /// Turns an expanded domain-spec into a name: one trailing dot is dropped, and a name over
    /// 253 characters loses labels from the left until it fits (§7.3). Nil when a label is
    /// empty or longer than 63 octets: such a name cannot be looked up, so the mechanism does
    /// not match (the RFC 7208 test suite accepts this or permerror).
    public static func domainName(fromExpansion expansion: String) -> DomainName? {
        var text = Substring(expansion)
        if text.hasSuffix(".") { text.removeLast() }
        var labels = text.split(separator: ".", omittingEmptySubsequences: false)
        var length = text.utf8.count
        while length > 253, labels.count > 1 {
            length -= labels.removeFirst().utf8.count + 1
        }
        guard length <= 253, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }) else { return nil }
        return DomainName(labels: labels.map(String.init))
    }

    /// The explanation for a "fail" (§6.2). Every problem (an expansion that is not a name,
    /// a DNS failure, no or several TXT records, a bad explain-string) means no explanation;
    /// the lookup counts against no limit.
    func explain(_ record: SPFRecord, domain: DomainName, depth: Int, _ run: inout Run) async -> String? {
        guard let spec = record.explanation else { return nil }
        let (target, expansion) = await targetName(spec, domain: domain, depth: depth, &run)
        guard let target else {
            run.step(depth, domain, .note("exp= expands to \"\(expansion)\", not a domain name; no explanation"))
            return nil
        }
        let answer = await resolver.resolve(target, .txt)
        run.step(depth, domain, .lookup(answer))
        let texts = answer.records.compactMap { record -> [UInt8]? in
            if case .txt(let strings) = record.data { Array(strings.joined()) } else { nil }
        }
        guard texts.count == 1 else {
            run.step(depth, domain, .note("exp=\(target) needs exactly one TXT record; no explanation (RFC 7208 §6.2)"))
            return nil
        }
        let text = String(decoding: texts[0], as: UTF8.self)
        let template: SPFMacroString
        do throws(SPFMacroError) {
            template = try SPFMacroString(parsing: text, allowsSpaces: true, allowsExplanationLetters: true)
        } catch {
            run.step(depth, domain, .note("the explanation at \(target) is not valid: \(error); no explanation (RFC 7208 §6.2)"))
            return nil
        }
        var values = context(domain, run)
        if template.uses(.p) { values.validatedName = await validatedName(for: domain, depth: depth, &run) }
        let explanation = template.expand(in: values)
        run.step(depth, domain, .explanation(explanation))
        return explanation
    }

    // MARK: - Helpers

    enum Found {
        case records([DNSRecord])
        case void
        case failure
    }

    /// Records, nothing (NXDOMAIN or NODATA: a void lookup), or a failure (temperror).
    static func classify(_ answer: DNSAnswer) -> Found {
        switch answer.outcome {
        case .records(let records): records.isEmpty ? .void : .records(records)
        case .noData, .nxDomain: .void
        case .serverFailure, .timeout, .networkError, .cnameLoop: .failure
        }
    }

    static func addresses(_ records: [DNSRecord]) -> [IPAddress] {
        records.compactMap { record in
            switch record.data {
            case .a(let address), .aaaa(let address): address
            default: nil
            }
        }
    }

    static func ptrNames(_ records: [DNSRecord]) -> [DomainName] {
        records.compactMap { if case .ptr(let name) = $0.data { name } else { nil } }
    }

    static func addressMatch(_ ip: IPAddress, _ records: [DNSRecord], _ cidr: SPFDualCIDR, from name: DomainName) -> Match {
        let length = cidr.length(for: ip)
        let found = addresses(records).filter { $0.isIPv6 == ip.isIPv6 }
        if let hit = found.first(where: { IPNetwork(address: $0, prefixLength: length).contains(ip) }) {
            return .match("\(ip) is in \(hit)/\(length) (\(name))", inner: [])
        }
        return .noMatch("\(ip) is not in any of \(found.map { "\($0)/\(length)" }.joined(separator: ", ")) (\(name))")
    }

    static func invalidName(_ expansion: String) -> String {
        "\"\(expansion)\" is not a valid domain name, so nothing was looked up"
    }

    /// Why `domain` cannot be checked (§4.3), or nil when it can.
    static func malformation(of domain: DomainName) -> String? {
        if domain.labels.first?.hasPrefix("[") == true { return "is an address literal" }
        if domain.labels.contains(where: \.isEmpty) { return "has an empty label" }
        if domain.labels.contains(where: { $0.utf8.count > 63 }) { return "has a label longer than 63 octets" }
        if domain.labels.count < 2 { return "is not a multi-label domain name" }
        if domain.labels.reduce(-1, { $0 + $1.utf8.count + 1 }) > 253 { return "is longer than 253 characters" }
        return nil
    }

    /// An IPv4-mapped IPv6 address (::ffff:192.0.2.1) as IPv4 (§5, RFC 4291 §2.5.5.2).
    static func unmapped(_ ip: IPAddress) -> IPAddress {
        if case .v6(let bytes) = ip, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return .v4(Array(bytes.suffix(4)))
        }
        return ip
    }
}
