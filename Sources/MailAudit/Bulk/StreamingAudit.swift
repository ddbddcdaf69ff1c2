import Foundation
public import MailAuditCore

/// What a streamed run saw, computed as results pass: nothing is kept per domain.
public struct BulkSummary: Sendable, Codable {
    public var domains = 0
    public var counts = SeverityCounts()
    /// Domains whose first lookup no resolver answered.
    public var unanswered = 0
    /// Domains cut short by their deadline.
    public var deadlineExceeded = 0
    public var badLines: [BadDomainLine] = []
    /// Bad lines beyond the first ``maximumBadLinesKept`` are only counted.
    public var badLineCount = 0
    public static let maximumBadLinesKept = 100

    public init() {}

    public mutating func add(_ report: DomainReport) {
        domains += 1
        counts = counts + report.counts
        if !report.resolverAnswered { unanswered += 1 }
        if report.deadlineExceeded { deadlineExceeded += 1 }
    }

    public mutating func add(_ bad: BadDomainLine) {
        badLineCount += 1
        if badLines.count < Self.maximumBadLinesKept { badLines.append(bad) }
    }
}

/// Audits domains as they arrive and hands each report on as soon as it is done, with at most
/// `concurrency` domains in flight and each under its own deadline. Nothing is kept for a
/// domain once its report is handed on, so memory does not grow with the length of the list
/// (beyond the resolver's cache).
///
/// ```swift
/// let summary = await StreamingAudit(auditor: auditor, concurrency: 256).run(domains) { report in
///     print(JSONLRenderer.line(report))
/// }
/// ```
public struct StreamingAudit: Sendable {
    public let auditor: Auditor
    public let concurrency: Int

    public init(auditor: Auditor, concurrency: Int) {
        self.auditor = auditor
        self.concurrency = max(1, concurrency)
    }

    /// Runs until `domains` ends. `onReport` is called once per domain, one at a time, in the
    /// order the domains finish; `onBadLine` for each bad input line.
    public func run<Lines: AsyncSequence & Sendable>(
        _ lines: Lines, onReport: @escaping @Sendable (DomainReport) async -> Void,
        onBadLine: @escaping @Sendable (BadDomainLine) async -> Void = { _ in }
    ) async -> BulkSummary where Lines.Element == DomainLine {
        var summary = BulkSummary()
        let auditor = self.auditor
        await withTaskGroup(of: DomainReport.self) { group in
            var inFlight = 0
            do {
                for try await line in lines {
                    switch line {
                    case .skip: continue
                    case .bad(let bad):
                        summary.add(bad)
                        await onBadLine(bad)
                        continue
                    case .domain(let domain, _):
                        if inFlight == concurrency, let report = await group.next() {
                            inFlight -= 1
                            summary.add(report)
                            await onReport(report)
                        }
                        group.addTask { await auditor.audit([domain]).first ?? DomainReport(domain: domain, findings: []) }
                        inFlight += 1
                    }
                }
            } catch {
                summary.add(BadDomainLine(line: 0, text: "", reason: "reading the domains stopped: \(error)"))
            }
            for await report in group {
                summary.add(report)
                await onReport(report)
            }
        }
        return summary
    }
}
