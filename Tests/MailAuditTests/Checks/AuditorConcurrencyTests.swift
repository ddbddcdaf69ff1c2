import MailAudit
import MailAuditCore
import Testing

/// A resolver that answers NXDOMAIN after a pause and counts the domains whose MX question is
/// in flight at once.
private final class CountingResolver: Resolver {
    private let state = Locked((inFlight: 0, most: 0))

    func resolve(_ question: DNSQuestion) async -> DNSAnswer {
        let isMX = question.type == .mx
        if isMX { state.withLock { $0.inFlight += 1; $0.most = max($0.most, $0.inFlight) } }
        try? await Task.sleep(for: .milliseconds(2))
        if isMX { state.withLock { $0.inFlight -= 1 } }
        return DNSAnswer(question: question, outcome: .nxDomain)
    }

    var most: Int { state.withLock { $0.most } }
}

@Suite struct AuditorConcurrencyTests {
    /// 5,000 domains on the command line once took 1.7 GB: every audit ran at once.
    @Test func aLongListIsAuditedAFewDomainsAtATime() async throws {
        let resolver = CountingResolver()
        var options = AuditOptions()
        options.checks = [.mx]
        let domains = try (0..<300).map { try DomainName(parsing: "d\($0).example.test") }
        let reports = await Auditor(resolver: resolver, options: options).audit(domains + [domains[0]])
        #expect(reports.count == 301)
        #expect(reports.allSatisfy { !$0.deadlineExceeded })
        #expect(resolver.most <= Auditor.concurrentDomains, "\(resolver.most) domains at once")
        #expect(resolver.most > 1, "domains still run concurrently")
    }

    @Test func domainsNotStartedByTheDeadlineAreReportedAsSuch() async throws {
        let resolver = CountingResolver()
        var options = AuditOptions()
        options.checks = [.mx]
        options.deadline = .milliseconds(1)
        let domains = try (0..<500).map { try DomainName(parsing: "d\($0).example.test") }
        let reports = await Auditor(resolver: resolver, options: options).audit(domains)
        #expect(reports.count == 500)
        let unfinished = reports.filter(\.deadlineExceeded)
        #expect(!unfinished.isEmpty)
        #expect(unfinished.allSatisfy { $0.findings.contains { $0.id.rawValue == "audit.deadline-exceeded" } })
    }
}
