import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditTesting
import Testing

/// TLS-RPT and DNS blocklists through the auditor and the binary, against a real NSD on
/// 127.0.0.1 serving one zone, `test`. The MX addresses are documentation addresses: the
/// blocklist check only asks DNS about them and never connects (the probe is off).
@Suite(.serialized, .tags(.nsd))
struct TLSRPTDNSBLIntegrationTests {
    static let tlsaData = "3 1 1 " + String(repeating: "ab", count: 32)

    static let zone = """
        $ORIGIN test.
        $TTL 300
        @ SOA ns.test. hostmaster.test. 1 3600 900 604800 300
        @ NS ns.test.
        ns A 127.0.0.1
        ; TLS-RPT: a good record, three bad ones, and none beside MTA-STS, DANE, or neither.
        good-rpt MX 10 mx.good-rpt.test.
        mx.good-rpt A 192.0.2.10
        _smtp._tls.good-rpt TXT "v=TLSRPTv1; rua=mailto:tls@good-rpt.test,https://reports.good-rpt.test/tlsrpt"
        http-rpt MX 10 mx.good-rpt.test.
        _smtp._tls.http-rpt TXT "v=TLSRPTv1; rua=http://reports.http-rpt.test/tlsrpt"
        nov-rpt MX 10 mx.good-rpt.test.
        _smtp._tls.nov-rpt TXT "rua=mailto:tls@nov-rpt.test; v=TLSRPTv1"
        two-rpt MX 10 mx.good-rpt.test.
        _smtp._tls.two-rpt TXT "v=TLSRPTv1; rua=mailto:a@two-rpt.test"
        _smtp._tls.two-rpt TXT "v=TLSRPTv1; rua=mailto:b@two-rpt.test"
        sts-only MX 10 mx.good-rpt.test.
        _mta-sts.sts-only TXT "v=STSv1; id=20260101"
        dane-only MX 10 mx.dane-only.test.
        mx.dane-only A 192.0.2.11
        _25._tcp.mx.dane-only TLSA \(tlsaData)
        plain MX 10 mx.good-rpt.test.
        ; DNSBL: a domain with a listed IPv4 and a listed IPv6 MX address, and one listed nowhere.
        listed MX 10 mx1.listed.test.
        listed MX 20 mx2.listed.test.
        mx1.listed A 192.0.2.25
        mx1.listed AAAA 2001:db8::25
        mx2.listed A 192.0.2.26
        ; bl.test: a working list (RFC 5782 §5 test entries) listing mx1's two addresses.
        2.0.0.127.bl A 127.0.0.2
        2.0.0.127.bl TXT "test entry"
        25.2.0.192.bl A 127.0.0.3
        25.2.0.192.bl TXT "Listed for testing: https://bl.test/lookup?ip=192.0.2.25"
        5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl A 127.0.0.2
        5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl TXT "IPv6 listing"
        ; bl-clean.test works and lists nothing else; bl-broken.test lacks 127.0.0.2;
        ; bl-all.test lists everything, 127.0.0.1 included.
        2.0.0.127.bl-clean A 127.0.0.2
        1.0.0.127.bl-broken A 127.0.0.9
        *.bl-all A 127.0.0.2

        """

    actor Shared {
        static let shared = Shared()
        private var starting: Task<NSDServer, any Error>?

        func server() async throws -> NSDServer {
            let task = starting ?? Task {
                let server = NSDServer(zones: [.text("test", TLSRPTDNSBLIntegrationTests.zone)])
                try await server.start()
                return server
            }
            starting = task
            return try await task.value
        }
    }

