import ArgumentParser
import Foundation
import MailAudit
import MailAuditDNS
import MailAuditRecords

struct SPFCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spf",
        abstract: "Evaluate SPF for one sending address: RFC 7208 check_host(), with the terms that decided.",
        discussion: """
            Exit codes: 0 pass; 1 fail, softfail, neutral, none or permerror; 2 usage or bad input; \
            3 temperror (a DNS lookup failed, so the check could not be done).
            """)

    @Argument(help: "The domain whose SPF policy is checked (the MAIL FROM or HELO domain).")
    var domain: String

    @Option(name: .customLong("ip"), help: "The SMTP client's address.")
    var ip: String

    @Option(help: "The MAIL FROM address, local@domain. Default: postmaster@DOMAIN.")
    var sender: String?

    @Option(help: "The HELO/EHLO name, for %{h} macros.")
    var helo: String?

    @OptionGroup var dns: DNSOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(name: .shortAndLong, help: "Print every step of the evaluation, not only the deciding ones.")
    var verbose = false

    func validate() throws {
        var problems = dns.problems
        do throws(DomainNameError) { _ = try DomainName(parsing: domain) } catch {
            problems.append("\"\(domain)\": \(error)")
        }
        if IPAddress(ip) == nil { problems.append("--ip \"\(ip)\" is not an IPv4 or IPv6 address") }
        if let sender, sender.isEmpty || sender.contains(" ") { problems.append("--sender \"\(sender)\" is not an address") }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        guard let name = try? DomainName(parsing: domain), let address = IPAddress(ip) else { throw ExitCode(2) }
        let resolver = dns.resolver(try dns.nameservers())
        let senderAddress = sender ?? "postmaster@\(name)"
        let evaluation = await SPFEvaluator(resolver: resolver).checkHost(ip: address, domain: name, sender: senderAddress, helo: helo)
        let statistics = await resolver.statistics()
        switch format {
        case .json:
            print(SPFEvaluationJSON.render(evaluation, ip: address, sender: senderAddress, helo: helo, dns: statistics))
        case .text:
            print("check_host(\(address), \(name), \(senderAddress)) = \(evaluation.result)".terminalSafe)
            if let problem = evaluation.problem { print("because: \(problem)".terminalSafe) }
            if let explanation = evaluation.explanation { print("explanation: \(explanation)".terminalSafe) }
            print(verbose ? "every step:" : "the terms that decided:")
            for step in verbose ? evaluation.trace : evaluation.decidingSteps {
                print(String(repeating: "  ", count: step.depth + 1) + step.description.terminalSafe)
            }
            print("\(evaluation.lookupTerms) lookup terms, \(evaluation.voidLookups) void lookups · \(statistics.queriesSent) DNS queries")
        }
        switch evaluation.result {
        case .pass: return
        case .temperror: throw ExitCode(3)
        default: throw ExitCode(1)
        }
    }
}

/// The JSON document of `mailaudit spf` (docs/json-output.md, "spf").
enum SPFEvaluationJSON {
    struct Document: Encodable {
        var schemaVersion = 1
        var domain: String
        var ip: String
        var sender: String
        var helo: String?
        var result: String
        var problem: String?
        var explanation: String?
        var lookupTerms: Int
        var voidLookups: Int
        var decidingSteps: [String]
        var trace: [String]
        var dns: ResolverStatistics

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(schemaVersion, forKey: .schemaVersion)
            try container.encode(domain, forKey: .domain)
            try container.encode(ip, forKey: .ip)
            try container.encode(sender, forKey: .sender)
            try container.encode(helo, forKey: .helo)
            try container.encode(result, forKey: .result)
            try container.encode(problem, forKey: .problem)
            try container.encode(explanation, forKey: .explanation)
            try container.encode(lookupTerms, forKey: .lookupTerms)
            try container.encode(voidLookups, forKey: .voidLookups)
            try container.encode(decidingSteps, forKey: .decidingSteps)
            try container.encode(trace, forKey: .trace)
            try container.encode(dns, forKey: .dns)
        }

        enum CodingKeys: String, CodingKey {
            case schemaVersion, domain, ip, sender, helo, result, problem, explanation, lookupTerms, voidLookups
            case decidingSteps, trace, dns
        }
    }

    static func render(_ evaluation: SPFEvaluation, ip: IPAddress, sender: String, helo: String?, dns: ResolverStatistics) -> String {
        let document = Document(
            domain: evaluation.domain.description, ip: ip.description, sender: sender, helo: helo,
            result: evaluation.result.rawValue, problem: evaluation.problem?.description, explanation: evaluation.explanation,
            lookupTerms: evaluation.lookupTerms, voidLookups: evaluation.voidLookups,
            decidingSteps: evaluation.decidingSteps.map(\.description), trace: evaluation.trace.map(\.description), dns: dns)
        return JSONRenderer.encode(document)
    }
}
