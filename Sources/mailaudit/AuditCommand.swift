import ArgumentParser
import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditRecords
import MailAuditTLS

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
enum FailThreshold: String, ExpressibleByArgument, CaseIterable { case failure, warning, inconclusive }
enum ColorChoice: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit one or more domains (the default command).")

    @Argument(help: "Domains to audit, for example example.com or bücher.example.")
    var domains: [String] = []

    @OptionGroup var dns: DNSOptions

    @Option(name: .customLong("ip"), help: "An address that sends the domain's mail, checked for reverse DNS. Repeatable.")
    var sendingAddresses: [String] = []

    @Option(name: .customLong("selector"), help: "A DKIM selector to check (repeatable). Default: try the common selectors.")
    var selectors: [String] = []

    @OptionGroup(title: "MX probe (port 25, STARTTLS; no mail is ever sent)") var probe: ProbeArguments

    @Option(help: "Seconds the whole audit may take; what is unfinished then is reported inconclusive.")
    var deadline: Double = 60

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Option(name: .customLong("fail-on"), help: "Exit 1 on: failure (default), warning (failures or warnings), inconclusive (any of the three).")
    var failOn: FailThreshold = .failure

    @Flag(help: "Treat private and loopback MX addresses as information, for lab and intranet domains.")
    var allowPrivateAddresses = false

    @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Show evidence for every finding, passing ones too.")
    var verbose = false

    @Flag(name: .customLong("show-libraries"), help: "Print the versions of the linked ldns and OpenSSL and exit.")
    var showLibraries = false

    func validate() throws {
        var problems: [String] = []
        if domains.isEmpty && !showLibraries { problems.append("give at least one domain to audit") }
        problems += dns.problems + probe.problems
        if !(deadline > 0 && deadline <= 3600) { problems.append("--deadline must be between 0 and 3600 seconds") }
        for domain in domains {
            do throws(DomainNameError) { _ = try DomainName(parsing: domain) } catch {
                problems.append("\"\(domain)\": \(error)")
            }
        }
        for selector in selectors where DKIMSelector.recordName(selector, domain: DomainName(labels: ["example", "com"])) == nil {
            problems.append("--selector \"\(selector)\" is not a selector: DNS labels (letters, digits, hyphens, underscores) separated by dots")
        }
        for text in sendingAddresses where IPAddress(text) == nil {
            problems.append("--ip \"\(text)\" is not an IPv4 or IPv6 address")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        if showLibraries {
            print("mailaudit \(MailAuditVersion.current)\n\(DNSLibrary.versionString)\n\(TLSLibrary.versionString)")
            return
        }
        var seen = Set<DomainName>()
        let names = domains.compactMap { try? DomainName(parsing: $0) }.filter { seen.insert($0).inserted }
        let nameservers = try dns.nameservers()
        var options = AuditOptions()
        options.sendingAddresses = sendingAddresses.compactMap(IPAddress.init)
        options.allowPrivateAddresses = allowPrivateAddresses
        options.dkimSelectors = selectors
        options.probe = probe.options
        options.deadline = .milliseconds(Int(deadline * 1000))

        let report = await Audit.run(names, options: options, resolver: dns.resolver(nameservers), resolverNames: nameservers.map(\.description))

        let threshold: Severity = switch failOn {
        case .failure: .failure
        case .warning: .warning
        case .inconclusive: .inconclusive
        }
        switch format {
        case .json: print(JSONRenderer.render(report, failOn: threshold))
        case .text: print(TextRenderer(color: useColor, verbose: verbose).render(report), terminator: "")
        }
        if report.couldNotAudit {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver answered (\(nameservers.map(\.description).joined(separator: ", ")))\n".utf8))
        }
        let code = report.exitCode(failOn: threshold)
        if code != 0 { throw ExitCode(code) }
    }

    private var useColor: Bool { color.isEnabled }
}

extension ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set (https://no-color.org), or as forced.
    var isEnabled: Bool {
        switch self {
        case .always: true
        case .never: false
        case .auto: ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true && isatty(STDOUT_FILENO) == 1
        }
    }
}
