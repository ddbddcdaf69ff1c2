public import MailAuditCore
public import MailAuditRecords
import MailAuditTLS

/// Fetches what the BIMI verdicts need: the Assertion Record at `default._bimi.<domain>`
/// (draft-brand-indicators-for-message-identification-10 §4.3), then, for a record that names
/// them, the logo at `l=` and the evidence document at `a=` over strict HTTPS, and the DMARC
/// result BIMI depends on, all at once.
///
/// ```swift
/// let result = await BIMILookup(resolver: resolver, https: fetcher).run(for: domain) { await context.dmarc() }
/// if case .record(let record, _) = result.record { print(record.location as Any) }
/// ```
struct BIMILookup: Sendable {
    /// Receivers refuse logos over 32 KiB (the BIMI group's SVG guidance).
    static let logoLimits = HTTPResponseLimits(headerBytes: 16 * 1024, bodyBytes: 32 * 1024)
    /// A mark certificate embeds the logo, and comes with its chain.
    static let evidenceLimits = HTTPResponseLimits(headerBytes: 16 * 1024, bodyBytes: 256 * 1024)
    /// The longest one fetch may take; the audit's deadline bounds it too.
    static let fetchTimeout: Duration = .seconds(10)

    let resolver: any Resolver
    let https: HTTPSFetcher

    func run(for domain: DomainName, dmarc: @escaping @Sendable () async -> DMARCResult?) async -> BIMIResult {
        let answer = await resolver.resolve(BIMIRules.recordName(domain), .txt)
        var result = BIMIResult(
            domain: domain, recordAnswer: answer, record: Self.record(in: answer),
            nearMisses: BIMIRecordSelection(records: answer.records).nearMisses)
        guard case .record(let record, _) = result.record, !record.isDeclination else { return result }
        async let logo = fetch(record.location, limits: Self.logoLimits, accept: "image/svg+xml")
        async let evidence = fetch(record.evidence, limits: Self.evidenceLimits, accept: "application/pem-certificate-chain, */*")
        async let policy = dmarc()
        result.logo = await logo
        result.evidence = await evidence
        result.dmarc = await policy
        return result
    }

    private func fetch(_ url: HTTPSURL?, limits: HTTPResponseLimits, accept: String) async -> HTTPSDocumentFetch? {
        guard let url else { return nil }
        return await https.fetch(host: url.host, port: url.port, path: url.target, limits: limits, timeout: Self.fetchTimeout, accept: accept)
    }

    /// The BIMI record among the TXT records of `answer`, parsed.
    static func record(in answer: DNSAnswer) -> BIMIRecordStatus {
        if answer.outcome.isInconclusive { return .lookupFailed(answer.outcome) }
        switch BIMIRecordSelection(records: answer.records).outcome {
        case .none:
            return .none
        case .multiple(let texts):
            return .multiple(texts)
        case .record(let text):
            do throws(BIMIRecordError) {
                return .record(try BIMIRecord(parsing: text), text: text)
            } catch {
                return .invalid(error, text: text)
            }
        }
    }
}

/// What the BIMI lookups found.
public struct BIMIResult: Hashable, Sendable {
    public var domain: DomainName
    /// The TXT answer at `default._bimi.<domain>`.
    public var recordAnswer: DNSAnswer
    public var record: BIMIRecordStatus
    /// TXT records there that mention BIMI1 but do not start with `v=BIMI1`.
    public var nearMisses: [String]
    /// The fetch of `l=`; nil when there is no record or no logo URI.
    public var logo: HTTPSDocumentFetch?
    /// The fetch of `a=`; nil when there is no record or no evidence URI.
    public var evidence: HTTPSDocumentFetch?
    /// The DMARC result BIMI depends on; nil when not looked up (no record naming a logo).
    public var dmarc: DMARCResult?

    public init(
        domain: DomainName, recordAnswer: DNSAnswer, record: BIMIRecordStatus, nearMisses: [String] = [],
        logo: HTTPSDocumentFetch? = nil, evidence: HTTPSDocumentFetch? = nil, dmarc: DMARCResult? = nil
    ) {
        self.domain = domain
        self.recordAnswer = recordAnswer
        self.record = record
        self.nearMisses = nearMisses
        self.logo = logo
        self.evidence = evidence
        self.dmarc = dmarc
    }
}

/// The BIMI record among the TXT records at `default._bimi.<domain>`.
public enum BIMIRecordStatus: Hashable, Sendable {
    /// No TXT record starts with `v=BIMI1`.
    case none
    case record(BIMIRecord, text: String)
    case invalid(BIMIRecordError, text: String)
    /// More than one record starts with `v=BIMI1`.
    case multiple([String])
    /// The TXT lookup timed out or failed.
    case lookupFailed(DNSOutcome)
}
