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

    @OptionGroup var choices: AuditChoices

    @OptionGroup(title: "MX probe (with --probe)") var probe: ProbeArguments

    @Option(help: "Output format: text, json, junit (JUnit XML) or sarif (SARIF 2.1.0, each finding at its record's line).")
    var format: AuditFormat = .text

    func validate() throws {
        var problems: [String] = []
        if !FileManager.default.isReadableFile(atPath: file) { problems.append("the zone file \"\(file.terminalSafe)\" cannot be read") }
        if let origin {
            do throws(DomainNameError) { _ = try DomainName(parsing: origin) } catch { problems.append("--origin \"\(origin.terminalSafe)\": \(error)") }
        }
        if format == .jsonl || format == .csv { problems.append("--format \(format.rawValue) streams many domains; check-zone audits one: use json") }
        if offline && probeHosts { problems.append("--probe needs the network: drop --offline or --probe") }
        problems += dns.problems + choices.problems + probe.problems
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
        choices.apply(to: &options)
        options.trustResolverAD = dns.trustResolverAD
        options.probe = probeHosts ? probe.options : nil
        options.mtaSTS = probe.mtaSTSOptions
        options.offline = offline

        let nameservers = offline ? [] : try dns.nameservers()
        let live = offline ? nil : dns.resolver(nameservers)
        let report = await ZoneAudit.run(zone, options: options, live: live, resolverNames: nameservers.map(\.description))
        let threshold = choices.threshold
        switch format {
        case .json: print(JSONRenderer.render(report, failOn: threshold))
        case .junit: print(JUnitRenderer.render(report, failOn: threshold), terminator: "")
        case .sarif: print(SARIFRenderer.render(report, locate: ZoneAudit.sourceLocator(zone)))
        case .text, .jsonl, .csv: print(choices.textRenderer.render(report), terminator: "")
        }
        if report.couldNotAudit {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver answered (\(nameservers.map(\.description).joined(separator: ", ")))\n".utf8))
        }
        let code = report.exitCode(failOn: threshold)
        if code != 0 { throw ExitCode(code) }
    }
}
