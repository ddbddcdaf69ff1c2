import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditSMTP
import MailAuditTesting
import Testing

extension Tag {
    /// Audits that fetch MTA-STS policies from a real nginx on loopback.
    @Tag static var nginx: Self
}

/// MTA-STS against real servers: NSD serves `sts.test`, where each `NAME.sts.test` is one
/// situation with its `_mta-sts` record and MX hosts, and nginx serves each `mta-sts.NAME.sts.test`
/// on its own loopback address with a certificate from the test CA.
@Suite(.serialized, .tags(.nsd, .nginx))
struct MTASTSAuditTests {
    static func policy(_ mode: String = "enforce", mx: [String], maxAge: Int = 1_209_600) -> String {
        "version: STSv1\r\nmode: \(mode)\r\n" + mx.map { "mx: \($0)\r\n" }.joined() + "max_age: \(maxAge)\r\n"
    }

    static let path = "/.well-known/mta-sts.txt"

    /// One domain of the lab: its policy host's site (nil for none), its TXT record (nil for none)
    /// and its MX hosts with their addresses.
    struct Situation: Sendable {
        var name: String
        var site: (address: String, kind: TestCA.Kind, directives: String, files: [String: String])?
        var record: String? = "v=STSv1; id=20300101"
        var mx: [(host: String, address: String)]
    }

    static func site(_ octet: Int, _ directives: String, files: [String: String] = [:], kind: TestCA.Kind = .valid)
        -> (address: String, kind: TestCA.Kind, directives: String, files: [String: String])
    {
        ("127.0.3.\(octet)", kind, directives, files)
    }

    static func mx(_ name: String, _ octet: Int) -> [(host: String, address: String)] { [("mx.\(name).sts.test", "127.0.4.\(octet)")] }

    /// A body over the 64 KiB a sender reads, made of extension lines.
    static let huge = policy(mx: ["mx.huge.sts.test"]) + (0..<1_200).map { "x-padding\($0): \(String(repeating: "p", count: 50))\r\n" }.joined()

    static let situations: [Situation] = [
        Situation(name: "good", site: site(1, "", files: [".well-known/mta-sts.txt": policy(mx: ["mx.good.sts.test"])]), mx: mx("good", 1)),
        Situation(name: "testing", site: site(2, NginxServer.respond(200, body: policy("testing", mx: ["mx.testing.sts.test"]))),
                  mx: mx("testing", 2)),
        Situation(name: "uncovered", site: site(3, NginxServer.respond(200, body: policy(mx: ["mx.elsewhere.test"]))), mx: mx("uncovered", 3)),
        Situation(name: "notfound", site: site(4, ""), mx: mx("notfound", 4)),
        Situation(name: "nohost", site: nil, mx: mx("nohost", 5)),
        Situation(name: "badid", site: site(6, NginxServer.respond(200, body: policy(mx: ["mx.badid.sts.test"]))),
                  record: "v=STSv1; id=2030-01-01", mx: mx("badid", 6)),
        Situation(name: "redirect", site: site(7, "location = \(path) { return 301 https://www.redirect.sts.test/policy.txt; }\n"),
                  mx: mx("redirect", 7)),
        Situation(name: "html", site: site(8, NginxServer.respond(200, body: policy(mx: ["mx.html.sts.test"]), contentType: "text/html")),
                  mx: mx("html", 8)),
        Situation(name: "shortage", site: site(9, NginxServer.respond(200, body: policy(mx: ["mx.shortage.sts.test"], maxAge: 86_400))),
                  mx: mx("shortage", 9)),
        Situation(name: "wrongname", site: site(10, NginxServer.respond(200, body: policy(mx: ["mx.wrongname.sts.test"])), kind: .wrongName),
                  mx: mx("wrongname", 10)),
        // Served through sub_filter, which drops the length: the body comes chunked.
        Situation(name: "wildcard", site: site(11, "location = \(path) { sub_filter '@@MODE@@' 'enforce'; sub_filter_types text/plain; }\n",
                                               files: [".well-known/mta-sts.txt": policy("@@MODE@@", mx: ["*.wildcard.sts.test"])]),
                  mx: [("mx1.wildcard.sts.test", "127.0.4.11"), ("mx2.wildcard.sts.test", "127.0.4.12")]),
        Situation(name: "deep", site: site(13, NginxServer.respond(200, body: policy(mx: ["*.deep.sts.test"]))),
                  mx: [("a.b.deep.sts.test", "127.0.4.13")]),
        Situation(name: "none", site: site(14, NginxServer.respond(200, body: "version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n")),
                  mx: mx("none", 14)),
        Situation(name: "badmode", site: site(15, NginxServer.respond(200, body: policy("strict", mx: ["mx.badmode.sts.test"]))),
                  mx: mx("badmode", 15)),
        Situation(name: "huge", site: site(16, "", files: [".well-known/mta-sts.txt": huge]), mx: mx("huge", 16)),
        Situation(name: "absent", site: nil, record: nil, mx: mx("absent", 17)),
        // A server that sends a byte a second: the fetch runs out of time.
        Situation(name: "slow", site: site(18, NginxServer.respond(200, body: policy(mx: ["mx.slow.sts.test"]), extra: "limit_rate 1;")),
                  mx: mx("slow", 18)),
        // MX hosts of the probe test: a Postfix without STARTTLS.
        Situation(name: "notls", site: site(20, NginxServer.respond(200, body: policy(mx: ["mx.notls.sts.test"]))), mx: mx("notls", 20)),
        Situation(name: "testingnotls", site: site(21, NginxServer.respond(200, body: policy("testing", mx: ["mx.notls.sts.test"]))),
                  mx: [("mx.notls.sts.test", "127.0.4.20")]),
    ]

