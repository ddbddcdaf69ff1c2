import ArgumentParser
import MailAudit
import MailAuditCore
import MailAuditRecords

/// The choices `audit` and `check-zone` share: what to check, for how long, and how to report it.
struct AuditChoices: ParsableArguments {
    @Option(name: .customLong("ip"), help: "An address that sends the domain's mail, checked for reverse DNS. Repeatable.")
    var sendingAddresses: [String] = []

    @Option(name: .customLong("selector"), help: "A DKIM selector to check (repeatable). Default: try the common selectors.")
    var selectors: [String] = []

    @Option(help: "Checks to run, comma-separated: \(AuditCheck.names) (default all).")
    var checks: String?

    @Option(help: "Seconds the audit may take (with jsonl and csv: each domain); what is unfinished then is reported inconclusive.")
    var deadline: Double = 60

    @Option(name: .customLong("fail-on"), help: "Exit 1 on: failure (default), warning (failures or warnings), inconclusive (any of the three).")
    var failOn: FailThreshold = .failure

    @Flag(help: "Treat private and loopback MX addresses as information, for lab and intranet domains.")
    var allowPrivateAddresses = false

    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Show evidence for every finding, passing ones too.")
    var verbose = false

    /// Every problem with these options, for the command's validate().
    var problems: [String] {
        var problems: [String] = []
        if let checks, case .failure(let problem) = AuditCommand.parseChecks(checks) { problems.append(problem.description) }
        if let problem = SecondsOption.problem("--deadline", deadline, atMost: 3600) { problems.append(problem) }
        for selector in selectors where DKIMSelector.recordName(selector, domain: DomainName(labels: ["example", "com"])) == nil {
            problems.append("--selector \"\(selector.terminalSafe)\" is not a selector: DNS labels (letters, digits, hyphens, underscores) separated by dots")
        }
        for text in sendingAddresses where IPAddress(text) == nil {
            problems.append("--ip \"\(text.terminalSafe)\" is not an IPv4 or IPv6 address")
        }
        return problems
    }

    /// Sets what these options choose in `options`.
    func apply(to options: inout AuditOptions) {
        if let checks, case .success(let selected) = AuditCommand.parseChecks(checks) { options.checks = selected }
        options.sendingAddresses = sendingAddresses.compactMap(IPAddress.init)
        options.allowPrivateAddresses = allowPrivateAddresses
        options.dkimSelectors = selectors
        options.deadline = .milliseconds(Int(deadline * 1000))
    }

    /// The severity from which the exit code is 1.
    var threshold: Severity {
        switch failOn {
        case .failure: .failure
        case .warning: .warning
        case .inconclusive: .inconclusive
        }
    }

    /// The text report as these options ask for it.
    var textRenderer: TextRenderer { TextRenderer(color: color.isEnabled, verbose: verbose) }
}
