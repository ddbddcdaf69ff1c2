public import Foundation

/// One finding of one domain in a stored run, as the auditor reported it.
///
/// The store keeps the strings as given and never parses them: `findingID` is a catalogue id
/// (`dmarc.policy-none`), `subjectKey` a stable key of the finding's subject
/// (`example.com|mx1.example.com|192.0.2.1`) that lets two runs' findings be matched up, and
/// `factsJSON` a JSON object of typed facts (`{"policy":"none"}`).
public struct StoredFinding: Codable, Hashable, Sendable {
    /// The domain the finding belongs to; equal to its ``StoredDomain/domain``.
    public var domain: String
    public var findingID: String
    public var subjectKey: String
    /// `pass`, `info`, `warning`, `failure` or `inconclusive`.
    public var severity: String
    public var message: String
    public var factsJSON: String

    public init(domain: String, findingID: String, subjectKey: String, severity: String, message: String, factsJSON: String) {
        self.domain = domain
        self.findingID = findingID
        self.subjectKey = subjectKey
        self.severity = severity
        self.message = message
        self.factsJSON = factsJSON
    }
}

/// One audited domain in a stored run: its counts, the whole report as JSON, and its findings
/// in the order the auditor gave them.
public struct StoredDomain: Codable, Hashable, Sendable {
    public var domain: String
    public var failures: Int
    public var warnings: Int
    public var inconclusive: Int
    /// The whole domain report as UTF-8 JSON (raw records seen included), opaque to the store.
    public var reportJSON: Data
    public var findings: [StoredFinding]

    public init(domain: String, failures: Int, warnings: Int, inconclusive: Int, reportJSON: Data, findings: [StoredFinding]) {
        self.domain = domain
        self.failures = failures
        self.warnings = warnings
        self.inconclusive = inconclusive
        self.reportJSON = reportJSON
        self.findings = findings
    }
}

/// One scheduled audit (`mailaudit run`): when and where it ran, and every domain it audited,
/// in the order audited.
///
/// Timestamps are kept to the microsecond: a date read back equals the one saved when it is a
/// whole number of microseconds since 1970 (see ``HistoryTime``), which `Date()` is not.
public struct StoredRun: Codable, Hashable, Sendable {
    /// A UUID string, unique across every machine that shares the store.
    public var id: String
    public var startedAt: Date
    public var finishedAt: Date
    public var toolVersion: String
    /// The machine that ran it (several machines may share one PostgreSQL history).
    public var host: String
    public var domains: [StoredDomain]

    public init(id: String, startedAt: Date, finishedAt: Date, toolVersion: String, host: String, domains: [StoredDomain]) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.toolVersion = toolVersion
        self.host = host
        self.domains = domains
    }
}

/// A run without its reports, for listings: `runs(for:limit:)` returns these newest first.
public struct RunSummary: Codable, Hashable, Sendable {
    /// Failures, warnings and inconclusive findings counted together.
    public struct Counts: Codable, Hashable, Sendable {
        public var failures: Int
        public var warnings: Int
        public var inconclusive: Int

        public init(failures: Int, warnings: Int, inconclusive: Int) {
            self.failures = failures
            self.warnings = warnings
            self.inconclusive = inconclusive
        }
    }

    public var id: String
    public var startedAt: Date
    public var finishedAt: Date
    public var host: String
    public var toolVersion: String
    /// How many domains the run audited.
    public var domainCount: Int
    /// The run's totals over all its domains.
    public var failures: Int
    public var warnings: Int
    public var inconclusive: Int
    /// The counts of the one domain asked about (`runs(for: domain, …)`); nil when not asked per domain.
    public var domainCounts: Counts?

    public init(
        id: String, startedAt: Date, finishedAt: Date, host: String, toolVersion: String, domainCount: Int,
        failures: Int, warnings: Int, inconclusive: Int, domainCounts: Counts? = nil
    ) {
        self.id = id
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.host = host
        self.toolVersion = toolVersion
        self.domainCount = domainCount
        self.failures = failures
        self.warnings = warnings
        self.inconclusive = inconclusive
        self.domainCounts = domainCounts
    }
}

extension StoredRun {
    /// The run's totals, as ``RunSummary`` reports them.
    var totals: RunSummary.Counts {
        RunSummary.Counts(
            failures: domains.reduce(0) { $0 + $1.failures },
            warnings: domains.reduce(0) { $0 + $1.warnings },
            inconclusive: domains.reduce(0) { $0 + $1.inconclusive })
    }

    /// Checks what the schema cannot: one entry per domain, each finding filed under its own
    /// domain, and reports that are UTF-8 text without NUL (both stores keep them as text).
    ///
    /// - Throws: ``HistoryError/storage(_:)`` naming the first problem.
    func validate() throws(HistoryError) {
        guard !id.isEmpty else { throw .storage("the run has no id") }
        var seen = Set<String>()
        for domain in domains {
            guard seen.insert(domain.domain).inserted else {
                throw .storage("run \(id) lists the domain \(domain.domain) twice")
            }
            if let finding = domain.findings.first(where: { $0.domain != domain.domain }) {
                throw .storage("run \(id): a finding \(finding.findingID) of \(finding.domain) is filed under \(domain.domain)")
            }
            guard domain.reportText != nil else {
                throw .storage("run \(id): the report of \(domain.domain) is not UTF-8 text without NUL")
            }
        }
    }
}

extension StoredDomain {
    /// The report as the text both stores keep, or nil when it is not UTF-8 or holds a NUL.
    var reportText: String? {
        guard !reportJSON.contains(0), let text = String(data: reportJSON, encoding: .utf8) else { return nil }
        return text
    }
}

/// How both stores keep a `Date`: whole microseconds since 1970-01-01T00:00:00Z, rounded to
/// the nearest, so that SQLite (an INTEGER) and PostgreSQL (a `timestamptz`, which has
/// microsecond precision) give back the very same `Date`.
public enum HistoryTime {
    /// `date` in whole microseconds since 1970.
    public static func microseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The date `microseconds` after 1970.
    public static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }

    /// `date` as the stores give it back: rounded to the microsecond.
    public static func rounded(_ date: Date) -> Date {
        self.date(microseconds: microseconds(date))
    }
}
