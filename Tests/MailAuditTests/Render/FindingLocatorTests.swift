import MailAuditCore
import MailAuditDNS
import Testing
@testable import MailAudit

/// Each finding points at the line of the record it is about; a zone without it points at the SOA.
@Suite struct FindingLocatorTests {
    static let zone = """
        $ORIGIN example.com.
        @            IN SOA ns hostmaster 1 3600 900 604800 300
        @            IN MX 10 mx1
        @            IN MX 20 mx2
        @            IN TXT "google-site-verification=abc"
        @            IN TXT "v=spf1 include:_spf.example.com -all"
        _spf         IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
        _dmarc       IN TXT "v=DMARC1; p=none"
        s1._domainkey IN TXT "v=DKIM1; p=AAAA"
        _mta-sts     IN TXT "v=STSv1; id=1"
        _smtp._tls   IN TXT "v=TLSRPTv1; rua=mailto:t@example.com"
        _25._tcp.mx2 IN TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        default._bimi IN TXT "v=BIMI1; l=https://example.com/logo.svg"
        """

    static let cases: [(id: String, subject: FindingSubject, line: Int)] = [
        ("spf.multiple-records", FindingSubject(domain: "example.com"), 6),
        ("spf.too-many-lookups", FindingSubject(domain: "example.com", record: "_spf.example.com"), 7),
        ("spf.include-missing", FindingSubject(domain: "example.com", record: "_spf.provider.example"), 6),
        ("dmarc.policy-none", FindingSubject(domain: "example.com"), 8),
        ("dkim.key-too-short", FindingSubject(domain: "example.com", selector: "s1"), 9),
        ("dkim.selector-missing", FindingSubject(domain: "example.com", selector: "s2"), 2),
        ("mx.target-cname", FindingSubject(domain: "example.com", host: "mx2.example.com"), 4),
        ("rdns.no-ptr", FindingSubject(domain: "example.com", host: "mx1.example.com", address: "192.0.2.1"), 3),
        ("mx.no-mail-route", FindingSubject(domain: "example.com"), 3),
        ("mta-sts.policy-missing", FindingSubject(domain: "example.com"), 10),
        ("tls-rpt.invalid", FindingSubject(domain: "example.com"), 11),
        ("dane.mismatch", FindingSubject(domain: "example.com", host: "mx2.example.com"), 12),
        ("dane.absent", FindingSubject(domain: "example.com", host: "mx1.example.com"), 3),
        ("bimi.invalid", FindingSubject(domain: "example.com"), 13),
        ("audit.deadline-exceeded", FindingSubject(domain: "example.com"), 2),
    ]

    @Test(arguments: cases)
    func pointsAtTheRecordsLine(id: String, subject: FindingSubject, line: Int) throws {
        let zone = try ZoneFile(parsing: Self.zone)
        let finding = Finding(FindingID(rawValue: id), .failure, subject: subject, message: "m")
        #expect(ZoneAudit.locate(finding, domain: zone.origin, in: zone)?.line == line)
    }

    @Test func candidatesNameOwnerAndType() {
        let domain = DomainName(labels: ["example", "com"])
        let dmarc = Finding("dmarc.policy-none", .warning, subject: .domain(domain), message: "m")
        #expect(FindingLocator.candidates(for: dmarc, domain: domain).map(\.description) == ["_dmarc.example.com. TXT"])
        let dane = Finding("dane.mismatch", .failure, subject: FindingSubject(domain: "example.com", host: "mx.example.com"), message: "m")
        #expect(FindingLocator.candidates(for: dane, domain: domain).first?.description == "_25._tcp.mx.example.com. TLSA")
    }
}
