import ArgumentParser
import Foundation
import MailAudit
import MailAuditDNS
import MailAuditRecords

struct DKIMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Check a domain's DKIM keys, and whether a private key matches the published one.",
        discussion: """
            Without --selector, common selectors are tried (docs/checks.md lists them). \
            With --private-key, the key published at the one --selector is compared with the public half \
            of the private key; the file is only read, never printed. \
            Exit codes: 0 no failures (the keys match); 1 failures (a mismatch, a bad key); \
            2 usage or bad input (an unreadable key file included); 3 DNS could not be asked, or the \
            selector's lookup failed so nothing could be compared.
            """)

    @Argument(help: "The signing domain (the d= of the DKIM-Signature), for example example.com.")
    var domain: String

    @Option(name: .customLong("selector"), help: "A selector to check (the s= of the DKIM-Signature). Repeatable.")
    var selectors: [String] = []

    @Option(name: .customLong("private-key"), help: "A PEM private key file to compare with the key published at --selector.")
    var privateKey: String?

    @OptionGroup var dns: DNSOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(name: .shortAndLong, help: "Show evidence for every finding, passing ones too.")
    var verbose = false

    func validate() throws {
        var problems = dns.problems
        var name: DomainName?
        do throws(DomainNameError) { name = try DomainName(parsing: domain) } catch {
            problems.append("\"\(domain)\": \(error)")
        }
        for selector in selectors where DKIMSelector.recordName(selector, domain: name ?? DomainName(labels: ["example", "com"])) == nil {
            problems.append("--selector \"\(selector)\" is not a selector: DNS labels (letters, digits, hyphens, underscores) separated by dots")
        }
        if let privateKey {
            if selectors.count != 1 { problems.append("--private-key needs exactly one --selector, the one the key signs with") }
            if !FileManager.default.isReadableFile(atPath: privateKey) { problems.append("--private-key \"\(privateKey)\" cannot be read") }
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        guard let name = try? DomainName(parsing: domain) else { throw ExitCode(2) }
        let nameservers = try dns.nameservers()
        let resolver = dns.resolver(nameservers)
        let clock = ContinuousClock()
        let startedAt = Date()
        let start = clock.now
        let result: DKIMResult
        var findings: [Finding]
        if let privateKey, let selector = selectors.first {
            let (checked, match) = await DKIMLookup(resolver: resolver).matchPrivateKey(atPath: privateKey, selector: selector, domain: name)
            result = checked
            findings = checked.findings + [match].compactMap { $0 }
            if match?.id == "dkim.private-key-unreadable" {
                FileHandle.standardError.write(Data("mailaudit: \((match?.message ?? "cannot read the private key").terminalSafe)\n".utf8))
                throw ExitCode(2)
            }
        } else {
            result = await DKIMLookup(resolver: resolver, selectors: selectors).run(for: name)
            findings = result.findings
        }
        let answered = result.selectors.contains { selector in
            switch selector.answer?.outcome {
            case .timeout, .networkError, nil: false
            default: true
            }
        }
        let statistics = await resolver.statistics()
        let report = AuditReport(
            toolVersion: MailAuditVersion.current, startedAt: startedAt, duration: clock.now - start,
            resolvers: nameservers.map(\.description),
            domains: [DomainReport(domain: name, findings: findings.map { $0.scoped(to: name) }, resolverAnswered: answered)],
            dns: statistics)
        // A key match that could not be checked (the lookup failed) is "could not be done".
        let code = privateKey != nil && !result.isComplete ? 3 : report.exitCode(failOn: .failure)
        switch format {
        case .json: print(JSONRenderer.render(report, exitCode: code))
        case .text: print(TextRenderer(color: false, verbose: verbose).render(report), terminator: "")
        }
        if report.couldNotAudit {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver answered (\(nameservers.map(\.description).joined(separator: ", ")))\n".utf8))
        }
        if code != 0 { throw ExitCode(code) }
    }
}
