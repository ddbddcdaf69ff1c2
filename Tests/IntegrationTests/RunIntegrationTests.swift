import Foundation
import MailAudit
import MailAuditConfig
import MailAuditCore
import MailAuditHistory
import MailAuditTesting
import Testing

/// Scheduled runs against real servers: NSD serving zones that change between runs, SQLite and
/// PostgreSQL histories, and a Postfix MX for the certificate changes. Every change the issue
/// lists is detected, and an unchanged re-run reports none.
@Suite(.serialized, .tags(.nsd))
struct RunIntegrationTests {
    enum Backend: String, CaseIterable, Sendable { case sqlite, postgres }

    /// The zone of the two audited domains, with knobs for what the third run changes.
    struct Zone {
        var dmarcPolicy = "reject"
        var includes = ["_spf.provider.run.test"]
        var mx = ["mx1.alpha.run.test"]
        var selectors = ["s1", "s2"]

        var text: String {
            var lines = [
                "$ORIGIN run.test.", "$TTL 300",
                "@ IN SOA ns.run.test. hostmaster.run.test. 1 3600 600 86400 300", "@ IN NS ns.run.test.", "ns IN A 127.0.0.1",
                "_spf.provider IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"",
                "beta IN MX 10 mx1.alpha.run.test.", "beta IN TXT \"v=spf1 -all\"", "_dmarc.beta IN TXT \"v=DMARC1; p=none; rua=mailto:d@beta.run.test\"",
                "mx1.alpha IN A 127.0.40.1", "mx2.alpha IN A 127.0.40.2",
                "alpha IN TXT \"v=spf1 " + includes.map { "include:\($0)" }.joined(separator: " ") + " -all\"",
                "_dmarc.alpha IN TXT \"v=DMARC1; p=\(dmarcPolicy); rua=mailto:d@alpha.run.test\"",
            ]
            lines += mx.enumerated().map { "alpha IN MX \(($0.offset + 1) * 10) \($0.element)." }
            // Twelve extra includes, each one lookup, to push the count past 10 when asked.
            lines += (1...12).map { "n\($0).provider IN TXT \"v=spf1 ip4:198.51.100.\($0) -all\"" }
            // A TXT string holds at most 255 octets: a long SPF record is split into several strings (RFC 7208 §3.3).
            let spf = "v=spf1 " + includes.map { "include:\($0)" }.joined(separator: " ") + " -all"
            let chunks = stride(from: 0, to: spf.count, by: 200).map { start in
                "\"" + String(spf.dropFirst(start).prefix(200)) + "\""
            }
            lines.removeAll { $0.hasPrefix("alpha IN TXT") }
            lines.append("alpha IN TXT " + chunks.joined(separator: " "))
            lines += selectors.map { "\($0)._domainkey.alpha IN TXT \"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"" }
            return lines.joined(separator: "\n") + "\n"
        }
    }

    /// The parent zone, so that names under test. outside the lab get a real NXDOMAIN
    /// (the DMARC tree walk asks for _dmarc.test.) instead of REFUSED.
    static let topZone = """
        $ORIGIN test.
        $TTL 300
        @ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
        @ IN NS ns.test.
        ns IN A 127.0.0.1
        """

    static func config(resolverPort: UInt16, history: String, extra: String = "") -> String {
        """
        [history]
        \(history)

        [report]
        from = "mailaudit@run.test"
        to = ["ops@inbox.test"]
        send = "never"

        [defaults]
        checks = ["mx", "spf", "dkim", "dmarc"]
        allow_private_addresses = true
        resolvers = ["127.0.0.1:\(resolverPort)"]
        deadline = 30

        [[domain]]
        name = "alpha.run.test"
        selectors = ["s1", "s2"]
        expect_mx = ["mx1.alpha.run.test"]
        expect_dmarc = "reject"

        [[domain]]
        name = "beta.run.test"
        \(extra)
        """
    }

    static func history(_ backend: Backend, directory: URL, postgres: PostgresServer?) async throws -> String {
        switch backend {
        case .sqlite: return "sqlite = \"\(directory.appendingPathComponent("history.sqlite").path)\""
        case .postgres:
            let server = try #require(postgres)
            return "postgres = \"\(try await server.createDatabase())\""
        }
    }

    static func run(_ zone: Zone, history: String) async throws -> RunReport {
        let nsd = NSDServer(zones: [.text("run.test", zone.text), .text("test", topZone)])
        try await nsd.start()
        defer { nsd.stop() }
        let configuration = try RunConfiguration.parse(config(resolverPort: try nsd.requirePort(), history: history), file: "test.toml")
        return try await RunPipeline(configuration: configuration).run().report
    }

    static func changes(_ report: RunReport, _ id: FindingID, domain: String = "alpha.run.test") -> [FindingChange] {
        report.changes.filter { $0.domain == domain && ($0.id == id || $0.previousID == id) }
    }

    @Test(arguments: Backend.allCases)
    func changesAreDetectedAndAnUnchangedRerunReportsNone(backend: Backend) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var postgres: PostgresServer?
        if backend == .postgres {
            postgres = PostgresServer()
            try await postgres?.start()
        }
        defer { postgres?.stop() }
        let history = try await Self.history(backend, directory: directory, postgres: postgres)

        let first = try await Self.run(Zone(), history: history)
        #expect(first.firstRun.sorted() == ["alpha.run.test", "beta.run.test"])
        #expect(first.changes.isEmpty, "a first run is the baseline")
        #expect(first.audit.domains.first?.findings.contains { $0.id == "expect.mx" && $0.severity == .pass } == true)

