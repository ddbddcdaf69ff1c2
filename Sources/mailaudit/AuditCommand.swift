import ArgumentParser
import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditRecords
import MailAuditTLS

enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }
/// The audit's formats: the whole-report views (text, json, and junit and sarif for CI), and the two streamed ones.
enum AuditFormat: String, ExpressibleByArgument, CaseIterable { case text, json, jsonl, csv, junit, sarif }
enum FailThreshold: String, ExpressibleByArgument, CaseIterable { case failure, warning, inconclusive }
enum ColorChoice: String, ExpressibleByArgument, CaseIterable { case auto, always, never }

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Audit one or more domains (the default command).")

    @Argument(help: "Domains to audit, for example example.com or bücher.example.")
    var domains: [String] = []

    @OptionGroup var dns: DNSOptions

    @OptionGroup var choices: AuditChoices

    @Option(name: .customLong("dnsbl"), help: "A DNS blocklist zone to check every MX and --ip address on, e.g. zen.spamhaus.org (repeatable; none by default; the list's terms of use apply).")
    var dnsblZones: [String] = []

    @OptionGroup(title: "MX probe (port 25, STARTTLS; no mail is ever sent)") var probe: ProbeArguments

    @Option(name: .customLong("domains-file"), help: "Read domains from this file, one a line (# comments, blank lines skipped); - reads standard input.")
    var domainsFile: String?

    @Option(help: "With jsonl or csv: how many domains are audited at once.")
    var concurrency: Int = 64

    @Option(help: "Take only the K-th of N parts of the list (0-based, by a stable hash of the domain), e.g. 0/4.")
    var shard: String?

    @Option(help: "Output format: text or json (the whole report at the end), jsonl or csv (one line a domain as each finishes), junit (JUnit XML: a test suite per domain, a test case per check area) or sarif (SARIF 2.1.0 for code scanning).")
    var format: AuditFormat = .text

    /// The severity from which the exit code is 1.
    var threshold: Severity { choices.threshold }

    @Flag(name: .customLong("show-libraries"), help: "Print the versions of the linked ldns and OpenSSL and exit.")
    var showLibraries = false

    func validate() throws {
        var problems: [String] = []
        if domains.isEmpty && domainsFile == nil && !showLibraries { problems.append("give at least one domain to audit, or --domains-file") }
        if let domainsFile, domainsFile != "-", !FileManager.default.isReadableFile(atPath: domainsFile) {
            problems.append("--domains-file \"\(domainsFile.terminalSafe)\" cannot be read")
        }
        if let shard, Self.parseShard(shard) == nil { problems.append("--shard \"\(shard.terminalSafe)\" is not K/N with 0 ≤ K < N ≤ 100000, for example 0/4") }
        if !(1...4096).contains(concurrency) { problems.append("--concurrency must be between 1 and 4096") }
        problems += dns.problems + choices.problems + probe.problems
        for domain in domains {
            do throws(DomainNameError) { _ = try DomainName(parsing: domain) } catch {
                problems.append("\"\(domain)\": \(error)")
            }
        }
        for zone in dnsblZones {
            do throws(DNSBLZoneError) { _ = try DNSBLZone.parse(zone) } catch { problems.append("--dnsbl \"\(zone.terminalSafe)\": \(error)") }
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        if showLibraries {
            print("mailaudit \(MailAuditVersion.current)\n\(DNSLibrary.versionString)\n\(TLSLibrary.versionString)")
            return
        }
        let nameservers = try dns.nameservers()
        var options = AuditOptions()
        choices.apply(to: &options)
        options.trustResolverAD = dns.trustResolverAD
        // Validation costs a DS and a DNSKEY question per zone: only when a check reads it.
        if !options.checks.isDisjoint(with: [.dnssec, .dane]) { options.trustAnchors = dns.trustAnchors() }
        options.dnsblZones = dnsblZones.compactMap { try? DNSBLZone.parse($0) }
        options.probe = probe.options
        options.mtaSTS = probe.mtaSTSOptions
        if format == .jsonl || format == .csv {
            return try await stream(options: options, nameservers: nameservers)
        }
        var seen = Set<DomainName>()
        var names = domains.compactMap { try? DomainName(parsing: $0) }
        if let domainsFile { names += try await readAll(domainsFile) }
        names = names.filter { seen.insert($0).inserted && inShard($0) }

        let report = await Audit.run(names, options: options, resolver: dns.resolver(nameservers, validating: options.trustAnchors != nil), resolverNames: nameservers.map(\.description))

        switch format {
        case .json: print(JSONRenderer.render(report, failOn: threshold))
        case .junit: print(JUnitRenderer.render(report, failOn: threshold), terminator: "")
        case .sarif: print(SARIFRenderer.render(report))
        case .text, .jsonl, .csv: print(choices.textRenderer.render(report), terminator: "")
        }
        if report.couldNotAudit {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver answered (\(nameservers.map(\.description).joined(separator: ", ")))\n".utf8))
        }
        let code = report.exitCode(failOn: threshold)
        if code != 0 { throw ExitCode(code) }
    }

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
