import ArgumentParser
import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditRecords

/// `mailaudit check-zone FILE`: the audit of a zone file before it is published, for a CI step
/// guarding a DNS repository. The zone's own names are answered from the file; other names
/// through the resolver, or not at all with --offline.
struct CheckZoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-zone",
        abstract: "Audit a zone file before it is published (the mail records of its origin).",
        discussion: """
            Names in the zone are answered from the file: records, CNAME chains, NODATA, NXDOMAIN and \
            wildcards. Names outside it, and below a delegation (an NS record under the apex), are asked \
            of the resolver, or with --offline not looked up: the checks that need them say they could \
            not check. $INCLUDE files are read relative to the including file. The MX hosts are not \
            probed unless --probe is given, as the zone is not published yet. Exit codes are those of \
            the audit; a zone file that cannot be read exits 2 with the line at fault.
            """)

    @Argument(help: "The zone file (RFC 1035 master file format).")
    var file: String

    @Option(help: "The zone's apex. Default: the SOA record's owner, or else the first $ORIGIN.")
    var origin: String?

    @Flag(help: "Look nothing up outside the zone file (no network); what could not be checked is reported inconclusive.")
    var offline = false

    @Flag(name: .customLong("probe"), help: "Probe the MX hosts on port 25 (off by default: the zone is not published yet).")
    var probeHosts = false

    @OptionGroup var dns: DNSOptions

    @Option(name: .customLong("ip"), help: "An address that sends the domain's mail, checked for reverse DNS. Repeatable.")
    var sendingAddresses: [String] = []

    @Option(name: .customLong("selector"), help: "A DKIM selector to check (repeatable). Default: try the common selectors.")
    var selectors: [String] = []

    @Option(help: "Checks to run, comma-separated, as for audit (see mailaudit audit --help); default all.")
    var checks: String?

    @OptionGroup(title: "MX probe (with --probe)") var probe: ProbeArguments

    @Option(help: "Seconds the audit may take; what is unfinished then is reported inconclusive.")
    var deadline: Double = 60

    @Option(help: "Output format: text, json, junit (JUnit XML) or sarif (SARIF 2.1.0, each finding at its record's line).")
    var format: AuditFormat = .text

    @Option(name: .customLong("fail-on"), help: "Exit 1 on: failure (default), warning (failures or warnings), inconclusive (any of the three).")
    var failOn: FailThreshold = .failure

    @Flag(help: "Treat private and loopback MX addresses as information, for lab and intranet domains.")
    var allowPrivateAddresses = false

    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Show evidence for every finding, passing ones too.")
    var verbose = false

    func validate() throws {
        var problems: [String] = []
        if !FileManager.default.isReadableFile(atPath: file) { problems.append("the zone file \"\(file.terminalSafe)\" cannot be read") }
        if let origin {
            do throws(DomainNameError) { _ = try DomainName(parsing: origin) } catch { problems.append("--origin \"\(origin.terminalSafe)\": \(error)") }
        }
        if let checks, case .failure(let problem) = AuditCommand.parseChecks(checks) { problems.append(problem.description) }
        if format == .jsonl || format == .csv { problems.append("--format \(format.rawValue) streams many domains; check-zone audits one: use json") }
        if offline && probeHosts { problems.append("--probe needs the network: drop --offline or --probe") }
        problems += dns.problems + probe.problems
        if let problem = SecondsOption.problem("--deadline", deadline, atMost: 3600) { problems.append(problem) }
        for selector in selectors where DKIMSelector.recordName(selector, domain: DomainName(labels: ["example", "com"])) == nil {
            problems.append("--selector \"\(selector.terminalSafe)\" is not a selector: DNS labels (letters, digits, hyphens, underscores) separated by dots")
        }
        for text in sendingAddresses where IPAddress(text) == nil {
            problems.append("--ip \"\(text.terminalSafe)\" is not an IPv4 or IPv6 address")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        let zone: ZoneFile
        do throws(ZoneFileError) {
            zone = try ZoneFile.read(path: file, origin: origin.flatMap { try? DomainName(parsing: $0) })
        } catch {
            FileHandle.standardError.write(Data("mailaudit: the zone file cannot be read: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var options = AuditOptions()
        if let checks, case .success(let selected) = AuditCommand.parseChecks(checks) { options.checks = selected }
        options.sendingAddresses = sendingAddresses.compactMap(IPAddress.init)
        options.allowPrivateAddresses = allowPrivateAddresses
        options.trustResolverAD = dns.trustResolverAD
        options.dkimSelectors = selectors
        options.probe = probeHosts ? probe.options : nil
        options.mtaSTS = probe.mtaSTSOptions
        options.offline = offline
        options.deadline = .milliseconds(Int(deadline * 1000))

        let nameservers = offline ? [] : try dns.nameservers()
        let live = offline ? nil : dns.resolver(nameservers)
        let report = await ZoneAudit.run(zone, options: options, live: live, resolverNames: nameservers.map(\.description))
        let threshold = AuditCommand.threshold(failOn)
        switch format {
        case .json: print(JSONRenderer.render(report, failOn: threshold))
        case .junit: print(JUnitRenderer.render(report, failOn: threshold), terminator: "")
        case .sarif: print(SARIFRenderer.render(report, locate: ZoneAudit.sourceLocator(zone)))
        case .text, .jsonl, .csv: print(TextRenderer(color: color.isEnabled, verbose: verbose).render(report), terminator: "")
        }
        if report.couldNotAudit {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver answered (\(nameservers.map(\.description).joined(separator: ", ")))\n".utf8))
        }
        let code = report.exitCode(failOn: threshold)
        if code != 0 { throw ExitCode(code) }
    }
}

extension AuditCommand {
    /// The severity `--fail-on` names.
    static func threshold(_ choice: FailThreshold) -> Severity {
        switch choice {
        case .failure: .failure
        case .warning: .warning
        case .inconclusive: .inconclusive
        }
    }
}
