import Foundation
import MailAuditCore
import Testing
@testable import MailAudit

@Suite struct RecordsToPublishTests {
    @Test func completeRecordsAreTakenFromRemedies() {
        #expect(RecordsToPublish.records(in: #"Add an address for aggregate reports: _dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@example.com""#)
            == [#"_dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:a@example.com,mailto:b@example.com""#])
        #expect(RecordsToPublish.records(in: "Publish a TLSA record for the certificate in use, e.g. _25._tcp.mx.example.com. IN TLSA 3 1 1 ABCDEF0123, or put back the certificate.")
            == ["_25._tcp.mx.example.com. IN TLSA 3 1 1 ABCDEF0123"])
        #expect(RecordsToPublish.records(in: #"Split it: example.com. IN TXT "v=spf1 " "include:_spf.example.net -all""#)
            == [#"example.com. IN TXT "v=spf1 " "include:_spf.example.net -all""#])
        #expect(RecordsToPublish.records(in: #"Quote \"inner\": a.example. IN TXT "x \"y\" z""#) == [#"a.example. IN TXT "x \"y\" z""#])
    }

    @Test func placeholdersAndProseAreNotRecords() {
        #expect(RecordsToPublish.records(in: "Publish _25._tcp.mx.example.com. IN TLSA 3 1 1 <SHA-256 of the key>.").isEmpty)
        #expect(RecordsToPublish.records(in: "Sign the zone and publish its DS record at the parent zone.").isEmpty)
        #expect(RecordsToPublish.records(in: #"Publish example.com. IN TXT "v=spf1 include:<your provider> -all""#).isEmpty)
    }

    @Test func aLaterSuggestionForTheSameRecordTakesItsPlace() {
        let domain = DomainName(labels: ["example", "com"])
        let quarantine = #"_dmarc.example.com. IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@example.com""#
        let none = #"_dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com""#
        let spf = #"example.com. IN TXT "v=spf1 mx -all""#
        let findings = [
            Finding("dmarc.a", .warning, subject: .domain(domain), message: "a", remedy: "Fix: \(quarantine)"),
            Finding("spf.a", .failure, subject: .domain(domain), message: "b", remedy: "Publish \(spf)"),
            Finding("dmarc.b", .warning, subject: .domain(domain), message: "c", remedy: "Monitor instead: \(none)"),
            Finding("mx.a", .warning, subject: .domain(domain), message: "d",
                    remedy: "Publish example.com. IN MX 10 a.example.com. and example.com. IN MX 20 b.example.com."),
        ]
        let report = AuditReport(toolVersion: "test", startedAt: Date(), duration: .seconds(1), resolvers: [],
                                 domains: [DomainReport(domain: domain, findings: findings)], dns: ResolverStatistics())
        #expect(RecordsToPublish.byDomain(report).first?.1 == [
            none, spf, "example.com. IN MX 10 a.example.com.", "example.com. IN MX 20 b.example.com.",
        ])
    }

    @Test func theTextReportEndsWithEveryRecordToPublishOnce() {
        let domain = DomainName(labels: ["example", "com"])
        let record = #"_dmarc.example.com. IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com""#
        let findings = [
            Finding("dmarc.none", .warning, subject: .domain(domain), message: "no DMARC", remedy: "Publish: \(record)"),
            Finding("dmarc.other", .failure, subject: .domain(domain), message: "again", remedy: "Also: \(record)"),
            Finding("tls-rpt.none", .info, subject: .domain(domain), message: "info only",
                    remedy: #"_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:t@example.com""#),
        ]
        let report = AuditReport(toolVersion: "test", startedAt: Date(), duration: .seconds(1), resolvers: [],
                                 domains: [DomainReport(domain: domain, findings: findings)], dns: ResolverStatistics())
        let text = TextRenderer(color: false).render(report)
        let section = text.components(separatedBy: "Records to publish\n").last ?? ""
        #expect(text.contains("Records to publish\n  example.com\n    \(record)\n"))
        #expect(section.components(separatedBy: record).count == 2, "each record once")
        #expect(!section.contains("TLSRPTv1"), "an info finding asks for nothing")
    }
}