    struct Lab: Sendable {
        let ca: TestCA
        let nginx: NginxServer
        let nsd: NSDServer

        func stop() async {
            nginx.stop()
            nsd.stop()
            ca.remove()
        }
    }

    static func startLab() async throws -> Lab {
        let ca = try await TestCA.create()
        var sites: [NginxServer.Site] = []
        for situation in situations {
            guard let site = situation.site else { continue }
            let host = "mta-sts.\(situation.name).sts.test"
            let certificate = try await ca.issue(site.kind, for: host)
            sites.append(.init(serverName: host, address: site.address, chainFile: certificate.chainFile, directives: site.directives, files: site.files))
        }
        let nginx = NginxServer(sites: sites)
        try await nginx.start()

        var zone = "$ORIGIN sts.test.\n$TTL 300\n@ IN SOA ns.sts.test. hostmaster.sts.test. 1 3600 600 86400 300\n@ IN NS ns.sts.test.\nns IN A 127.0.0.1\n"
        for situation in situations {
            let name = situation.name
            if let record = situation.record { zone += "_mta-sts.\(name) IN TXT \"\(record)\"\n" }
            if let site = situation.site { zone += "mta-sts.\(name) IN A \(site.address)\n" }
            for (index, (host, address)) in situation.mx.enumerated() {
                zone += "\(name) IN MX \(10 * (index + 1)) \(host).\n"
                if host.hasSuffix(".\(name).sts.test") { zone += "\(host). IN A \(address)\n" }
            }
        }
        let nsd = NSDServer(zones: [.text("sts.test", zone)])
        try await nsd.start()
        return Lab(ca: ca, nginx: nginx, nsd: nsd)
    }

    static func options(_ lab: Lab, checks: Set<AuditCheck>, smtpPort: UInt16 = 25) throws -> AuditOptions {
        var probe = ProbeOptions(ehloName: "probe.mailaudit.test")
        probe.port = smtpPort
        probe.caFile = lab.ca.rootFile.path
        probe.verificationTime = TestCA.referenceTime
        probe.timeouts = SMTPTimeouts(connect: .seconds(1), greeting: .seconds(2), command: .seconds(3), tlsHandshake: .seconds(3), total: .seconds(10))
        var options = AuditOptions()
        options.allowPrivateAddresses = true
        options.probe = probe
        options.checks = checks
        options.mtaSTS.httpsPort = try lab.nginx.requirePort()
        options.mtaSTS.fetchTimeout = .seconds(2)
        return options
    }

