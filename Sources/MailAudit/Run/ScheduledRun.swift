public import Foundation
public import MailAuditCore
public import MailAuditDNS
public import MailAuditHistory

/// One domain of a scheduled run: its own settings and expectations.
public struct RunDomain: Hashable, Sendable {
    public var domain: DomainName
    public var options: DomainOptions
    public var expectations: DomainExpectations

    public init(domain: DomainName, options: DomainOptions = DomainOptions(), expectations: DomainExpectations = DomainExpectations()) {
        self.domain = domain
        self.options = options
        self.expectations = expectations
    }
}

/// A scheduled run: audit every domain at once, judge the expectations, compare each domain
/// with its previous run in the history, and store the run, all under the history's run lock.
///
/// ```swift
/// let store = try await History.open(sqlitePath: "/var/lib/mailaudit/history.sqlite")
/// let report = try await ScheduledRun(domains: domains, options: options, store: store, ...).run()
/// report.changes   // empty when nothing changed since the last run
/// ```
public struct ScheduledRun: Sendable {
    public var domains: [RunDomain]
    public var options: AuditOptions
    public var resolver: CachingResolver
    public var resolverNames: [String]
    public var store: any HistoryStore
    public var lockMode: HistoryLockMode
    public var host: String
    public var subjectPrefix: String
    /// False for a dry run: the run is compared but not stored, so the next run still sees
    /// the changes.
    public var recordsHistory = true

    public init(domains: [RunDomain], options: AuditOptions, resolver: CachingResolver, resolverNames: [String], store: any HistoryStore,
                lockMode: HistoryLockMode = .fail, host: String = ProcessInfo.processInfo.hostName, subjectPrefix: String = "mailaudit") {
        self.domains = domains
        self.options = options
        self.resolver = resolver
        self.resolverNames = resolverNames
        self.store = store
        self.lockMode = lockMode
        self.host = host
        self.subjectPrefix = subjectPrefix
    }

    /// Runs, compares and stores. The run is stored before anything is sent, so a mail that
    /// cannot be delivered loses nothing.
    ///
    /// - Throws: ``HistoryError`` when the history cannot be read or written, or another run
    ///   holds the lock.
    public func run() async throws -> RunReport {
        try await store.withRunLock(lockMode) { try await runLocked() }
    }

    private func runLocked() async throws -> RunReport {
        var options = self.options
        for entry in domains { options.perDomain[entry.domain] = entry.options }
        var audit = await Audit.run(domains.map(\.domain), options: options, resolver: resolver, resolverNames: resolverNames)
        let runID = UUID().uuidString.lowercased()
        var changes: [FindingChange] = []
        var firstRun: [String] = []
        var incomplete: [String] = []
        var previousRuns: [String: String] = [:]
        for index in audit.domains.indices {
            let domain = audit.domains[index].domain
            if let expectations = domains.first(where: { $0.domain == domain })?.expectations, !expectations.isEmpty {
                audit.domains[index].findings += expectations.findings(for: domain, in: audit.domains[index].findings)
            }
            let name = domain.description
            // A domain no resolver answered, or cut short by the deadline, is not compared and
            // not stored: its previous complete run stays the baseline.
            guard audit.domains[index].isComplete else {
                incomplete.append(name)
                continue
            }
            if let previous = try await store.latestRun(for: name, excluding: nil),
               let stored = previous.domains.first(where: { $0.domain == name }) {
                let report: DomainReport
                do { report = try RunCoding.decoder.decode(DomainReport.self, from: stored.reportJSON) } catch {
                    throw HistoryError.storage("the stored report of \(name) in run \(previous.id) cannot be read: \(error)")
                }
                previousRuns[name] = previous.id
                changes += RunDiff.changes(from: report.findings, to: audit.domains[index].findings, domain: name)
            } else {
                firstRun.append(name)
            }
        }
        if recordsHistory {
            let complete = audit.domains.filter(\.isComplete)
            if !complete.isEmpty {
                try await store.save(StoredRun(
                    id: runID, startedAt: audit.startedAt, finishedAt: Date(), toolVersion: audit.toolVersion, host: host,
                    domains: try complete.map(Self.stored)))
            }
        }
        var report = RunReport(runID: runID, host: host, audit: audit, changes: changes, firstRun: firstRun, previousRuns: previousRuns,
                               subjectPrefix: subjectPrefix)
        report.incomplete = incomplete
        return report
    }

    /// A domain's report as the history keeps it: the whole report as JSON (with the records
    /// seen, in the evidence), and each finding as a row.
    static func stored(_ report: DomainReport) throws -> StoredDomain {
        let domain = report.domain.description
        let counts = report.counts
        return StoredDomain(
            domain: domain, failures: counts.failure, warnings: counts.warning, inconclusive: counts.inconclusive,
            reportJSON: try RunCoding.encoder.encode(report),
            findings: try report.findings.map { finding in
                StoredFinding(
                    domain: domain, findingID: finding.id.rawValue, subjectKey: finding.subject.key, severity: finding.severity.rawValue,
                    message: finding.message, factsJSON: String(decoding: try RunCoding.encoder.encode(finding.facts), as: UTF8.self))
            })
    }
}

/// How reports are written to and read from the history: ISO 8601 dates, sorted keys.
public enum RunCoding {
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
