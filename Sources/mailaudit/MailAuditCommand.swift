import ArgumentParser
import MailAudit

struct MailAuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailaudit",
        abstract: "Audit a domain's mail setup: MX, reverse DNS, SPF, DKIM and DMARC, with a finding, evidence and a fix for each problem.",
        discussion: """
            Exit codes: 0 no failures; 1 failures (or warnings under --fail-on warning); \
            2 usage or bad input; 3 the audit could not be done (no resolver answered); \
            5 the output could not be written.
            """,
        version: "mailaudit \(MailAuditVersion.current)",
        subcommands: [AuditCommand.self, CheckZoneCommand.self, SPFCommand.self, DKIMCommand.self, RelayCommand.self, ExplainCommand.self, RunCommand.self, ConfigCommand.self, HistoryCommand.self],
        defaultSubcommand: AuditCommand.self)
}