    static func audit(_ lab: Lab, _ names: [String], options: AuditOptions) async throws -> [String: [Finding]] {
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try lab.nsd.requirePort()))])
        let reports = await Auditor(resolver: resolver, options: options).audit(try names.map { try DomainName(parsing: "\($0).sts.test") })
        return Dictionary(uniqueKeysWithValues: reports.map { ($0.domain.labels[0], $0.findings.filter { $0.id.area == "mta-sts" }) })
    }

    static let expectations: [(domain: String, id: String, severity: Severity)] = [
        ("good", "mta-sts.record", .pass), ("good", "mta-sts.policy", .pass), ("good", "mta-sts.mx-not-checked", .info),
        ("testing", "mta-sts.mode-testing", .warning),
        ("uncovered", "mta-sts.mx-not-covered", .failure),
        ("notfound", "mta-sts.policy-http-status", .failure),
        ("nohost", "mta-sts.policy-host-missing", .failure),
        ("badid", "mta-sts.record-syntax", .failure), ("badid", "mta-sts.policy", .pass),
        ("redirect", "mta-sts.redirect", .failure),
        ("html", "mta-sts.content-type", .failure),
        ("shortage", "mta-sts.max-age-short", .warning),
        ("wrongname", "mta-sts.policy-certificate", .failure),
        ("wildcard", "mta-sts.policy", .pass),
        ("deep", "mta-sts.mx-not-covered", .failure),
        ("none", "mta-sts.mode-none", .warning),
        ("badmode", "mta-sts.policy-syntax", .failure),
        ("huge", "mta-sts.policy-response", .failure),
        ("absent", "mta-sts.absent", .info),
        ("slow", "mta-sts.policy-fetch-failed", .inconclusive),
    ]

    @Test func everySituationGivesItsFinding() async throws {
        let lab = try await Self.startLab()
        let names = Set(Self.expectations.map(\.domain)).sorted()
        let found = try await Self.audit(lab, names, options: try Self.options(lab, checks: [.mx, .mtaSTS]))
        // Under --no-probe the policy is still fetched, and still trusted through --ca-file.
        var dnsOnly = try Self.options(lab, checks: [.mx, .mtaSTS])
        dnsOnly.probe = nil
        dnsOnly.now = TestCA.referenceTime
        dnsOnly.mtaSTS.caFile = lab.ca.rootFile.path
        let withoutProbe = try await Self.audit(lab, ["good"], options: dnsOnly)
        await lab.stop()
        #expect(withoutProbe["good"]?.contains { $0.id == "mta-sts.policy" && $0.severity == .pass } == true,
                "\(withoutProbe["good"]?.map { "\($0.id) \($0.severity) \($0.message)" } ?? [])")
        for (domain, id, severity) in Self.expectations {
            let findings = found[domain] ?? []
            #expect(findings.contains { $0.id.rawValue == id && $0.severity == severity },
                    "\(domain): expected \(id) \(severity); got \(findings.map { "\($0.id) \($0.severity)" })")
        }
        // The good deployments have nothing wrong; their evidence shows what was fetched.
        for domain in ["good", "wildcard"] {
            let findings = found[domain] ?? []
            #expect(!findings.contains { $0.severity > .info }, "\(domain): \(findings.map(\.id))")
        }
        let wildcard = found["wildcard"]?.first { $0.id == "mta-sts.policy" }
        #expect(wildcard?.message.contains("covers every MX host (2)") == true, "\(wildcard?.message ?? "")")
        #expect(wildcard?.evidence.contains("  Transfer-Encoding: chunked") == true, "\(wildcard?.evidence ?? [])")
        #expect(found["good"]?.first { $0.id == "mta-sts.policy" }?.evidence.contains("  | mode: enforce") == true)
        // The redirect is reported, not followed; the uncovered hosts are named.
        #expect(found["redirect"]?.first { $0.id == "mta-sts.redirect" }?.evidence.contains("  Location: https://www.redirect.sts.test/policy.txt") == true)
        #expect(found["deep"]?.first { $0.id == "mta-sts.mx-not-covered" }?.subject.host == "a.b.deep.sts.test")
        // A slow server or a missing policy is never called broken.
        #expect(!(found["slow"] ?? []).contains { $0.severity == .failure || $0.severity == .warning })
        #expect((found["absent"] ?? []).map(\.id) == ["mta-sts.absent"])
    }

    @Test func enforceModeNeedsValidTLSOnEveryMXHost() async throws {
        let lab = try await Self.startLab()
        let certificate = try await lab.ca.issue(.valid, for: "mx.good.sts.test")
        let postfix = PostfixServer(listeners: [
            .starttls("good", address: "127.0.4.1", hostName: "mx.good.sts.test", chainFile: certificate.chainFile),
            .plain("notls", address: "127.0.4.20", hostName: "mx.notls.sts.test"),
        ])
        try await postfix.start()
        let options = try Self.options(lab, checks: [.mx, .probe, .mtaSTS], smtpPort: try postfix.requirePort())
        let found = try await Self.audit(lab, ["good", "notls", "testingnotls"], options: options)
        postfix.stop()
        await lab.stop()
        let good = found["good"] ?? []
        #expect(good.map(\.id) == ["mta-sts.record", "mta-sts.policy"], "a probed MX host with a valid certificate: \(good.map(\.id))")
        #expect(found["notls"]?.contains { $0.id == "mta-sts.mx-certificate" && $0.severity == .failure } == true, "\(found["notls"] ?? [])")
        #expect(found["testingnotls"]?.contains { $0.id == "mta-sts.mx-certificate" && $0.severity == .warning } == true,
                "\(found["testingnotls"] ?? [])")
    }

    @Test func theBinaryFetchesFromTheHTTPSPortItIsGiven() async throws {
        let lab = try await Self.startLab()
        let binary = try builtProductPath("mailaudit")
        let common = ["--resolver", "127.0.0.1:\(try lab.nsd.requirePort())", "--ca-file", lab.ca.rootFile.path,
                      "--verification-time", "2030-01-01T00:00:00Z", "--allow-private-addresses", "--checks", "mx,mta-sts", "--format", "json"]
        let audit = try await runProcess(binary, common + ["--https-port", "\(try lab.nginx.requirePort())", "good.sts.test", "redirect.sts.test"])
        let badPort = try await runProcess(binary, common + ["--https-port", "0", "good.sts.test"])
        await lab.stop()
        #expect(audit.exitCode == 1, "a failure was found: \(audit)")
        #expect(audit.stdout.contains("\"mta-sts.policy\"") && audit.stdout.contains("\"mta-sts.redirect\""), "\(audit)")
        #expect(badPort.exitCode == 2 && badPort.stderr.contains("--https-port"), "\(badPort)")
    }
}
