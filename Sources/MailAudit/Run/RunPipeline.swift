public import Foundation
public import MailAuditConfig
public import MailAuditCore
import MailAuditDNS
public import MailAuditHistory
import MailAuditRecords
import MailAuditSMTP

/// `mailaudit run`: a whole scheduled run from its configuration. Audits and stores the run,
/// then mails the report when the config's `send` rule says so (or writes it to a file under
/// `--dry-run`). The run is stored before sending, so a report that cannot be delivered loses
/// nothing.
public struct RunPipeline: Sendable {
    public var configuration: RunConfiguration
    /// Write the message here instead of sending it; the run is then compared but not stored.
    public var dryRunPath: String?
    /// What to do when another run holds the history's lock.
    public var lockMode: HistoryLockMode
    /// Relay attempts and the first backoff, for 4xx replies.
    public var sendAttempts = 3
    public var sendBackoff: Duration = .seconds(10)
    /// Judge certificates at this time (labs and tests); nil is now.
    public var verificationTime: Date?

    public init(configuration: RunConfiguration, dryRunPath: String? = nil, lockMode: HistoryLockMode = .fail) {
        self.configuration = configuration
        self.dryRunPath = dryRunPath
        self.lockMode = lockMode
    }

    /// What a run did.
    public struct Outcome: Sendable {
        public enum Delivery: Sendable, Equatable {
            case sent
            case notNeeded(String)
            case dryRun(path: String)
            case failed
        }

        public var report: RunReport
        public var delivery: Delivery
        /// The relay walks of sending, the last one the diagnosis when it failed.
        public var sendWalks: [RelayReport]
        public var failOn: Severity

        /// 0 no failures (by `fail_on`); 1 failures; 3 the audit could not be done; 4 the
        /// report could not be sent.
        /// 4 first: a report that did not go out matters more than what it says.
        public var exitCode: Int32 {
            if delivery == .failed { return 4 }
            return report.audit.exitCode(failOn: failOn)
        }
    }

    public func run() async throws -> Outcome {
        // Everything the mail needs is read first: a missing password fails the run before it audits.
        let mayMail = configuration.report.send != .never && dryRunPath == nil
        let relay = mayMail ? try configuration.relay.map(relayOptions) : nil
        let store = try await Self.openStore(configuration.history)
        do {
            let outcome = try await run(store: store, relay: relay)
            await store.close()
            return outcome
        } catch {
            await store.close()
            throw error
        }
    }

    private func run(store: any HistoryStore, relay: RelayOptions?) async throws -> Outcome {
        let config = configuration
        try await store.migrate()
        let nameservers = config.defaults.resolvers.isEmpty ? try ResolvConf.load().nameservers : config.defaults.resolvers
        let system = config.defaults.resolvers.isEmpty ? try? ResolvConf.load() : nil
        let options = auditOptions()
        let resolver = DNSClient.make(
            nameservers: nameservers, timeout: config.defaults.dnsTimeout ?? system?.timeout ?? .seconds(2),
            attempts: config.defaults.dnsAttempts ?? system?.attempts ?? 3, dnssec: options.trustAnchors == nil ? .off : .validate)
        var scheduled = ScheduledRun(
            domains: config.domains.map { entry in
                RunDomain(
                    domain: entry.name,
                    options: DomainOptions(dkimSelectors: entry.selectors.isEmpty ? nil : entry.selectors,
                                           sendingAddresses: entry.ips.isEmpty ? nil : entry.ips, checks: entry.checks),
                    expectations: DomainExpectations(mx: entry.expectMX?.map(\.description), dmarcPolicy: entry.expectDMARC?.rawValue))
            },
            options: options, resolver: resolver, resolverNames: nameservers.map(\.description), store: store,
            lockMode: lockMode, subjectPrefix: config.report.subjectPrefix)
        scheduled.recordsHistory = dryRunPath == nil
        let report = try await scheduled.run()
        var outcome = Outcome(report: report, delivery: .notNeeded(""), sendWalks: [], failOn: config.defaults.failOn)
        if let reason = Self.reasonNotToSend(report, policy: config.report.send, failOn: config.defaults.failOn) {
            outcome.delivery = .notNeeded(reason)
            return outcome
        }
        let message = try ReportMessage.render(report, configuration: config)
        if let dryRunPath {
            do { try Data(message.utf8).write(to: URL(fileURLWithPath: dryRunPath)) } catch {
                throw RunError.cannotWrite(dryRunPath, "\(error)")
            }
            outcome.delivery = .dryRun(path: dryRunPath)
            return outcome
        }
        guard let relay, let from = config.report.from else { throw RunError.noRelay }
        var mailer = ReportMailer(relay: relay, resolver: resolver, attempts: sendAttempts, backoff: sendBackoff)
        mailer.relay.verificationTime = verificationTime
        let sent = await mailer.send(message, from: from.address, to: config.report.to.map(\.address))
        outcome.sendWalks = sent.walks
        outcome.delivery = sent.delivered ? .sent : .failed
        return outcome
    }

