import MailAudit
import MailAuditDNS
import MailAuditTesting
import Testing

/// The MX and reverse-DNS verdicts, through the auditor, against the in-memory resolver.
@Suite struct AuditorTests {
    static let reverse = """
        1.2.0.192.in-addr.arpa. PTR mx1.example.test.
        2.2.0.192.in-addr.arpa. PTR mx2.example.test.
        1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. PTR mx1.example.test.
        """

    func audit(_ zone: String, domain: String = "example.test", options: AuditOptions = AuditOptions(),
               overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> (ids: [String: Severity], report: DomainReport, resolver: StaticResolver) {
        let resolver = try StaticResolver(zone: zone + "\n" + Self.reverse, overrides: overrides)
        // The auditor always runs behind the run's cache, which coalesces identical questions.
        let report = await Auditor(resolver: CachingResolver(upstream: resolver), options: options)
            .audit(try DomainName(parsing: domain))
        var ids: [String: Severity] = [:]
        for finding in report.findings { ids[finding.id.rawValue] = max(ids[finding.id.rawValue] ?? .pass, finding.severity) }
        return (ids, report, resolver)
    }

    static let good = """
        example.test. TXT "v=spf1 mx -all"
        _dmarc.example.test. TXT "v=DMARC1; p=reject; rua=mailto:dmarc@example.test"
        example.test. MX 10 mx1.example.test.
        example.test. MX 20 mx2.example.test.
        mx1.example.test. A 192.0.2.1
        mx1.example.test. AAAA 2001:db8::1
        mx2.example.test. A 192.0.2.2
        """

    @Test func goodDomainPassesWithoutRepeatingAQuery() async throws {
        let (ids, report, resolver) = try await audit(Self.good, options: { var o = AuditOptions(); o.allowPrivateAddresses = true; return o }())
        #expect(ids["mx.present"] == .pass)
        #expect(ids["mx.target-resolves"] == .pass)
        #expect(ids["rdns.fcrdns"] == .pass)
        #expect(ids["rdns.ptr-matches-mx"] == .info)
        #expect(ids["mx.ipv6"] == .info)
        #expect(ids["mx.target-private-address"] == .info, "documentation addresses are flagged, as info under the allowance")
        #expect(!report.findings.contains { $0.severity == .failure || $0.severity == .warning })
        #expect(resolver.repeatedQuestions.isEmpty)
        // MX, TXT, A+AAAA for two hosts, PTR for three addresses; the PTR names' forward lookups
        // and the SPF mx term's lookups are the MX hosts' own questions, answered from the cache;
        // the DMARC tree walk (_dmarc.example.test, _dmarc.test); DKIM discovery stops at
        // _domainkey.example.test (NXDOMAIN, RFC 8020) after two confirming selectors; TLSA for
        // each MX host (DANE, shared with TLS-RPT's "is DANE deployed?"); _mta-sts TXT and the
        // policy host's A and AAAA (MTA-STS); _smtp._tls TXT (TLS-RPT); default._bimi TXT (BIMI).
        let expectedQuestions = 2 + 4 + 3 + 2 + 3 + 2 + 3 + 1 + 1
        #expect(resolver.questionsAsked.count == expectedQuestions)
    }

    @Test func mxRecordsAreSortedByPreference() async throws {
        let (_, report, _) = try await audit("""
            example.test. MX 30 c.example.test.
            example.test. MX 10 a.example.test.
            example.test. MX 20 b.example.test.
            a.example.test. A 192.0.2.1
            b.example.test. A 192.0.2.1
            c.example.test. A 192.0.2.1
            """)
        let hosts = report.findings.filter { $0.id == "mx.target-resolves" }.map(\.subject.description)
        #expect(hosts == ["a.example.test", "b.example.test", "c.example.test"])
    }

    @Test func privateAddressesWarnUnlessAllowed() async throws {
        let zone = "example.test. MX 10 mx.example.test.\nmx.example.test. A 10.0.0.5"
        #expect(try await audit(zone).ids["mx.target-private-address"] == .warning)
        var allow = AuditOptions()
        allow.allowPrivateAddresses = true
        #expect(try await audit(zone, options: allow).ids["mx.target-private-address"] == .info)
        let publicZone = "example.test. MX 10 mx.example.test.\nmx.example.test. A 8.8.8.8"
        #expect(try await audit(publicZone).ids["mx.target-private-address"] == nil)
    }

    @Test(arguments: [
        ("example.test. MX 0 .", "mx.null-mx", Severity.pass),
        ("example.test. MX 0 .\nexample.test. MX 10 mx1.example.test.\nmx1.example.test. A 192.0.2.1", "mx.null-mx-with-other-mx", .failure),
        ("example.test. MX 5 .", "mx.null-mx-nonzero-preference", .warning),
        ("example.test. A 192.0.2.9", "mx.implicit-mx", .warning),
        ("example.test. TXT \"hello\"", "mx.no-mail-route", .failure),
        ("other.test. A 192.0.2.9", "mx.domain-nxdomain", .failure),
        ("example.test. MX 10 alias.example.test.\nalias.example.test. CNAME mx1.example.test.\nmx1.example.test. A 192.0.2.1", "mx.target-cname", .failure),
        ("example.test. MX 10 192.0.2.1.", "mx.target-ip-literal", .failure),
        ("example.test. MX 10 gone.example.test.", "mx.target-unresolvable", .failure),
        ("example.test. MX 10 noaddr.example.test.\nnoaddr.example.test. TXT \"x\"", "mx.target-unresolvable", .failure),
        ("example.test. MX 10 l1.example.test.\nl1.example.test. CNAME l2.example.test.\nl2.example.test. CNAME l1.example.test.", "mx.target-cname-loop", .failure),
        ("example.test. MX 10 mx.example.test.\nmx.example.test. A 192.0.2.5", "rdns.no-ptr", .warning),
        ("example.test. MX 10 mx.example.test.\nmx.example.test. A 192.0.2.1\nmx1.example.test. A 192.0.2.1", "rdns.ptr-differs-from-mx", .info),
        ("example.test. MX 10 mx.example.test.\nmx.example.test. A 192.0.2.2\nmx2.example.test. A 192.0.2.99", "rdns.fcrdns-mismatch", .failure),
    ] as [(String, String, Severity)])
    func findings(zone: String, id: String, severity: Severity) async throws {
        let (ids, report, _) = try await audit(zone)
        #expect(ids[id] == severity, "findings: \(report.findings.map { "\($0.id) \($0.severity)" })")
    }

    @Test func lookupFailuresAreInconclusiveNeverBroken() async throws {
        let mxTimeout = [DNSQuestion(try DomainName(parsing: "example.test"), .mx): DNSOutcome.timeout]
        let (ids1, _, _) = try await audit(Self.good, overrides: mxTimeout)
        #expect(ids1.filter { $0.key.hasPrefix("mx.") || $0.key.hasPrefix("rdns.") } == ["mx.lookup-failed": .inconclusive])

        let servfail = DNSOutcome.serverFailure(rcode: ResponseCode.servFail)
        let mx1 = try DomainName(parsing: "mx1.example.test")
        let (ids2, _, _) = try await audit(Self.good, overrides: [DNSQuestion(mx1, .a): servfail, DNSQuestion(mx1, .aaaa): servfail])
        #expect(ids2["mx.target-lookup-failed"] == .inconclusive)
        #expect(ids2["mx.target-unresolvable"] == nil)

        let ptr = try #require(IPAddress("192.0.2.1")).reverseName
        let (ids3, _, _) = try await audit(Self.good, overrides: [DNSQuestion(ptr, .ptr): .timeout])
        #expect(ids3["rdns.lookup-failed"] == .inconclusive)
        #expect(ids3["rdns.no-ptr"] == nil)

        var sender = AuditOptions()
        sender.sendingAddresses = [try #require(IPAddress("192.0.2.1"))]
        let (ids4, _, _) = try await audit(Self.good, options: sender, overrides: [DNSQuestion(mx1, .a): .timeout])
        #expect(ids4["rdns.lookup-failed"] == .inconclusive, "the PTR of 192.0.2.1 cannot be confirmed when mx1's A times out")
    }

    @Test func sendingAddressesAreCheckedAndAMissingPTRIsAFailure() async throws {
        var options = AuditOptions()
        options.sendingAddresses = [try #require(IPAddress("192.0.2.1")), try #require(IPAddress("192.0.2.200"))]
        let (_, report, resolver) = try await audit(Self.good, options: options)
        let bySubject = Dictionary(grouping: report.findings.filter { $0.id.area == "rdns" }, by: \.subject.description)
        #expect(bySubject["192.0.2.200"]?.map(\.id) == ["rdns.no-ptr"])
        #expect(bySubject["192.0.2.200"]?.first?.severity == .failure)
        #expect(bySubject["192.0.2.1"]?.contains { $0.id == "rdns.fcrdns" } == true)
        #expect(resolver.repeatedQuestions.isEmpty, "192.0.2.1 is both a sender and an MX address")
    }

    /// A domain that does not exist stops after the first answers prove it: no DKIM selectors,
    /// no DMARC walk, and a finding that says what was skipped and why.
    @Test func aDomainThatDoesNotExistStopsEarly() async throws {
        let (ids, report, resolver) = try await audit("other.test. A 192.0.2.9", domain: "missing.test")
        #expect(ids["mx.domain-nxdomain"] == .failure)
        #expect(ids["audit.checks-skipped"] == .info)
        #expect(!report.findings.contains { $0.id.area == "dkim" || $0.id.area == "dmarc" })
        #expect(!resolver.questionsAsked.contains { $0.name.description.contains("_domainkey") || $0.name.description.contains("_dmarc") },
                "\(resolver.questionsAsked)")
        #expect(resolver.questionsAsked.count <= 3, "MX, A/AAAA or TXT at the domain: \(resolver.questionsAsked)")
    }

    @Test func everyFindingHasTheFieldsAReaderNeeds() async throws {
        let (_, report, _) = try await audit("""
            example.test. MX 0 .
            example.test. MX 10 alias.example.test.
            alias.example.test. CNAME mx1.example.test.
            mx1.example.test. A 10.1.1.1
            """)
        for finding in report.findings {
            #expect(!finding.message.isEmpty && !finding.subject.description.isEmpty)
            #expect(finding.reference != nil, "\(finding.id) has no reference")
            if finding.severity >= .warning { #expect(finding.remedy != nil, "\(finding.id) has no remedy") }
            if finding.severity != .info { #expect(!finding.evidence.isEmpty, "\(finding.id) has no evidence") }
        }
    }
}

@Suite struct ExitCodeTests {
    func report(_ severities: [Severity], answered: Bool = true) throws -> AuditReport {
        let domain = DomainReport(
            domain: try DomainName(parsing: "example.test"),
            findings: severities.map { Finding("mx.present", $0, subject: FindingSubject(domain: "s"), message: "m") },
            resolverAnswered: answered)
        return AuditReport(toolVersion: "t", startedAt: .init(timeIntervalSince1970: 0), duration: .zero,
                           resolvers: [], domains: [domain], dns: ResolverStatistics())
    }

    @Test(arguments: [
        ([Severity.pass, .info], Severity.failure, Int32(0)),
        ([.pass, .warning], .failure, 0),
        ([.pass, .warning], .warning, 1),
        ([.failure], .failure, 1),
        ([.inconclusive], .failure, 0),
        ([.inconclusive], .warning, 0),
        ([.inconclusive], .inconclusive, 1),
    ] as [([Severity], Severity, Int32)])
    func exitCodes(severities: [Severity], failOn: Severity, expected: Int32) throws {
        #expect(try report(severities).exitCode(failOn: failOn) == expected)
    }

    @Test func noResolverAnsweredIsExitCode3() throws {
        #expect(try report([.inconclusive], answered: false).exitCode(failOn: .failure) == 3)
    }
}

/// SPF findings that the NSD fixtures do not cover, on the in-memory resolver.
@Suite struct SPFAuditRulesTests {
    func spf(_ zone: String, senders: [String] = [], overrides: [DNSQuestion: DNSOutcome] = [:]) async throws -> [String: Severity] {
        let resolver = try StaticResolver(zone: zone, overrides: overrides)
        var options = AuditOptions()
        options.sendingAddresses = senders.compactMap(IPAddress.init)
        let report = await Auditor(resolver: CachingResolver(upstream: resolver), options: options)
            .audit(try DomainName(parsing: "example.test"))
        return Dictionary(report.findings.filter { $0.id.area == "spf" }.map { ($0.id.rawValue, $0.severity) }, uniquingKeysWith: max)
    }

    @Test(arguments: [
        ("example.test. TXT \"v=spf1 1up=foo -all\"", "spf.syntax-error", Severity.failure),
        ("example.test. TXT \"v=spf1 a:nx.example.test -all\"", "spf.void-lookups", .info),
        ("example.test. TXT \"v=spf1 include:other.test -all\"\nother.test. TXT \"v=spf1 foo -all\"", "spf.target-invalid", .failure),
        ("example.test. TXT \"v=spf1 include:%{d}.spf.example.test -all\"", "spf.target-not-followed", .info),
        ("example.test. TXT \"v=spf1 include:a.test -all\"\na.test. CNAME b.test.\nb.test. CNAME a.test.", "spf.cname-loop", .failure),
        ("example.test. TXT \"v=spf1 include:a.test -all\"\na.test. TXT \"v=spf1 ip4:192.0.2.1 -all\"\na.test. TXT \"v=spf1 -all\"", "spf.target-invalid", .failure),
    ] as [(String, String, Severity)])
    func findings(zone: String, id: String, severity: Severity) async throws {
        let found = try await spf(zone)
        #expect(found[id] == severity, "\(found)")
    }

    @Test func aSenderWhoseCheckHitsATimeoutIsInconclusive() async throws {
        let zone = "example.test. TXT \"v=spf1 include:slow.test -all\"\nslow.test. TXT \"v=spf1 ip4:192.0.2.1 -all\""
        let found = try await spf(zone, senders: ["192.0.2.1"], overrides: [DNSQuestion(try DomainName(parsing: "slow.test"), .txt): .timeout])
        #expect(found["spf.sender-temperror"] == .inconclusive)
        #expect(found["spf.target-lookup-failed"] == .inconclusive)
        #expect(found["spf.include-missing"] == nil)
    }

    @Test func aCNAMELoopAtTheDomainIsAFailure() async throws {
        let resolver = try StaticResolver(zone: "example.test. CNAME loop.test.\nloop.test. CNAME example.test.")
        let report = await Auditor(resolver: CachingResolver(upstream: resolver)).audit(try DomainName(parsing: "example.test"))
        #expect(report.findings.filter { $0.id.area == "mx" }.map(\.id.rawValue) == ["mx.lookup-cname-loop"])
    }
}

/// Guards against hostile answers that would fan out into thousands of lookups.
@Suite struct FanOutTests {
    @Test func onlyTheMostPreferredMXHostsAreFollowed() async throws {
        var zone = ""
        for index in 1...35 { zone += "example.test. MX \(index) mx\(index).example.test.\nmx\(index).example.test. A 192.0.2.\(index)\n" }
        let resolver = try StaticResolver(zone: zone)
        let report = await Auditor(resolver: CachingResolver(upstream: resolver)).audit(try DomainName(parsing: "example.test"))
        let skipped = try #require(report.findings.first { $0.id == "mx.hosts-not-checked" })
        #expect(skipped.evidence == (31...35).map { "mx\($0).example.test" })
        #expect(report.findings.filter { $0.id == "mx.target-resolves" }.count == 30)
        #expect(!resolver.questionsAsked.contains { $0.name.description == "mx31.example.test" })
    }

    @Test func onlyTenReportDestinationsAreChecked() async throws {
        let rua = (1...12).map { "mailto:d@r\($0).other.test" }.joined(separator: ",")
        let resolver = try StaticResolver(zone: "_dmarc.example.test. TXT \"v=DMARC1; p=reject; rua=\(rua)\"")
        let report = await Auditor(resolver: CachingResolver(upstream: resolver)).audit(try DomainName(parsing: "example.test"))
        let unchecked = try #require(report.findings.first { $0.id == "dmarc.report-destinations-not-checked" })
        #expect(unchecked.evidence == ["r11.other.test", "r12.other.test"])
        #expect(!resolver.questionsAsked.contains { $0.name.description.contains("r11.other.test") })
    }
}
