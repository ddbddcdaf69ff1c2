import MailAuditCore
import MailAuditRecords

/// What the TLS-RPT check found: the TXT answer at `_smtp._tls.<domain>` and, when it holds no
/// record, whether the domain deploys MTA-STS or DANE (then reports matter more).
struct TLSRPTResult: Hashable, Sendable {
    var domain: DomainName
    var answer: DNSAnswer
    /// Looked up only when no TLS-RPT record is published.
    var deployment: TransportSecurityDeployment?

    var recordName: DomainName { TLSRPTLookup.recordName(for: domain) }
    var selection: TLSRPTRecordSelection { TLSRPTRecordSelection(records: answer.records) }
}

/// Whether a domain asks senders for TLS: MTA-STS (a `v=STSv1` TXT record at `_mta-sts`,
/// RFC 8461 §3.1) or DANE (a TLSA record at `_25._tcp.<MX host>`, RFC 7672 §2.2). Decided
/// from those records alone, not from the MTA-STS or DANE checks' verdicts.
struct TransportSecurityDeployment: Hashable, Sendable {
    enum Presence: String, Hashable, Sendable {
        case deployed, absent
        /// A lookup failed, so it is not known.
        case unknown
    }

    var mtaSTS: Presence
    var dane: Presence
    /// The answers the presences were read from.
    var evidence: [String]
}

/// Looks up the TLS-RPT record (RFC 8460 §3) and, when there is none, the MTA-STS and DANE records.
struct TLSRPTLookup: Sendable {
    let resolver: any Resolver

    /// `_smtp._tls.<domain>`.
    static func recordName(for domain: DomainName) -> DomainName { domain.prepending("_tls").prepending("_smtp") }

    func run(for domain: DomainName, routing: @Sendable () async -> MailRouting) async -> TLSRPTResult {
        let answer = await resolver.resolve(Self.recordName(for: domain), .txt)
        var result = TLSRPTResult(domain: domain, answer: answer)
        let selection = result.selection
        if !answer.outcome.isInconclusive, selection.candidates.isEmpty, selection.nearMisses.isEmpty {
            result.deployment = await deployment(of: domain, routing: await routing())
        }
        return result
    }

    func deployment(of domain: DomainName, routing: MailRouting) async -> TransportSecurityDeployment {
        async let stsAnswer = resolver.resolve(domain.prepending("_mta-sts"), .txt)
        // Null MX and IP-literal targets got no address lookups: they name no host to secure.
        let hosts = routing.hosts.filter { $0.ipv4 != nil || $0.ipv6 != nil }.map(\.name)
        let tlsaAnswers = await hosts.mapConcurrently { await resolver.resolve(DANECheck.tlsaName($0), .tlsa) }
        let sts = await stsAnswer

        let mtaSTS: TransportSecurityDeployment.Presence =
            sts.records.contains { $0.data.joinedText.map { TLSRPTRecordSelection.startsWithVersion($0, "v=STSv1") } ?? false } ? .deployed
            : sts.outcome.isInconclusive ? .unknown : .absent
        let dane: TransportSecurityDeployment.Presence =
            tlsaAnswers.contains { $0.records.contains { $0.type == .tlsa } } ? .deployed
            : routing.mxAnswer.outcome.isInconclusive || tlsaAnswers.contains(where: \.outcome.isInconclusive) ? .unknown : .absent
        return TransportSecurityDeployment(
            mtaSTS: mtaSTS, dane: dane, evidence: sts.evidence + tlsaAnswers.flatMap(\.evidence))
    }
}