    /// Nil when the report goes out; otherwise why not.
    static func reasonNotToSend(_ report: RunReport, policy: RunConfiguration.SendPolicy, failOn: Severity) -> String? {
        switch policy {
        case .always: return nil
        case .never: return "send = \"never\""
        // A domain's first run is news too: its baseline goes out once.
        case .onChange: return report.changes.isEmpty && report.firstRun.isEmpty ? "no changes since the last run (send = \"on-change\")" : nil
        case .onFailure:
            return report.audit.exitCode(failOn: failOn) == 0 ? "no failures (send = \"on-failure\")" : nil
        }
    }

    func auditOptions() -> AuditOptions {
        let defaults = configuration.defaults
        var options = AuditOptions()
        options.checks = defaults.checks
        options.allowPrivateAddresses = defaults.allowPrivateAddresses
        options.dnsblZones = defaults.dnsblZones
        options.deadline = defaults.deadline
        options.now = nil
        // DNSSEC is validated from the root key of dns-root-data, when it is installed.
        options.trustAnchors = try? TrustAnchors(contentsOf: TrustAnchors.debianRootKey)
        if defaults.checks.contains(.probe) || configuration.domains.contains(where: { $0.checks?.contains(.probe) == true }) {
            let ehlo = defaults.ehloName?.description ?? EHLOName.local
            var probe = ProbeOptions(ehloName: ehlo)
            probe.port = defaults.smtpPort
            probe.caFile = defaults.caFile
            probe.expiryWarningDays = defaults.expiryWarningDays
            probe.verificationTime = verificationTime
            if let timeout = defaults.connectTimeout { probe.timeouts.connect = timeout }
            if let timeout = defaults.greetingTimeout { probe.timeouts.greeting = timeout }
            if let limit = defaults.probesPerNetwork { probe.maximumPerNetwork = limit }
            options.probe = probe
        }
        return options
    }

    func relayOptions(_ relay: RunConfiguration.Relay) throws -> RelayOptions {
        let ehlo = relay.ehloName?.description ?? configuration.defaults.ehloName?.description
            ?? EHLOName.local
        var options = RelayOptions(host: relay.host, ehloName: ehlo)
        options.port = relay.port
        options.security = relay.security
        options.user = relay.user
        if let source = relay.password { options.password = try source.read() }
        options.caFile = relay.caFile
        options.timeouts = SMTPTimeouts(
            connect: min(relay.timeout, .seconds(30)), greeting: relay.timeout, command: relay.timeout, tlsHandshake: relay.timeout,
            data: max(relay.timeout, .seconds(60)), total: relay.timeout * 4)
        return options
    }

    public static func openStore(_ history: RunConfiguration.History) async throws -> any HistoryStore {
        switch history {
        case .sqlite(let path): return try await MailAuditHistory.History.open(sqlitePath: path)
        case .postgres(let url, let password): return try await MailAuditHistory.History.open(postgresURL: url, password: try password?.read().revealed)
        }
    }
}

/// Why a run could not go ahead.
public enum RunError: Error, Hashable, Sendable, CustomStringConvertible {
    case noRelay
    case cannotWrite(String, String)
    case password(String)

    public var description: String {
        switch self {
        case .noRelay: "the report is to be sent, but the config has no [relay] or no report.from"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .password(let reason): reason
        }
    }
}

extension RunConfiguration.PasswordSource {
    /// Reads the password: an environment variable, or a regular file's first line (links
    /// followed, at most 4 KiB). Never logged.
    public func read() throws(RunError) -> Secret {
        switch self {
        case .environment(let name):
            guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                throw .password("the environment variable \(name) is not set or empty")
            }
            return Secret(value)
        case .file(let path):
            let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let type = (try? FileManager.default.attributesOfItem(atPath: resolved))?[.type] as? FileAttributeType
            guard type == .typeRegular, let handle = FileHandle(forReadingAtPath: resolved) else {
                throw .password("cannot read the password file \(path) (it must be a regular file)")
            }
            defer { try? handle.close() }
            let data = (try? handle.read(upToCount: 4097)) ?? Data()
            guard data.count <= 4096 else { throw .password("the password file \(path) is longer than 4096 bytes") }
            let line = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard !line.isEmpty else { throw .password("the password file \(path) is empty") }
            return Secret(line)
        }
    }
}
