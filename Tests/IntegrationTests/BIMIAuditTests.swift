import Foundation
import MailAudit
import MailAuditDNS
import MailAuditSMTP
import MailAuditTesting
import Testing

/// BIMI against real servers: NSD serves `bimi.test`, where each `NAME.bimi.test` is one
/// situation with its `_dmarc` and `default._bimi` records, and nginx serves each
/// `logo.NAME.bimi.test` on its own loopback address with a certificate from the test CA. The
/// record's URIs carry nginx's port, as any BIMI URI may.
@Suite(.serialized, .tags(.nsd, .nginx))
struct BIMIAuditTests {
    static let tinyPS = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps" viewBox="0 0 64 64">
          <title>Good Brand</title>
          <rect width="64" height="64" fill="#1a73e8"/>
          <circle cx="32" cy="32" r="20" fill="#ffffff"/>
        </svg>

        """
    static let plainSVG = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><script>alert(1)</script><rect width="64" height="64"/></svg>"#
    /// A logo over the 32 KiB a receiver reads.
    static let huge = "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.2\" baseProfile=\"tiny-ps\"><title>Big</title>"
        + String(repeating: "<rect width=\"1\" height=\"1\" fill=\"#000000\"/>\n", count: 900) + "</svg>"

    /// One domain of the lab: its DMARC record, its BIMI record (`PORT` stands for nginx's port),
    /// and what its logo host serves (nil for no logo host).
    struct Situation: Sendable {
        var name: String
        var dmarc: String? = "v=DMARC1; p=reject"
        var bimi: String? = "v=BIMI1; l=https://logo.NAME.bimi.test:PORT/logo.svg; a=https://logo.NAME.bimi.test:PORT/vmc.pem"
        var logo: String? = NginxServer.respond(200, body: tinyPS, contentType: "image/svg+xml", path: "/logo.svg")
        var kind: TestCA.Kind = .valid
        var files: [String: String] = [:]
        /// The logo host has an address nothing listens on.
        var unserved = false
    }

    static let situations: [Situation] = [
        Situation(name: "good"),
        Situation(name: "pnone", dmarc: "v=DMARC1; p=none"),
        Situation(name: "notfound", logo: ""),
        Situation(name: "redirect", logo: "location = /logo.svg { return 301 https://cdn.redirect.bimi.test/logo.svg; }\n"),
        Situation(name: "wrongtype", logo: NginxServer.respond(200, body: tinyPS, contentType: "text/plain", path: "/logo.svg")),
        Situation(name: "notsvg", logo: NginxServer.respond(200, body: "<!DOCTYPE html><html><body><img src=logo.png></body></html>",
                                                            contentType: "image/svg+xml", path: "/logo.svg")),
        Situation(name: "plain", logo: NginxServer.respond(200, body: plainSVG, contentType: "image/svg+xml", path: "/logo.svg")),
        Situation(name: "wrongname", kind: .wrongName),
        Situation(name: "huge", logo: "location = /logo.svg { types { } default_type image/svg+xml; }\n", files: ["logo.svg": huge]),
        Situation(name: "http", bimi: "v=BIMI1; l=http://logo.NAME.bimi.test:PORT/logo.svg"),
        Situation(name: "syntax", bimi: "v=BIMI1; a=https://logo.NAME.bimi.test:PORT/vmc.pem"),
        Situation(name: "none", bimi: nil, logo: nil),
        Situation(name: "declined", bimi: "v=BIMI1; l=; a=;", logo: nil),
        Situation(name: "closed", logo: nil, unserved: true),
        Situation(name: "nopem", logo: NginxServer.respond(200, body: tinyPS, contentType: "image/svg+xml", path: "/logo.svg")
                  + NginxServer.respond(200, body: "<html>VMC coming soon</html>", contentType: "text/html", path: "/vmc.pem")),
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

    static func address(_ index: Int) -> String { "127.0.5.\(index + 1)" }

    static func startLab() async throws -> Lab {
        let ca = try await TestCA.create()
        var sites: [NginxServer.Site] = []
        for (index, situation) in situations.enumerated() {
            guard var directives = situation.logo else { continue }
            let host = "logo.\(situation.name).bimi.test"
            let certificate = try await ca.issue(situation.kind, for: host)
            if !directives.contains("/vmc.pem") {
                // The evidence: the logo host's own certificate, in PEM; any certificate will do, since its VMC contents are not judged.
                let pem = try String(contentsOf: certificate.certificateFile, encoding: .utf8)
                directives += NginxServer.respond(200, body: pem, contentType: "application/x-pem-file", path: "/vmc.pem")
            }
            sites.append(.init(serverName: host, address: address(index), chainFile: certificate.chainFile, directives: directives, files: situation.files))
        }
        let nginx = NginxServer(sites: sites)
        try await nginx.start()
        let port = try nginx.requirePort()

        var zone = "$ORIGIN bimi.test.\n$TTL 300\n@ IN SOA ns.bimi.test. hostmaster.bimi.test. 1 3600 600 86400 300\n@ IN NS ns.bimi.test.\nns IN A 127.0.0.1\n"
        for (index, situation) in situations.enumerated() {
            let name = situation.name
            zone += "\(name) IN MX 10 mx.\(name).bimi.test.\nmx.\(name) IN A 127.0.0.1\n"
            if let dmarc = situation.dmarc { zone += "_dmarc.\(name) IN TXT \"\(dmarc)\"\n" }
            if let bimi = situation.bimi {
                let record = bimi.replacingOccurrences(of: "NAME", with: name).replacingOccurrences(of: "PORT", with: "\(port)")
                zone += "default._bimi.\(name) IN TXT \"\(record)\"\n"
            }
            if situation.logo != nil || situation.unserved { zone += "logo.\(name) IN A \(address(index))\n" }
        }
        let nsd = NSDServer(zones: [.text("bimi.test", zone)])
        try await nsd.start()
        return Lab(ca: ca, nginx: nginx, nsd: nsd)
    }

    static func audit(_ lab: Lab, _ names: [String]) async throws -> [String: [Finding]] {
        var probe = ProbeOptions(ehloName: "probe.mailaudit.test")
        probe.caFile = lab.ca.rootFile.path
        probe.verificationTime = TestCA.referenceTime
        var options = AuditOptions()
        options.allowPrivateAddresses = true
        options.probe = probe
        options.checks = [.bimi]
        let resolver = DNSClient.make(nameservers: [Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try lab.nsd.requirePort()))])
        let reports = await Auditor(resolver: resolver, options: options).audit(try names.map { try DomainName(parsing: "\($0).bimi.test") })
        return Dictionary(uniqueKeysWithValues: reports.map { ($0.domain.labels[0], $0.findings.filter { $0.id.area == "bimi" }) })
    }

    static let expectations: [(domain: String, id: String, severity: Severity)] = [
        ("good", "bimi.record", .pass), ("good", "bimi.dmarc-enforced", .pass), ("good", "bimi.logo", .pass), ("good", "bimi.evidence", .pass),
        ("pnone", "bimi.dmarc-not-enforced", .failure), ("pnone", "bimi.logo", .pass),
        ("notfound", "bimi.logo-unavailable", .failure),
        ("redirect", "bimi.logo-unavailable", .failure),
        ("wrongtype", "bimi.logo-content-type", .failure),
        ("notsvg", "bimi.logo-not-svg", .failure),
        ("plain", "bimi.logo-not-tiny-ps", .warning),
        ("wrongname", "bimi.logo-unavailable", .failure), ("wrongname", "bimi.evidence-unavailable", .failure),
        ("huge", "bimi.logo-unavailable", .failure),
        ("http", "bimi.not-https", .failure),
        ("syntax", "bimi.syntax", .failure),
        ("none", "bimi.none", .info),
        ("declined", "bimi.declined", .info),
        ("closed", "bimi.logo-fetch-failed", .inconclusive), ("closed", "bimi.evidence-fetch-failed", .inconclusive),
        ("nopem", "bimi.logo", .pass), ("nopem", "bimi.evidence-not-pem", .failure),
    ]

    @Test func everySituationGivesItsFinding() async throws {
        let lab = try await Self.startLab()
        let found = try await Self.audit(lab, Self.situations.map(\.name))
        await lab.stop()
        for (domain, id, severity) in Self.expectations {
            let findings = found[domain] ?? []
            #expect(findings.contains { $0.id.rawValue == id && $0.severity == severity },
                    "\(domain): expected \(id) \(severity); got \(findings.map { "\($0.id) \($0.severity)" })")
        }
        let good = found["good"] ?? []
        #expect(good.map(\.id) == ["bimi.record", "bimi.dmarc-enforced", "bimi.logo", "bimi.evidence"], "\(good.map(\.id))")
        #expect(good.first { $0.id == "bimi.logo" }?.message.contains("\"Good Brand\"") == true)
        #expect(good.first { $0.id == "bimi.evidence" }?.evidence.contains { $0.contains("not validated as a VMC") } == true)
        func reason(_ domain: String) -> Fact? { found[domain]?.first { $0.id == "bimi.logo-unavailable" }?.facts["reason"] }
        #expect(reason("notfound") == .text("http-status") && reason("redirect") == .text("redirect"))
        #expect(reason("wrongname") == .text("certificate") && reason("huge") == .text("too-large"))
        #expect(found["redirect"]?.first { $0.id == "bimi.logo-unavailable" }?.evidence.contains("  Location: https://cdn.redirect.bimi.test/logo.svg") == true,
                "the redirect is reported, not followed")
        #expect(found["plain"]?.first { $0.id == "bimi.logo-not-tiny-ps" }?.facts["problems"].map { "\($0)".contains("<script>") } == true)
        // Nothing is fetched for a record that names nothing, and the DMARC policy is not judged for it.
        for domain in ["none", "declined"] { #expect(found[domain]?.count == 1, "\(domain): \(found[domain] ?? [])") }
        // A host that cannot be reached is "could not check", never "broken".
        #expect(!(found["closed"] ?? []).contains { $0.severity == .failure || $0.severity == .warning }, "\(found["closed"] ?? [])")
    }

    @Test func theBinaryRunsTheBIMICheckAlone() async throws {
        let lab = try await Self.startLab()
        let binary = try builtProductPath("mailaudit")
        let result = try await runProcess(binary, [
            "--resolver", "127.0.0.1:\(try lab.nsd.requirePort())", "--ca-file", lab.ca.rootFile.path,
            "--verification-time", "2030-01-01T00:00:00Z", "--allow-private-addresses", "--checks", "bimi", "--format", "json",
            "good.bimi.test", "pnone.bimi.test",
        ])
        await lab.stop()
        #expect(result.exitCode == 1, "p=none is a failure: \(result)")
        #expect(result.stdout.contains("\"bimi.logo\"") && result.stdout.contains("\"bimi.dmarc-not-enforced\""), "\(result)")
        #expect(!result.stdout.contains("\"dmarc.") && !result.stdout.contains("\"mx."), "only the BIMI check ran: \(result.stdout.prefix(400))")
    }
}
