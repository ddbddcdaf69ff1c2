import ArgumentParser
import Foundation
import MailAudit
import MailAuditConfig
import MailAuditCore
import MailAuditHistory

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "A scheduled audit: audit the config's domains, store the run, and mail a report that leads with what changed.",
        discussion: """
            Exit codes: 0 no failures (by fail_on); 1 failures; 2 a bad config or flag; 3 the run could not be done \
            (history unavailable, another run holds the lock, no resolver answered); 4 the report could not be sent \
            (the run is stored; the relay diagnosis of the failing step is printed).
            """)

    @Option(name: .customLong("config"), help: "The TOML config file.")
    var config: String

    @Option(name: .customLong("dry-run"), help: "Write the report message to this file instead of sending it.")
    var dryRun: String?

    @Option(name: .customLong("wait-lock"), help: "Seconds to wait when another run holds the history's lock (default: do not wait).")
    var waitLock: Double?

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .customLong("verification-time"), help: ArgumentHelp("Judge certificates as at this ISO 8601 time (labs and tests).", visibility: .hidden))
    var verificationTime: String?

    @Option(name: .customLong("send-backoff"), help: ArgumentHelp("Seconds before the first resend after a 4xx reply.", visibility: .hidden))
    var sendBackoff: Double = 10

    func validate() throws {
        if let waitLock, let problem = SecondsOption.problem("--wait-lock", waitLock, atMost: 86_400, zeroAllowed: true) { throw ValidationError(problem) }
        if let problem = SecondsOption.problem("--send-backoff", sendBackoff, atMost: 600, zeroAllowed: true) { throw ValidationError(problem) }
        if let verificationTime, ISO8601DateFormatter().date(from: verificationTime) == nil {
            throw ValidationError("--verification-time \"\(verificationTime)\" is not an ISO 8601 time")
        }
    }

    func run() async throws {
        let configuration = try ConfigLoading.load(config)
        var pipeline = RunPipeline(configuration: configuration, dryRunPath: dryRun,
                                   lockMode: waitLock.map { .wait(timeout: .seconds($0)) } ?? .fail)
        pipeline.sendBackoff = .seconds(sendBackoff)
        pipeline.verificationTime = verificationTime.flatMap { ISO8601DateFormatter().date(from: $0) }
        let outcome: RunPipeline.Outcome
        do { outcome = try await pipeline.run() } catch {
            FileHandle.standardError.write(Data("mailaudit run: \("\(error)".terminalSafe)\n".utf8))
            if case RunError.password = error { throw ExitCode(2) }
            throw ExitCode(3)
        }
        switch format {
        case .json: print(RunSummaryJSON.render(outcome))
        case .text:
            print(RunTextRenderer.render(outcome.report), terminator: "")
            print(RunSummaryJSON.deliveryLine(outcome.delivery))
            if outcome.delivery == .failed, let walk = outcome.sendWalks.last {
                print("\nThe report could not be sent. Relay diagnosis:\n")
                print(RelayTextRenderer(color: false).render(walk), terminator: "")
            }
        }
        if outcome.delivery == .failed { throw ExitCode(4) }
        if outcome.report.audit.couldNotAudit { throw ExitCode(3) }
        if outcome.exitCode != 0 { throw ExitCode(outcome.exitCode) }
    }
}

/// `mailaudit run --format json`: the run's summary.
enum RunSummaryJSON {
    struct Document: Encodable {
        var schemaVersion = 1
        var runId: String
        var host: String
        var startedAt: Date
        var summary: SeverityCounts
        var domains: [Domain]
        var changes: [FindingChange]
        var firstRun: [String]
        var incomplete: [String]
        var delivery: Delivery
        var sendDiagnosis: RelayReport?
        var exitCode: Int32
    }

    struct Domain: Encodable {
        var domain: String
        var summary: SeverityCounts
        var changes: Int
        var previousRunId: String?
    }

    struct Delivery: Encodable {
        var status: String
        var detail: String?
    }

    static func render(_ outcome: RunPipeline.Outcome) -> String {
        let report = outcome.report
        let (status, detail): (String, String?) = switch outcome.delivery {
        case .sent: ("sent", nil)
        case .notNeeded(let reason): ("not-sent", reason)
        case .dryRun(let path): ("dry-run", path)
        case .failed: ("failed", outcome.sendWalks.last?.firstFailure.map { "\($0.step) (\($0.category))" })
        }
        return JSONRenderer.encode(Document(
            runId: report.runID, host: report.host, startedAt: report.audit.startedAt, summary: report.counts,
            domains: report.audit.domains.map { domain in
                Domain(domain: domain.domain.description, summary: domain.counts, changes: report.changes(for: domain.domain.description).count,
                       previousRunId: report.previousRuns[domain.domain.description])
            },
            changes: report.changes, firstRun: report.firstRun, incomplete: report.incomplete, delivery: Delivery(status: status, detail: detail),
            sendDiagnosis: outcome.delivery == .failed ? outcome.sendWalks.last : nil,
            exitCode: outcome.delivery == .failed ? 4 : report.audit.couldNotAudit ? 3 : outcome.exitCode))
    }

    static func deliveryLine(_ delivery: RunPipeline.Outcome.Delivery) -> String {
        switch delivery {
        case .sent: "\nReport sent."
        case .notNeeded(let reason): "\nReport not sent: \(reason)."
        case .dryRun(let path): "\nReport written to \(path) (--dry-run; the run was not stored)."
        case .failed: "\nReport NOT sent."
        }
    }
}

/// Reads a config, printing every problem and exiting 2 when it is not valid.
enum ConfigLoading {
    static func load(_ path: String) throws -> RunConfiguration {
        do { return try RunConfiguration.load(path: path) } catch {
            FileHandle.standardError.write(Data((error.problems.map { $0.description.terminalSafe }.joined(separator: "\n") + "\n").utf8))
            throw ExitCode(2)
        }
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with run configs.", subcommands: [ConfigCheckCommand.self])
}

struct ConfigCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a run config: every problem with its file, line and key. Exit 0 valid, 2 not.")

    @Argument(help: "The TOML config file.")
    var file: String

    func run() throws {
        let configuration = try ConfigLoading.load(file)
        print("\(file): valid — \(configuration.domains.count) domain\(configuration.domains.count == 1 ? "" : "s"), "
              + "report \(configuration.report.send.rawValue)")
    }
}