        let second = try await Self.run(Zone(), history: history)
        #expect(second.firstRun.isEmpty)
        #expect(second.changes.isEmpty, "nothing changed: \(second.changes.map(\.summary))")
        #expect(second.previousRuns["alpha.run.test"] == first.runID)

        var changed = Zone()
        changed.dmarcPolicy = "none"
        changed.includes += ["n1.provider.run.test"]
        changed.mx = ["mx1.alpha.run.test", "mx2.alpha.run.test"]
        changed.selectors = ["s1"]
        let third = try await Self.run(changed, history: history)
        let summaries = third.changes.map(\.summary)
        // DMARC p weakened: the record's facts, the new policy-none warning, the broken expectation.
        let dmarc = try #require(Self.changes(third, "dmarc.record").first, "\(summaries)")
        #expect(dmarc.facts.contains { $0.name == "p" && $0.before == .text("reject") && $0.after == .text("none") })
        #expect(Self.changes(third, "expect.dmarc-changed").first?.kind == .replaced || Self.changes(third, "expect.dmarc-changed").first?.kind == .new)
        // An SPF include added.
        let spf = try #require(Self.changes(third, "spf.record").first, "\(summaries)")
        #expect(spf.facts.contains { $0.name == "includes" && $0.summary.contains("+include:n1.provider.run.test") })
        // The MX set changed, and the expectation with it.
        let mx = try #require(Self.changes(third, "mx.present").first, "\(summaries)")
        #expect(mx.facts.first?.name == "mx")
        #expect(!Self.changes(third, "expect.mx-changed").isEmpty)
        // A DKIM selector found before has vanished.
        let dkim = try #require(Self.changes(third, "dkim.selectors").first, "\(summaries)")
        #expect(dkim.facts.contains { $0.summary.contains("−s2") })
        // Nothing about beta changed.
        #expect(third.changes(for: "beta.run.test").isEmpty)

        // The SPF lookup count crossing 10 is a change; a move within the band is not.
        var crossing = changed
        crossing.includes = (1...11).map { "n\($0).provider.run.test" }
        let fourth = try await Self.run(crossing, history: history)
        let lookups = try #require(Self.changes(fourth, "spf.too-many-lookups").first, "\(fourth.changes.map(\.summary))")
        #expect(lookups.kind == .replaced)
        #expect(lookups.facts.contains { $0.name == "lookups" && $0.after == .int(11) })

        var within = crossing
        within.includes = (1...12).map { "n\($0).provider.run.test" }
        let fifth = try await Self.run(within, history: history)
        #expect(Self.changes(fifth, "spf.too-many-lookups").isEmpty, "11 → 12 lookups stays over the limit: not a change")
        #expect(Self.changes(fifth, "spf.record").count == 1, "but the include added is")
    }

    /// A new certificate (another key) and expiry crossing the warning threshold are changes;
    /// the days left shrinking is not.
    @Test func certificateChangesAndExpiryCrossingTheWarningAreChanges() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try await TestCA.create()
        defer { ca.remove() }
        let reference = TestCA.referenceTime
        let validity = (notBefore: reference.addingTimeInterval(-30 * 86_400), notAfter: reference.addingTimeInterval(60 * 86_400))
        let nsd = NSDServer(zones: [.text("run.test", Zone().text), .text("test", Self.topZone)])
        try await nsd.start()
        defer { nsd.stop() }

        func run(certificate: URL, at time: Date) async throws -> RunReport {
            let postfix = PostfixServer(listeners: [
                .starttls("mx1", address: "127.0.40.1", hostName: "mx1.alpha.run.test", chainFile: certificate),
            ])
            try await postfix.start()
            defer { postfix.stop() }
            let text = """
                [history]
                sqlite = "\(directory.appendingPathComponent("history.sqlite").path)"
                [report]
                send = "never"
                [defaults]
                checks = ["mx", "probe"]
                allow_private_addresses = true
                resolvers = ["127.0.0.1:\(try nsd.requirePort())"]
                smtp_port = \(try postfix.requirePort())
                ca_file = "\(ca.rootFile.path)"
                expiry_warning_days = 14
                [[domain]]
                name = "alpha.run.test"
                """
            var pipeline = RunPipeline(configuration: try RunConfiguration.parse(text, file: "probe.toml"))
            pipeline.verificationTime = time
            return try await pipeline.run().report
        }

        let first = try await ca.issue(.valid, for: "mx1.alpha.run.test", validity: validity)
        _ = try await run(certificate: first.chainFile, at: reference)
        let same = try await run(certificate: first.chainFile, at: reference.addingTimeInterval(86_400))
        #expect(same.changes.isEmpty, "a day less to expiry is no change: \(same.changes.map(\.summary))")

        let expiring = try await run(certificate: first.chainFile, at: reference.addingTimeInterval(50 * 86_400))
        let crossed = try #require(expiring.changes.first { $0.id == "smtp.certificate-expiring" }, "\(expiring.changes.map(\.summary))")
        #expect(crossed.kind == .replaced)
        #expect(crossed.previousID == "smtp.certificate-valid")

        let renewed = try await ca.issue(.valid, for: "mx1.alpha.run.test", validity: validity)
        let changed = try await run(certificate: renewed.chainFile, at: reference.addingTimeInterval(50 * 86_400))
        #expect(!changed.changes.contains { $0.id == "smtp.starttls" }, "the new certificate is one change, not one per finding")
        let certificate = try #require(changed.changes.first { $0.id == "smtp.certificate-expiring" }, "\(changed.changes.map(\.summary))")
        #expect(certificate.kind == .facts)
        #expect(certificate.facts.contains { $0.name == "fingerprint" })
    }
}
