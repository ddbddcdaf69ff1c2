public import MailAuditCore

/// A record a finding is about, as a zone file would hold it: an owner name, a type, and what
/// tells it from its neighbours (the version tag of a TXT record, the exchange of an MX record).
///
/// ```swift
/// RecordLocation(name: "_dmarc.example.com", type: .txt, tag: "v=DMARC1")
/// ```
public struct RecordLocation: Hashable, Sendable, CustomStringConvertible {
    public var name: DomainName
    /// The type, or nil for any record at the name.
    public var type: RRType?
    /// For TXT: the text the record starts with, compared case-insensitively (`v=spf1`).
    public var tag: String?
    /// For MX: the exchange the record names.
    public var exchange: DomainName?

    public init(name: DomainName, type: RRType?, tag: String? = nil, exchange: DomainName? = nil) {
        self.name = name
        self.type = type
        self.tag = tag
        self.exchange = exchange
    }

    /// True when `record` is the one meant.
    public func matches(_ record: DNSRecord) -> Bool {
        guard record.name == name, type.map({ $0 == record.type }) ?? true else { return false }
        if let tag {
            guard let text = record.data.joinedText else { return false }
            return text.lowercased().hasPrefix(tag.lowercased())
        }
        if let exchange {
            guard case .mx(_, let target) = record.data else { return false }
            return target == exchange
        }
        return true
    }

    /// `_dmarc.example.com. TXT`: the owner and type, for logical locations.
    public var description: String { type.map { "\(name.fqdn) \($0)" } ?? name.fqdn }
}

/// Where in DNS a finding's record lives, from its area and subject: the first candidate a zone
/// holds is the record to point at, and a zone holding none points at its SOA.
///
/// | area | candidates |
/// |---|---|
/// | spf | TXT `v=spf1` at the subject's record, then at the domain |
/// | dmarc | TXT at the subject's record, then TXT `v=DMARC1` at `_dmarc.<domain>` |
/// | dkim | TXT at `<selector>._domainkey.<domain>` |
/// | mx, rdns, smtp, dnsbl | MX at the domain naming the subject's host, then any MX there |
/// | dane | TLSA at `_25._tcp.<host>`, then the MX naming the host |
/// | mta-sts | TXT `v=STSv1` at `_mta-sts.<domain>`, then the policy host's records |
/// | tls-rpt | TXT `v=TLSRPTv1` at `_smtp._tls.<domain>` |
/// | bimi | TXT `v=BIMI1` at `<selector or default>._bimi.<domain>` |
/// | dnssec | DNSKEY at the domain |
public enum FindingLocator {
    public static func candidates(for finding: Finding, domain: DomainName) -> [RecordLocation] {
        let subject = finding.subject
        let record = subject.record.flatMap { try? DomainName(parsing: $0) }
        let host = subject.host.flatMap { try? DomainName(parsing: $0) }
        var mx = [RecordLocation(name: domain, type: .mx)]
        if let host { mx.insert(RecordLocation(name: domain, type: .mx, exchange: host), at: 0) }
        switch finding.id.area {
        case "spf":
            return (record.map { [RecordLocation(name: $0, type: .txt, tag: "v=spf1")] } ?? [])
                + [RecordLocation(name: domain, type: .txt, tag: "v=spf1")]
        case "dmarc":
            return (record.map { [RecordLocation(name: $0, type: .txt)] } ?? [])
                + [RecordLocation(name: domain.prepending("_dmarc"), type: .txt, tag: "v=DMARC1")]
        case "dkim":
            let selector = subject.selector.flatMap { try? DomainName(parsing: "\($0)._domainkey.\(domain)") }
            return [record, selector].compactMap { $0 }.map { RecordLocation(name: $0, type: .txt) }
        case "mx", "rdns", "smtp", "dnsbl":
            return mx
        case "dane":
            return (host.map { [RecordLocation(name: $0.prepending("_tcp").prepending("_25"), type: .tlsa)] } ?? []) + mx
        case "mta-sts":
            return [RecordLocation(name: domain.prepending("_mta-sts"), type: .txt, tag: "v=STSv1")]
                + (record.map { [RecordLocation(name: $0, type: nil)] } ?? [])
        case "tls-rpt":
            return [RecordLocation(name: domain.prepending("_tls").prepending("_smtp"), type: .txt, tag: "v=TLSRPTv1")]
        case "bimi":
            return [RecordLocation(name: domain.prepending("_bimi").prepending(subject.selector ?? "default"), type: .txt, tag: "v=BIMI1")]
        case "dnssec":
            return [RecordLocation(name: host ?? domain, type: .dnskey)]
        default:
            return []
        }
    }
}
