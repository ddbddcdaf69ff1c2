import Foundation
import MailAudit
import MailAuditDNS
import MailAuditTesting
import Testing

extension Tag {
    /// Audits against a real NSD serving the fixture zones on 127.0.0.1.
    @Tag static var nsd: Self
}

/// One NSD for every audit test, started on first use; its watchdog stops it when the test
/// process ends.
actor FixtureNSD {
    static let shared = FixtureNSD()
    // A task, not the server itself: callers that arrive while NSD is starting wait for the same start.
    private var starting: Task<NSDServer, any Error>?

    func port() async throws -> UInt16 {
        let task = starting ?? Task {
            let server = try NSDServer(zoneDirectory: FixtureZones.directory(bundle: .module))
            try await server.start()
            return server
        }
        starting = task
        return try await task.value.requirePort()
    }

    func nameserver() async throws -> Nameserver {
        Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try await port()))
    }
}

func name(_ text: String) throws -> DomainName { try DomainName(parsing: text) }

/// The library against the real server: DNSClient (ldns over UDP/TCP) and the auditor.
@Suite(.serialized, .tags(.nsd))
struct AuditIntegrationTests {
    func audit(_ domains: [String], allowPrivate: Bool = true, senders: [String] = [],
               nameservers: [Nameserver]? = nil, timeout: Duration = .seconds(2), attempts: Int = 2,
               deadline: Duration = .seconds(30)) async throws -> ([DomainReport], ResolverStatistics) {
        let servers: [Nameserver]
        if let nameservers { servers = nameservers } else { servers = [try await FixtureNSD.shared.nameserver()] }
        let resolver = DNSClient.make(nameservers: servers, timeout: timeout, attempts: attempts)
        var options = AuditOptions()
        options.allowPrivateAddresses = allowPrivate
        options.sendingAddresses = senders.compactMap(IPAddress.init)
        options.deadline = deadline
        let reports = await Auditor(resolver: resolver, options: options).audit(try domains.map(name))
        return (reports, await resolver.statistics())
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var domain: String
        var id: String
        var severity: Severity
        var subject: String? = nil
        var allowPrivate = true
        var testDescription: String { "\(domain) → \(id) \(severity)" }
    }

    static let scenarios: [Scenario] = [
        .init(domain: "good.test", id: "mx.present", severity: .pass),
        .init(domain: "good.test", id: "mx.target-resolves", severity: .pass, subject: "mx2.good.test"),
        .init(domain: "good.test", id: "rdns.fcrdns", severity: .pass, subject: "127.0.2.1"),
        .init(domain: "good.test", id: "rdns.fcrdns", severity: .pass, subject: "::1"),
        .init(domain: "good.test", id: "rdns.ptr-matches-mx", severity: .info, subject: "127.0.2.2"),
        .init(domain: "good.test", id: "mx.ipv6", severity: .info),
        .init(domain: "nullmx.test", id: "mx.null-mx", severity: .pass),
        .init(domain: "nullmx-mixed.test", id: "mx.null-mx-with-other-mx", severity: .failure),
        .init(domain: "implicit.test", id: "mx.implicit-mx", severity: .warning),
        .init(domain: "implicit.test", id: "rdns.fcrdns", severity: .pass, subject: "127.0.3.1"),
        .init(domain: "nomail.test", id: "mx.no-mail-route", severity: .failure),
        .init(domain: "nonexistent.test", id: "mx.domain-nxdomain", severity: .failure),
        .init(domain: "cname-mx.test", id: "mx.target-cname", severity: .failure, subject: "mx.cname-mx.test"),
        .init(domain: "ipliteral.test", id: "mx.target-ip-literal", severity: .failure, subject: "127.0.4.1"),
        .init(domain: "ipliteral.test", id: "mx.target-ip-literal", severity: .failure, subject: "[127.0.4.1]"),
        .init(domain: "dangling.test", id: "mx.target-unresolvable", severity: .failure, subject: "gone.dangling.test"),
        .init(domain: "dangling.test", id: "mx.target-unresolvable", severity: .failure, subject: "noaddr.dangling.test"),
        .init(domain: "private.test", id: "mx.target-private-address", severity: .warning, allowPrivate: false),
        .init(domain: "private.test", id: "mx.target-private-address", severity: .info),
        .init(domain: "good.test", id: "mx.target-private-address", severity: .warning, subject: "mx1.good.test", allowPrivate: false),
        .init(domain: "ptr-missing.test", id: "rdns.no-ptr", severity: .warning, subject: "127.0.5.1"),
        .init(domain: "fcrdns-mismatch.test", id: "rdns.fcrdns-mismatch", severity: .failure, subject: "127.0.6.1"),
        .init(domain: "ptr-differs.test", id: "rdns.ptr-differs-from-mx", severity: .info, subject: "127.0.7.1"),
        .init(domain: "ptr-differs.test", id: "rdns.fcrdns", severity: .pass, subject: "127.0.7.1"),
        .init(domain: "cname-loop.test", id: "mx.target-cname-loop", severity: .failure, subject: "loop1.cname-loop.test"),
        .init(domain: "truncated.test", id: "mx.target-resolves", severity: .pass, subject: "big.truncated.test"),
        .init(domain: "servfail.test", id: "mx.lookup-failed", severity: .inconclusive),
        .init(domain: "nullmx-pref.test", id: "mx.null-mx-nonzero-preference", severity: .warning),
        .init(domain: "loop.cname-loop.test", id: "mx.lookup-cname-loop", severity: .failure),
        .init(domain: "rdns-fail.test", id: "rdns.lookup-failed", severity: .inconclusive, subject: "127.0.14.1"),
    ]

