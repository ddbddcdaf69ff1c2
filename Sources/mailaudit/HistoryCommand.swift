import ArgumentParser
import Foundation
import MailAudit
import MailAuditCore
import MailAuditHistory

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List a domain's past runs, or show what changed between two of them.",
        discussion: """
            --diff alone compares the two latest runs; --diff RUN compares RUN with the latest; --diff RUN1 RUN2 compares \
            RUN1 (older) with RUN2. Exit codes: 0 done; 2 bad input or an unknown run; 3 the history cannot be read.
            """)

    @Argument(help: "The domain.")
    var domain: String

    @Option(name: .customLong("config"), help: "The run config whose [history] to read.")
    var config = "/etc/mailaudit/mailaudit.toml"

    @Flag(help: "Show what changed between two runs instead of listing them.")
    var diff = false

    @Argument(help: "With --diff: zero, one or two run ids.")
    var runs: [String] = []

    @Option(help: "How many runs to list.")
    var limit: Int = 20

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func validate() throws {
        if (try? DomainName(parsing: domain)) == nil { throw ValidationError("\"\(domain.terminalSafe)\" is not a domain name") }
        if runs.count > 2 { throw ValidationError("--diff takes at most two run ids") }
        if !runs.isEmpty && !diff { throw ValidationError("run ids are only taken with --diff") }
        if !(1...10_000).contains(limit) { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() async throws {
        let configuration = try ConfigLoading.load(config)
        let name = (try? DomainName(parsing: domain))?.description ?? domain
        let store: any HistoryStore
        do {
            store = try await RunPipeline.openStore(configuration.history)
            try await store.migrate()
        } catch {
            FileHandle.standardError.write(Data("mailaudit history: \("\(error)".terminalSafe)\n".utf8))
            throw ExitCode(3)
        }
        defer { Task { await store.close() } }
        let summaries = try await store.runs(for: name, limit: diff ? 2 : limit)
        guard diff else {
            switch format {
            case .json: print(JSONRenderer.encode(HistoryJSON(domain: name, runs: summaries)))
            case .text:
                if summaries.isEmpty { print("No runs of \(name) in the history.") }
                for run in summaries {
                    let counts = run.domainCounts.map { "\($0.failures) failures, \($0.warnings) warnings, \($0.inconclusive) inconclusive" } ?? ""
                    print("\(run.id)  \(run.startedAt.formatted(.iso8601))  \(run.host)  \(counts)")
                }
            }
            return
        }
        let ids: (String, String)
        switch runs.count {
        case 2: ids = (runs[0], runs[1])
        case 1:
            guard let latest = summaries.first?.id else { throw fail("no runs of \(name) in the history") }
            ids = (runs[0], latest)
        default:
            guard summaries.count == 2 else { throw fail("\(name) has \(summaries.count) run\(summaries.count == 1 ? "" : "s"); --diff needs two") }
            ids = (summaries[1].id, summaries[0].id)
        }
        let older = try await report(ids.0, domain: name, store: store)
        let newer = try await report(ids.1, domain: name, store: store)
        let changes = RunDiff.changes(from: older.findings, to: newer.findings, domain: name)
        switch format {
        case .json: print(JSONRenderer.encode(DiffJSON(domain: name, from: ids.0, to: ids.1, changes: changes)))
        case .text:
            print("\(name): \(ids.0) → \(ids.1): \(changes.count) change\(changes.count == 1 ? "" : "s")")
            for change in changes { print("  - [\(change.kind.rawValue)] \(change.id) \(change.subject): \(change.summary)".terminalSafe) }
        }
    }

    private func report(_ id: String, domain: String, store: any HistoryStore) async throws -> DomainReport {
        guard let run = try await store.run(id: id), let stored = run.domains.first(where: { $0.domain == domain }) else { throw fail("no run \(id) of \(domain) in the history") }
        do { return try RunCoding.decoder.decode(DomainReport.self, from: stored.reportJSON) } catch {
            FileHandle.standardError.write(Data("mailaudit history: the stored report of run \(id) cannot be read: \(error)\n".utf8))
            throw ExitCode(3)
        }
    }

    private func fail(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("mailaudit history: \(message.terminalSafe)\n".utf8))
        return ExitCode(2)
    }

    struct HistoryJSON: Encodable {
        var schemaVersion = 1
        var domain: String
        var runs: [RunSummary]
    }

    struct DiffJSON: Encodable {
        var schemaVersion = 1
        var domain: String
        var from: String
        var to: String
        var changes: [FindingChange]
    }
}
