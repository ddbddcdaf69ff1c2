import ArgumentParser
import Foundation
import MailAudit
import MailAuditConfig
import MailAuditCore
import MailAuditSMTP

enum RelaySecurityChoice: String, ExpressibleByArgument, CaseIterable { case auto, starttls, implicit, none }

struct RelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Diagnose an SMTP relay step by step (DNS, TCP, greeting, EHLO, TLS, AUTH, MAIL, RCPT, DATA) and name the first failure.",
        discussion: """
            The password comes from --password-env VAR, --password-file FILE, or a prompt on a terminal; never from the \
            command line. Nothing is sent unless --send-test is given: the envelope is tried and reset.
            Exit codes: 0 the relay works for the steps walked; 1 a step failed; 2 usage or bad input; \
            3 nothing failed but a step could not be checked (for example the DNS resolver did not answer).
            """)

    @Argument(help: "The relay, as HOST, HOST:PORT, an address, or [IPv6]:PORT. Without a port, 587, 465, 25 and 2525 are tried at once.")
    var relay: String

    @Option(help: "The user name for AUTH.")
    var user: String?

    @Option(name: .customLong("password-env"), help: "The environment variable that holds the password.")
    var passwordEnv: String?

    @Option(name: .customLong("password-file"), help: "A file whose first line is the password.")
    var passwordFile: String?

    @Option(help: "The envelope sender for MAIL FROM.")
    var from: String?

    @Option(help: "The envelope recipient for RCPT TO.")
    var to: String?

    @Option(help: "auto (implicit TLS on 465, STARTTLS elsewhere), starttls, implicit or none.")
    var security: RelaySecurityChoice = .auto

    @Flag(name: .customLong("send-test"), help: "Really send a short test message to --to.")
    var sendTest = false

    @Option(name: .customLong("ca-file"), help: "PEM roots to trust instead of the system store (a private CA).")
    var caFile: String?

    @Option(name: .customLong("ehlo-name"), help: "The name to give in EHLO. Default: this host's name.")
    var ehloName: String?

    @Flag(help: "Send credentials even over TLS whose certificate did not verify (a warning is printed).")
    var insecure = false

    @Flag(name: .customLong("allow-plaintext-auth"), help: "Send credentials even without TLS (a warning is printed).")
    var allowPlaintextAuth = false

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for each TCP connection.")
    var connectTimeout: Double = 10

    @Option(name: .customLong("greeting-timeout"), help: "Seconds to wait for the greeting.")
    var greetingTimeout: Double = 20

    @Option(name: .customLong("command-timeout"), help: "Seconds to wait for each reply and for the TLS handshake.")
    var commandTimeout: Double = 20

    @Option(help: "Seconds the whole diagnosis may take.")
    var deadline: Double = 120

    @Option(name: .customLong("expiry-warning-days"), help: "Warn when the certificate expires within this many days.")
    var expiryWarningDays: Int = 14

    @Option(name: .customLong("verification-time"), help: ArgumentHelp("Judge certificates as at this ISO 8601 time (labs and tests).", visibility: .hidden))
    var verificationTime: String?

    @OptionGroup var dns: DNSOptions

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    @Flag(help: "Print the SMTP transcript (AUTH redacted).")
    var transcript = false

    @Option(help: "Colour: auto (on a terminal unless NO_COLOR is set), always or never.")
    var color: ColorChoice = .auto

    @Flag(name: .shortAndLong, help: "Evidence for every step, passing ones too.")
    var verbose = false

    func validate() throws {
        var problems = dns.problems
        switch RelayTarget.parse(relay) {
        case .failure(let problem): problems.append(problem.description)
        case .success: break
        }
        if let problem = EHLOOption.problem(ehloName) { problems.append(problem) }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { problems.append("--ca-file \"\(caFile)\" cannot be read") }
        if passwordEnv != nil && passwordFile != nil { problems.append("give --password-env or --password-file, not both") }
        if (passwordEnv != nil || passwordFile != nil) && user == nil { problems.append("a password was given without --user") }
        if let user, user.isEmpty || user.contains(where: { $0.isNewline }) { problems.append("--user must be one non-empty line") }
        for (flag, address) in [("--from", from), ("--to", to)] {
            if let address, !RelayTarget.isMailbox(address, allowEmpty: flag == "--from") {
                problems.append("\(flag) \"\(address.terminalSafe)\" is not an address such as name@example.com")
            }
        }
        if to != nil && from == nil { problems.append("--to needs --from: RCPT comes after MAIL") }
        if sendTest && (from == nil || to == nil) { problems.append("--send-test needs --from and --to") }
        for (flag, value, limit) in [("--connect-timeout", connectTimeout, 300.0), ("--greeting-timeout", greetingTimeout, 600),
                                     ("--command-timeout", commandTimeout, 600), ("--deadline", deadline, 3600)] {
            if let problem = SecondsOption.problem(flag, value, atMost: limit) { problems.append(problem) }
        }
        if !(0...3650).contains(expiryWarningDays) { problems.append("--expiry-warning-days must be between 0 and 3650") }
        if let verificationTime, ISO8601DateFormatter().date(from: verificationTime) == nil {
            problems.append("--verification-time \"\(verificationTime)\" is not an ISO 8601 time")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        guard case .success(let target) = RelayTarget.parse(relay) else { throw ExitCode(2) }
        var options = RelayOptions(host: target.host, ehloName: EHLOOption.wireName(ehloName))
        options.port = target.port
        options.security = RelaySecurity(rawValue: security.rawValue) ?? .auto
        options.user = user
        if user != nil { options.password = try PasswordSource(environment: passwordEnv, file: passwordFile).secret() }
        // "<>" is the null reverse-path (RFC 5321 §4.5.5); the session adds the brackets itself.
        options.from = from == "<>" ? "" : from
        options.to = to
        options.sendTest = sendTest
        options.caFile = caFile
        options.credentialPolicy = CredentialPolicy(allowUnverifiedTLS: insecure, allowPlaintext: allowPlaintextAuth)
        if insecure { warn("--insecure: credentials may be sent over TLS whose certificate did not verify") }
        if allowPlaintextAuth { warn("--allow-plaintext-auth: credentials may be sent without TLS, readable by anyone on the path") }
        options.timeouts = SMTPTimeouts(
            connect: .seconds(connectTimeout), greeting: .seconds(greetingTimeout), command: .seconds(commandTimeout),
            tlsHandshake: .seconds(commandTimeout), data: .seconds(max(commandTimeout, 60)), total: .seconds(deadline))
        options.expiryWarningDays = expiryWarningDays
        options.verificationTime = verificationTime.flatMap { ISO8601DateFormatter().date(from: $0) }

        let needsDNS = IPAddress(target.host) == nil
        let resolver = dns.resolver(needsDNS ? try dns.nameservers() : [])
        let report = await RelayDiagnosis(resolver: resolver, options: options).run()
        switch format {
        case .json: print(JSONRenderer.encode(report))
        case .text: print(RelayTextRenderer(color: useColor, verbose: verbose, transcript: transcript).render(report), terminator: "")
        }
        throw ExitCode(report.exitCode)
    }

    private var useColor: Bool { color.isEnabled }

    private func warn(_ text: String) {
        FileHandle.standardError.write(Data("mailaudit: warning: \(text)\n".utf8))
    }
}