    func nameserver() async throws -> Nameserver {
        Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try await Shared.shared.server().requirePort()))
    }

    func audit(_ domains: [String], checks: Set<AuditCheck>, dnsbl: [String] = [], senders: [String] = []) async throws -> ([DomainReport], ResolverStatistics) {
        let resolver = DNSClient.make(nameservers: [try await nameserver()], timeout: .seconds(2), attempts: 2)
        var options = AuditOptions()
        options.checks = checks
        options.dnsblZones = try dnsbl.map { try DomainName(parsing: $0) }
        options.sendingAddresses = senders.compactMap(IPAddress.init)
        let reports = await Auditor(resolver: resolver, options: options).audit(try domains.map { try DomainName(parsing: $0) })
        return (reports, await resolver.statistics())
    }

    func findings(_ reports: [DomainReport], area: String) -> [String: [Finding]] {
        Dictionary(uniqueKeysWithValues: reports.map { ($0.domain.description, $0.findings.filter { $0.id.area == area }) })
    }

    // MARK: TLS-RPT

    static let tlsRPT: [(String, String, Severity)] = [
        ("good-rpt.test", "tls-rpt.record", .pass),
        ("http-rpt.test", "tls-rpt.http-uri", .failure),
        ("nov-rpt.test", "tls-rpt.syntax-error", .failure),
        ("two-rpt.test", "tls-rpt.multiple-records", .failure),
        ("sts-only.test", "tls-rpt.none", .warning),
        ("dane-only.test", "tls-rpt.none", .warning),
        ("plain.test", "tls-rpt.none", .info),
    ]

    @Test func everyTLSRPTCaseGetsItsVerdict() async throws {
        let (reports, statistics) = try await audit(Self.tlsRPT.map(\.0), checks: [.tlsRPT])
        let byDomain = findings(reports, area: "tls-rpt")
        for (domain, id, severity) in Self.tlsRPT {
            let found = byDomain[domain] ?? []
            #expect(found.map(\.id.rawValue) == [id], "\(domain)")
            #expect(found.first?.severity == severity, "\(domain)")
            if severity != .pass {
                #expect(found.first?.remedy?.contains("_smtp._tls.\(domain). IN TXT \"v=TLSRPTv1; rua=") == true, "\(domain)")
            }
        }
        #expect(byDomain["good-rpt.test"]?.first?.facts["rua"] == .list(["mailto:tls@good-rpt.test", "https://reports.good-rpt.test/tlsrpt"]))
        #expect(byDomain["sts-only.test"]?.first?.facts["mtaSTS"] == .text("deployed"))
        #expect(byDomain["dane-only.test"]?.first?.facts["dane"] == .text("deployed"))
        #expect(byDomain["plain.test"]?.first?.facts == ["mtaSTS": .text("absent"), "dane": .text("absent")])
        // mx.good-rpt.test serves several domains: its TLSA question goes out once.
        #expect(statistics.repeatedQueries == 0)
    }

    // MARK: DNSBL

    @Test func blocklistsReportListingsAndRefuseBrokenLists() async throws {
        let lists = ["bl.test", "bl-clean.test", "bl-broken.test", "bl-all.test"]
        let (reports, _) = try await audit(["listed.test"], checks: [.dnsbl], dnsbl: lists, senders: ["198.51.100.7"])
        let found = findings(reports, area: "dnsbl")["listed.test"] ?? []
        #expect(found.map { "\($0.id) \($0.severity) \($0.subject)" } == [
            "dnsbl.list-not-working inconclusive bl-broken.test",
            "dnsbl.list-not-working inconclusive bl-all.test",
            "dnsbl.listed failure mx1.listed.test [192.0.2.25]",
            "dnsbl.listed failure mx1.listed.test [2001:db8::25]",
            "dnsbl.not-listed pass mx2.listed.test [192.0.2.26]",
            "dnsbl.not-listed pass 198.51.100.7",
        ])
        let broken = try #require(found.first)
        #expect(broken.message.contains("127.0.0.2, which every list must list, is not listed"))
        #expect(broken.facts["addresses"] == .list(["192.0.2.25", "2001:db8::25", "192.0.2.26", "198.51.100.7"]))
        #expect(found[1].message.contains("127.0.0.1 is listed"))
        let listed = found[2]
        #expect(listed.facts["list"] == .text("bl.test"))
        #expect(listed.facts["codes"] == .list(["127.0.0.3"]))
        #expect(listed.facts["reason"] == .text("Listed for testing: https://bl.test/lookup?ip=192.0.2.25"))
        #expect(found[3].facts["reason"] == .text("IPv6 listing"), "the IPv6 address is asked by its reversed nibbles")
        #expect(found[4].facts["lists"] == .list(["bl.test", "bl-clean.test"]), "only the working lists vouch for an address")
    }

    @Test func eachBlocklistQuestionGoesOutOncePerRun() async throws {
        // Two domains share an MX address and the sending address; the lists are tested once.
        let (reports, statistics) = try await audit(
            ["good-rpt.test", "http-rpt.test"], checks: [.dnsbl], dnsbl: ["bl.test", "bl-clean.test"], senders: ["198.51.100.7"])
        for report in reports {
            #expect(report.findings.filter { $0.id == "dnsbl.not-listed" }.count == 2, "\(report.domain)")
        }
        #expect(statistics.repeatedQueries == 0)
        // Two MX lookups, one A and one AAAA for the shared host, two test entries a list,
        // two addresses on each list.
        #expect(statistics.uniqueQuestions == 2 + 2 + 4 + 4)
    }

    @Test func withoutListsTheCheckAsksNothing() async throws {
        let (reports, statistics) = try await audit(["listed.test"], checks: [.dnsbl])
        #expect(!reports[0].findings.contains { $0.id.area == "dnsbl" })
        // Only the routing every audit shares: MX, then A and AAAA of two hosts.
        #expect(statistics.uniqueQuestions == 1 + 4)
    }

    @Test func theBinaryTakesRepeatableDNSBLOptions() async throws {
        let port = try await Shared.shared.server().requirePort()
        let result = try await runProcess(try builtProductPath("mailaudit"), [
            "--no-probe", "--resolver", "127.0.0.1:\(port)", "--format", "json", "--checks", "mx,dnsbl,tls-rpt",
            "--dnsbl", "bl.test", "--dnsbl", "bl-all.test", "listed.test",
        ], timeout: .seconds(60))
        #expect(result.exitCode == 1, "a listing is a failure: \(result)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let ids = ((document["domains"] as? [[String: Any]])?.first?["findings"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids.filter { $0 == "dnsbl.listed" }.count == 2)
        #expect(ids.contains("dnsbl.list-not-working"))
        #expect(ids.contains("tls-rpt.none"))

        let bad = try await runProcess(try builtProductPath("mailaudit"), ["--dnsbl", "127.0.0.2", "listed.test"], timeout: .seconds(60))
        #expect(bad.exitCode != 0 && bad.exitCode != 1, "a bad --dnsbl is a usage error: \(bad)")
        #expect(bad.stderr.contains("--dnsbl \"127.0.0.2\""))
    }
}
