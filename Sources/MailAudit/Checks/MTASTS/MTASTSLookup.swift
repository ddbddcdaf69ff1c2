import Foundation
public import MailAuditCore
public import MailAuditRecords
public import MailAuditTLS

/// How the MTA-STS check fetches policies.
public struct MTASTSOptions: Hashable, Sendable {
    /// The port of the policy host; 443 unless a lab says otherwise (`--https-port`).
    public var httpsPort: UInt16 = 443
    /// The longest one policy fetch may take, connection included; the audit's deadline bounds it too.
    public var fetchTimeout: Duration = .seconds(10)
    /// A PEM file of trusted roots for the HTTPS fetches of MTA-STS policies and BIMI documents
    /// (`--ca-file`, which also holds under `--no-probe`); nil means the system's.
    public var caFile: String?

    public init() {}
}

/// Fetches what the MTA-STS verdicts need, both at once: the TXT record at `_mta-sts.<domain>`
/// (RFC 8461 §3.1) and the policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt` (§3.3).
/// The policy is fetched even without a record, so that a policy nobody can discover is found.
///
/// ```swift
/// let result = await MTASTSLookup(resolver: resolver, fetcher: fetcher).run(for: domain)
/// if case .record(let record, _) = result.record { print(record.id) }
/// ```
struct MTASTSLookup: Sendable {
    let resolver: any Resolver
    let fetcher: MTASTSPolicyFetcher

    func run(for domain: DomainName) async -> MTASTSResult {
        async let answer = resolver.resolve(domain.prepending("_mta-sts"), .txt)
        async let policy = fetcher.fetch(for: domain)
        let recordAnswer = await answer
        return MTASTSResult(
            domain: domain, recordAnswer: recordAnswer, record: Self.record(in: recordAnswer),
            nearMisses: MTASTSRecordSelection(records: recordAnswer.records).nearMisses, policy: await policy)
    }

    /// The MTA-STS record among the TXT records of `answer`, parsed.
    static func record(in answer: DNSAnswer) -> MTASTSRecordStatus {
        if answer.outcome.isInconclusive { return .lookupFailed(answer.outcome) }
        switch MTASTSRecordSelection(records: answer.records).outcome {
        case .none:
            return .none
        case .multiple(let texts):
            return .multiple(texts)
        case .record(let text):
            do throws(MTASTSRecordError) {
                return .record(try MTASTSRecord(parsing: text), text: text)
            } catch {
                return .invalid(error, text: text)
            }
        }
    }
}

/// What the MTA-STS lookups found: the record and the policy fetch.
public struct MTASTSResult: Hashable, Sendable {
    public var domain: DomainName
    /// The TXT answer at `_mta-sts.<domain>`.
    public var recordAnswer: DNSAnswer
    public var record: MTASTSRecordStatus
    /// TXT records there that mention STSv1 but do not start with `v=STSv1`.
    public var nearMisses: [String]
    public var policy: MTASTSPolicyFetch

    public init(domain: DomainName, recordAnswer: DNSAnswer, record: MTASTSRecordStatus, nearMisses: [String], policy: MTASTSPolicyFetch) {
        self.domain = domain
        self.recordAnswer = recordAnswer
        self.record = record
        self.nearMisses = nearMisses
        self.policy = policy
    }

    /// True when the domain publishes something meant as an MTA-STS record, valid or not.
    public var intendsRecord: Bool {
        switch record {
        case .record, .invalid, .multiple: true
        case .none, .lookupFailed: !nearMisses.isEmpty
        }
    }
}

/// The MTA-STS record among the TXT records at `_mta-sts.<domain>`.
public enum MTASTSRecordStatus: Hashable, Sendable {
    /// No TXT record starts with `v=STSv1`.
    case none
    case record(MTASTSRecord, text: String)
    case invalid(MTASTSRecordError, text: String)
    /// More than one record starts with `v=STSv1`: senders assume there is no policy.
    case multiple([String])
    /// The TXT lookup timed out or failed.
    case lookupFailed(DNSOutcome)
}

/// One fetch of `https://mta-sts.<domain>/.well-known/mta-sts.txt` and what came of it.
public typealias MTASTSPolicyFetch = HTTPSDocumentFetch
/// One address the policy fetch tried, and why it failed.
public typealias MTASTSFetchAttempt = HTTPSFetchAttempt

extension HTTPSDocumentFetch {
    /// The MTA-STS policy in a 200 response, when it parses.
    public var parsedPolicy: MTASTSPolicy? {
        okBody.flatMap { try? MTASTSPolicy(parsing: $0) }
    }
}