    @Test(arguments: scenarios)
    func scenario(_ scenario: Scenario) async throws {
        let (reports, _) = try await audit([scenario.domain], allowPrivate: scenario.allowPrivate)
        let findings = try #require(reports.first).findings
        let matching = findings.filter { $0.id.rawValue == scenario.id && (scenario.subject == nil || $0.subject.description == scenario.subject) }
        #expect(matching.map(\.severity) == [scenario.severity],
                "got: \(findings.map { "\($0.id) \($0.severity) \($0.subject)" })")
    }

    @Test func healthyDomainHasNoProblems() async throws {
        let (reports, statistics) = try await audit(["good.test"])
        let problems = try #require(reports.first).findings.filter { $0.severity > .info }
        #expect(problems.isEmpty, "\(problems.map(\.id))")
        #expect(statistics.repeatedQueries == 0)
        #expect(statistics.queriesSent == statistics.uniqueQuestions)
    }

    @Test func truncatedAnswerTakesTheTCPPath() async throws {
        let (reports, statistics) = try await audit(["truncated.test"])
        let resolves = try #require(reports.first?.findings.first { $0.id == "mx.target-resolves" })
        #expect(resolves.message.contains("127.0.8.16"), "\(resolves.message)")
        // All 100 addresses came back over TCP; the first 16 of the family are followed.
        let capped = try #require(reports.first?.findings.first { $0.id == "mx.addresses-not-checked" })
        #expect(capped.message.contains("has 100 distinct addresses"), "\(capped.message)")
        #expect(statistics.tcpFallbacks >= 1)
    }

    @Test func serverFailureIsInconclusiveNotBroken() async throws {
        let (reports, _) = try await audit(["servfail.test"])
        let findings = try #require(reports.first).findings
        // Every verdict is "could not check"; the one info says DNSSEC was not asked for at all.
        #expect(findings.allSatisfy { $0.severity == .inconclusive || $0.id == "dnssec.not-validated" }, "\(findings.map(\.id))")
        #expect(Set(findings.map(\.id)) == [
            "mx.lookup-failed", "spf.lookup-failed", "dmarc.lookup-failed", "dkim.lookup-failed",
            "mta-sts.record-lookup-failed", "tls-rpt.lookup-failed", "bimi.lookup-failed", "dnssec.not-validated",
        ])
        #expect(findings.first?.evidence.joined().contains("SERVFAIL") == true)
        #expect(reports.first?.resolverAnswered == true, "a SERVFAIL is an answer: the audit was done")
    }

    @Test func sendingAddressesAreCheckedForReverseDNS() async throws {
        let (reports, _) = try await audit(["good.test"], senders: ["127.0.2.1", "127.0.5.1"])
        let findings = try #require(reports.first).findings
        #expect(findings.contains { $0.id == "rdns.fcrdns" && $0.subject.description == "127.0.2.1" })
        let missing = findings.filter { $0.id == "rdns.no-ptr" && $0.subject.description == "127.0.5.1" }
        #expect(missing.map(\.severity) == [.failure], "a sending address with no PTR is a failure")
    }

    @Test func manyDomainsAtOnceNeverRepeatAQuery() async throws {
        let port = try await FixtureNSD.shared.port()
        let proxy = try DNSProxy(upstreamPort: port)
        try await proxy.start()
        let domains = ["good.test", "bench.test", "implicit.test", "ptr-differs.test", "cname-mx.test", "nullmx-mixed.test",
                       "dangling.test", "truncated.test"]
        let (reports, statistics) = try await audit(
            domains, senders: ["127.0.2.1", "127.0.10.1"], nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try proxy.requirePort()))])
        let seen = proxy.statistics
        await proxy.stop()
        #expect(reports.count == domains.count)
        #expect(statistics.repeatedQueries == 0)
        #expect(seen.repeatedQuestions.isEmpty, "asked twice: \(seen.repeatedQuestions)")
        #expect(statistics.cacheHits > 0, "shared addresses and PTR names come from the cache")
    }

    @Test func aDroppedNameTimesOutAndOnlyItIsInconclusive() async throws {
        let port = try await FixtureNSD.shared.port()
        let proxy = try DNSProxy(upstreamPort: port, dropping: [try name("drop.slow.test")])
        try await proxy.start()
        let (reports, statistics) = try await audit(
            ["slow.test"], nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try proxy.requirePort()))],
            timeout: .milliseconds(300), attempts: 2)
        await proxy.stop()
        let findings = try #require(reports.first).findings
        let failed = findings.filter { $0.id == "mx.target-lookup-failed" }
        #expect(failed.map(\.subject.description) == ["drop.slow.test"])
        #expect(failed.map(\.severity) == [.inconclusive])
        #expect(findings.contains { $0.id == "mx.target-resolves" && $0.subject.description == "mx.slow.test" })
        #expect(!findings.contains { $0.id == "mx.target-unresolvable" }, "a timeout is never reported as a missing host")
        #expect(statistics.retries >= 2)
    }

    @Test func aSilentResolverMeansTheAuditCouldNotBeDone() async throws {
        let silent = SilentListener()
        try await silent.start()
        let (reports, _) = try await audit(
            ["good.test"], nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try silent.requirePort()))],
            timeout: .milliseconds(200), attempts: 2)
        await silent.stop()
        let report = try #require(reports.first)
        #expect(Set(report.findings.map(\.id)) == [
            "mx.lookup-failed", "spf.lookup-failed", "dmarc.lookup-failed", "dkim.lookup-failed",
            "mta-sts.record-lookup-failed", "tls-rpt.lookup-failed", "bimi.lookup-failed", "dnssec.not-validated",
        ])
        #expect(report.findings.allSatisfy { $0.severity == .inconclusive || $0.id == "dnssec.not-validated" })
        #expect(!report.resolverAnswered)
    }

    @Test func theDeadlineEndsASlowAudit() async throws {
        let silent = SilentListener()
        try await silent.start()
        let clock = ContinuousClock()
        let start = clock.now
        let (reports, _) = try await audit(
            ["good.test"], nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try silent.requirePort()))],
            timeout: .seconds(20), attempts: 3, deadline: .milliseconds(300))
        let elapsed = clock.now - start
        await silent.stop()
        let report = try #require(reports.first)
        #expect(report.deadlineExceeded)
        #expect(report.findings.contains { $0.id == "audit.deadline-exceeded" && $0.severity == .inconclusive })
        // Bounded by the deadline, not by 20 s × 3 attempts. (A generous bound, not a speed figure.)
        #expect(elapsed < .seconds(10))
    }
}
