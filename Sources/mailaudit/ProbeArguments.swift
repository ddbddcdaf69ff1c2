import ArgumentParser
import Foundation
import MailAudit

/// `--ehlo-name` of the audit and of `relay`: checked as a domain name, and sent as what it was
/// checked as, its A-labels without the root's trailing dot (`Bücher.Example.` is sent as
/// `xn--bcher-kva.example`): EHLO takes an ASCII domain (RFC 5321 §4.1.1.1, §2.3.5).
enum EHLOOption {
    static func problem(_ name: String?) -> String? {
        guard let name, (try? DomainName(parsing: name)) == nil else { return nil }
        return "--ehlo-name \"\(name.terminalSafe)\" is not a host name"
    }

    /// The name to send: the A-label form of `name`, or this host's name when none was given.
    static func wireName(_ name: String?) -> String {
        guard let name else { return EHLOName.local }
        return (try? DomainName(parsing: name))?.description ?? name
    }
}

/// The options of the MX probe.
struct ProbeArguments: ParsableArguments {
    @Flag(name: .customLong("no-probe"), help: "Do not connect to the MX hosts (MTA-STS policies and BIMI documents are still fetched over HTTPS).")
    var noProbe = false

    @Option(name: .customLong("smtp-port"), help: "The port to probe (labs); 25 by default.")
    var smtpPort: Int = 25

    @Option(name: .customLong("https-port"), help: "The port of the MTA-STS policy host (labs); 443 by default.")
    var httpsPort: Int = 443

    @Option(name: .customLong("ehlo-name"), help: "The name to give in EHLO. Default: this host's name.")
    var ehloName: String?

    @Option(name: .customLong("ca-file"), help: "PEM roots to trust instead of the system store.")
    var caFile: String?

    @Option(name: .customLong("expiry-warning-days"), help: "Warn when a certificate expires within this many days.")
    var expiryWarningDays: Int = 14

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for a TCP connection.")
    var connectTimeout: Double = 10

    @Option(name: .customLong("greeting-timeout"), help: "Seconds to wait for the 220 greeting; long, for tarpits.")
    var greetingTimeout: Double = 45

    @Option(name: .customLong("probes-per-network"), help: "At most this many MX probes at once into one IPv4 /24 or IPv6 /64.")
    var probesPerNetwork: Int = 4

    @Option(name: .customLong("verification-time"), help: ArgumentHelp("Judge certificates as at this ISO 8601 time (labs and tests).", visibility: .hidden))
    var verificationTime: String?

    var problems: [String] {
        var problems: [String] = []
        if !(1...65535).contains(smtpPort) { problems.append("--smtp-port must be between 1 and 65535") }
        if !(1...65535).contains(httpsPort) { problems.append("--https-port must be between 1 and 65535") }
        if let problem = EHLOOption.problem(ehloName) { problems.append(problem) }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) { problems.append("--ca-file \"\(caFile)\" cannot be read") }
        if !(0...3650).contains(expiryWarningDays) { problems.append("--expiry-warning-days must be between 0 and 3650") }
        if let problem = SecondsOption.problem("--connect-timeout", connectTimeout, atMost: 300) { problems.append(problem) }
        if !(1...64).contains(probesPerNetwork) { problems.append("--probes-per-network must be between 1 and 64") }
        if let problem = SecondsOption.problem("--greeting-timeout", greetingTimeout, atMost: 600) { problems.append(problem) }
        if let verificationTime, ISO8601DateFormatter().date(from: verificationTime) == nil {
            problems.append("--verification-time \"\(verificationTime)\" is not an ISO 8601 time such as 2030-01-01T00:00:00Z")
        }
        return problems
    }

    /// How MTA-STS policies are fetched; they are fetched under --no-probe too.
    var mtaSTSOptions: MTASTSOptions {
        var options = MTASTSOptions()
        options.httpsPort = UInt16(clamping: httpsPort)
        options.caFile = caFile
        return options
    }

    /// The probe options, or nil under --no-probe.
    var options: ProbeOptions? {
        guard !noProbe else { return nil }
        var options = ProbeOptions(ehloName: EHLOOption.wireName(ehloName))
        options.port = UInt16(clamping: smtpPort)
        options.caFile = caFile
        options.expiryWarningDays = expiryWarningDays
        options.verificationTime = verificationTime.flatMap { ISO8601DateFormatter().date(from: $0) }
        options.timeouts.connect = .milliseconds(Int(connectTimeout * 1000))
        options.timeouts.greeting = .milliseconds(Int(greetingTimeout * 1000))
        options.maximumPerNetwork = probesPerNetwork
        return options
    }
}
