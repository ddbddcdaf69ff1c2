import MailAuditCore
import MailAuditRecords
import MailAuditTesting
import Testing

@Suite("SPF check_host()")
struct SPFEvaluatorTests {
    static let zone = """
        example.com.       TXT "v=spf1 include:_spf.example.com mx -all exp=why.example.com"
        example.com.       TXT "google-site-verification=abc"
        example.com.       MX  10 mx1.example.com.
        example.com.       MX  20 mx2.example.com.
        mx1.example.com.   A   192.0.2.10
        mx2.example.com.   A   192.0.2.20
        _spf.example.com.  TXT "v=spf1 ip4:198.51.100.0/24 ~all"
        why.example.com.   TXT "%{i} may not send for %{d} (%{r}, %{t})"
        two.example.com.   TXT "v=spf1 -all"
        two.example.com.   TXT "v=spf1 +all"
        exists.example.com. A  127.0.0.2
        """

    static let domain = DomainName(labels: ["example", "com"])

    func evaluate(_ ip: String, zone: String = zone, domain: DomainName = domain, resolver: StaticResolver? = nil) async throws -> SPFEvaluation {
        let resolver = try resolver ?? StaticResolver(zone: zone)
        let evaluator = SPFEvaluator(resolver: resolver, receiver: "mx.receiver.test", clock: { 1_700_000_000 })
        return await evaluator.checkHost(ip: IPAddress(ip)!, domain: domain, sender: "alice@example.com", helo: "mail.example.com")
    }

    @Test("a pass through include names the terms that decided")
    func includePass() async throws {
        let evaluation = try await evaluate("198.51.100.7")
        #expect(evaluation.result == .pass)
        #expect(evaluation.decidingSteps.map(\.description) == [
            "example.com: include:_spf.example.com matched → pass (the check of _spf.example.com gave pass)",
            "_spf.example.com: ip4:198.51.100.0/24 matched → pass (198.51.100.7 is in 198.51.100.0/24)",
        ])
        #expect(evaluation.decidingSteps.map(\.depth) == [0, 1])
        #expect(evaluation.lookupTerms == 1)
        #expect(evaluation.explanation == nil)
    }

    @Test("mx looks up each host once and matches any of them")
    func mx() async throws {
        let resolver = try StaticResolver(zone: Self.zone, latency: .milliseconds(5))
        let evaluation = try await evaluate("192.0.2.20", resolver: resolver)
        #expect(evaluation.result == .pass)
        #expect(evaluation.decidingSteps.count == 1)
        #expect(evaluation.lookupTerms == 2)
        #expect(resolver.repeatedQuestions.isEmpty)
        let lookups = evaluation.trace.compactMap { step -> String? in
            if case .lookup(let answer) = step.event { answer.question.description } else { nil }
        }
        #expect(lookups == [
            "example.com. TXT", "_spf.example.com. TXT", "example.com. MX", "mx1.example.com. A", "mx2.example.com. A",
        ])
    }

    @Test("a fail carries the expanded explanation, with %{r} and %{t} injected")
    func explanation() async throws {
        let evaluation = try await evaluate("203.0.113.9")
        #expect(evaluation.result == .fail)
        #expect(evaluation.explanation == "203.0.113.9 may not send for example.com (mx.receiver.test, 1700000000)")
        #expect(evaluation.decidingSteps.map(\.description) == ["example.com: -all matched → fail (all always matches)"])
    }

    @Test("timeouts and SERVFAIL are temperror, never none")
    func inconclusive() async throws {
        let include = try StaticResolver(zone: Self.zone)
        include.override(DNSQuestion(DomainName(labels: ["_spf", "example", "com"]), .txt), with: .timeout)
        let viaInclude = try await evaluate("198.51.100.7", resolver: include)
        #expect(viaInclude.result == .temperror)
        #expect(viaInclude.problem?.result == .temperror)

        let top = try StaticResolver(zone: Self.zone)
        top.override(name: Self.domain, with: .serverFailure(rcode: ResponseCode.servFail))
        let atTop = try await evaluate("198.51.100.7", resolver: top)
        #expect(atTop.result == .temperror)
        #expect(atTop.problem == .dnsFailure(DNSQuestion(Self.domain, .txt), .serverFailure(rcode: 2)))
    }

    @Test("two SPF records are a permerror that lists both")
    func twoRecords() async throws {
        let evaluation = try await evaluate("192.0.2.1", domain: DomainName(labels: ["two", "example", "com"]))
        #expect(evaluation.result == .permerror)
        #expect(evaluation.problem == .multipleRecords(["v=spf1 -all", "v=spf1 +all"]))
    }

    @Test("the 10-term limit is counted exactly", arguments: [10, 11])
    func lookupLimit(_ terms: Int) async throws {
        let mechanisms = (1...terms).map { _ in "exists:exists.example.com" }.joined(separator: " ")
        let zone = Self.zone + "\nlimit.example.com. TXT \"v=spf1 -\(mechanisms) ?all\""
        let evaluation = try await evaluate("192.0.2.1", zone: zone, domain: DomainName(labels: ["limit", "example", "com"]))
        // The first exists matches with "-", so only one term is evaluated: the limit is lazy.
        #expect(evaluation.result == .fail)
        #expect(evaluation.lookupTerms == 1)

        let misses = (1...terms).map { _ in "a:mx1.example.com" }.joined(separator: " ")
        let zone2 = Self.zone + "\nlimit.example.com. TXT \"v=spf1 \(misses) ?all\""
        let counted = try await evaluate("192.0.2.1", zone: zone2, domain: DomainName(labels: ["limit", "example", "com"]))
        #expect(counted.result == (terms <= 10 ? .neutral : .permerror))
        #expect(counted.lookupTerms == terms)
        if terms > 10 { #expect(counted.problem == .tooManyLookupTerms(limit: 10)) }
    }

    @Test("more than two void lookups is a permerror", arguments: [2, 3])
    func voidLimit(_ count: Int) async throws {
        let terms = (1...count).map { "a:nx\($0).example.com" }.joined(separator: " ")
        let zone = Self.zone + "\nvoid.example.com. TXT \"v=spf1 \(terms) ?all\""
        let evaluation = try await evaluate("192.0.2.1", zone: zone, domain: DomainName(labels: ["void", "example", "com"]))
        #expect(evaluation.result == (count <= 2 ? .neutral : .permerror))
        #expect(evaluation.voidLookups == count)
    }

    @Test("an empty MAIL FROM checks postmaster@ the HELO name")
    func heloIdentity() async throws {
        let zone = """
            helo.example.com. TXT "v=spf1 -all exp=why.helo.example.com"
            why.helo.example.com. TXT "%{s} %{l} %{o} %{h}"
            """
        let evaluator = SPFEvaluator(resolver: try StaticResolver(zone: zone), clock: { 0 })
        let evaluation = await evaluator.checkHost(ip: IPAddress("192.0.2.1")!, mailFrom: "", helo: "helo.example.com")
        #expect(evaluation.result == .fail)
        #expect(evaluation.explanation == "postmaster@helo.example.com postmaster helo.example.com helo.example.com")
        let literal = await evaluator.checkHost(ip: IPAddress("192.0.2.1")!, mailFrom: "a@[192.0.2.1]", helo: nil)
        #expect(literal.result == .none)
        #expect(literal.trace.count == 1)
    }
}
