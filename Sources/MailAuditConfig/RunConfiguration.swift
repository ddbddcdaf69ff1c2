public import MailAuditCore
public import MailAuditDNS
public import MailAuditRecords
public import MailAuditSMTP

/// The scheduled run's configuration, read from `mailaudit.toml`: where history is kept,
/// whom to mail the report, through which relay, and which domains to audit with what
/// expectations. A pure value; ``parse(_:file:)`` reads it (see `RunConfiguration+Parsing.swift`)
/// and ``description`` writes it back in canonical TOML.
///
/// ```toml
/// [history]
/// sqlite = "/var/lib/mailaudit/history.sqlite"
///
/// [report]
/// from = "mailaudit@example.com"
/// to = ["ops@example.com"]
///
/// [relay]
/// host = "smtp.example.com"
/// user = "mailaudit@example.com"
/// password_env = "MAILAUDIT_SMTP_PASSWORD"
///
/// [[domain]]
/// name = "example.com"
/// expect_dmarc = "reject"
/// ```
///
/// A password is never part of the value, only where to find it (``PasswordSource``).
public struct RunConfiguration: Sendable, Hashable {
    public var history: History
    public var report: Report
    /// The relay that sends the report; nil when the report is never sent.
    public var relay: Relay?
    public var defaults: Defaults
    /// The domains to audit, in the file's order; never empty, names unique.
    public var domains: [DomainEntry]

    public init(history: History, report: Report, relay: Relay?, defaults: Defaults = Defaults(), domains: [DomainEntry]) {
        self.history = history
        self.report = report
        self.relay = relay
        self.defaults = defaults
        self.domains = domains
    }

    /// Where a password is read at run time. The file never holds the password itself.
    public enum PasswordSource: Sendable, Hashable {
        /// An environment variable (`password_env`), for example set by systemd's
        /// `EnvironmentFile=`.
        case environment(String)
        /// A file whose content, less one final line break, is the password (`password_file`).
        case file(String)
    }

    /// Where the runs are kept (`[history]`).
    public enum History: Sendable, Hashable {
        /// An SQLite database file (`sqlite = "/var/lib/mailaudit/history.sqlite"`).
        case sqlite(path: String)
        /// A PostgreSQL database (`postgres = "postgres://mailaudit@db.internal/mailaudit"`),
        /// shared by several machines; the URL holds no password.
        case postgres(url: String, password: PasswordSource?)
    }

    /// When the report is mailed (`send`).
    public enum SendPolicy: String, Sendable, Hashable, CaseIterable {
        /// After every run.
        case always
        /// When the findings differ from the previous run's (the default).
        case onChange = "on-change"
        /// When the run has a finding at or above ``Defaults/failOn``.
        case onFailure = "on-failure"
        /// Never: the run only records history.
        case never
    }

    /// Who gets the report (`[report]`).
    public struct Report: Sendable, Hashable {
        /// The sender; nil only when ``send`` is ``SendPolicy/never``.
        public var from: MailAddress?
        /// The recipients; empty only when ``send`` is ``SendPolicy/never``.
        public var to: [MailAddress]
        public var send: SendPolicy
        /// The start of the Subject, `mailaudit` unless set.
        public var subjectPrefix: String

        public init(from: MailAddress?, to: [MailAddress], send: SendPolicy = .onChange, subjectPrefix: String = "mailaudit") {
            self.from = from
            self.to = to
            self.send = send
            self.subjectPrefix = subjectPrefix
        }
    }

    /// The SMTP relay that sends the report (`[relay]`).
    public struct Relay: Sendable, Hashable {
        /// A host name (lower-case A-labels) or an IP address.
        public var host: String
        public var port: UInt16
        public var security: RelaySecurity
        /// The AUTH user; when set, ``password`` is set too.
        public var user: String?
        public var password: PasswordSource?
        /// A PEM file of extra trust anchors, for a relay with a private CA.
        public var caFile: String?
        /// The name to send in EHLO; nil lets the client choose.
        public var ehloName: DomainName?
        /// How long one SMTP step may take.
        public var timeout: Duration

        public init(
            host: String, port: UInt16 = 587, security: RelaySecurity = .auto, user: String? = nil,
            password: PasswordSource? = nil, caFile: String? = nil, ehloName: DomainName? = nil,
            timeout: Duration = .seconds(30)
        ) {
            self.host = host
            self.port = port
            self.security = security
            self.user = user
            self.password = password
            self.caFile = caFile
            self.ehloName = ehloName
            self.timeout = timeout
        }
    }

    /// Settings for every domain (`[defaults]`).
    public struct Defaults: Sendable, Hashable {
        /// The checks to run; all unless set.
        public var checks: Set<AuditCheck>
        /// Treat private and loopback MX addresses as information, for lab and intranet use.
        public var allowPrivateAddresses: Bool
        /// A PEM file of extra trust anchors for the MX probe.
        public var caFile: String?
        /// The severity that makes the run fail: ``Severity/failure``, ``Severity/warning``
        /// (failures or warnings) or ``Severity/inconclusive`` (any of the three).
        public var failOn: Severity
        /// The whole run stops after this long.
        public var deadline: Duration
        /// The DNS servers to ask; empty means the system's (`/etc/resolv.conf`).
        public var resolvers: [Nameserver]
        /// The port the MX probe connects to; 25 but in a lab.
        public var smtpPort: UInt16
        /// The name the MX probe sends in EHLO; nil lets the probe choose.
        public var ehloName: DomainName?
        /// A certificate that expires within this many days is a warning.
        public var expiryWarningDays: Int
        /// Each DNS attempt's wait and the attempts per question; nil keeps resolv.conf's or 2 s and 3.
        public var dnsTimeout: Duration?
        public var dnsAttempts: Int?
        /// The MX probe's TCP connect and greeting timeouts; nil keeps 10 s and 45 s.
        public var connectTimeout: Duration?
        public var greetingTimeout: Duration?
        /// At most this many MX probes at once into one /24 or /64; nil keeps 4.
        public var probesPerNetwork: Int?
        /// DNS blocklist zones to check the MX and sending addresses on (`dnsbl`); none unless set.
        public var dnsblZones: [DomainName] = []

        public init(
            checks: Set<AuditCheck> = Set(AuditCheck.allCases), allowPrivateAddresses: Bool = false, caFile: String? = nil,
            failOn: Severity = .failure, deadline: Duration = .seconds(60), resolvers: [Nameserver] = [],
            smtpPort: UInt16 = 25, ehloName: DomainName? = nil, expiryWarningDays: Int = 14
        ) {
            self.checks = checks
            self.allowPrivateAddresses = allowPrivateAddresses
            self.caFile = caFile
            self.failOn = failOn
            self.deadline = deadline
            self.resolvers = resolvers
            self.smtpPort = smtpPort
            self.ehloName = ehloName
            self.expiryWarningDays = expiryWarningDays
        }
    }

    /// One domain to audit (`[[domain]]`).
    public struct DomainEntry: Sendable, Hashable {
        public var name: DomainName
        /// DKIM selectors to look up; empty means "try the common ones".
        public var selectors: [String]
        /// Addresses that send the domain's mail, checked for reverse DNS.
        public var ips: [IPAddress]
        /// The MX hosts that must not change; nil when not watched.
        public var expectMX: [DomainName]?
        /// The DMARC policy that must not change; nil when not watched.
        public var expectDMARC: DMARCPolicy?
        /// The checks for this domain, in place of ``Defaults/checks``; nil keeps those.
        public var checks: Set<AuditCheck>?

        public init(
            name: DomainName, selectors: [String] = [], ips: [IPAddress] = [], expectMX: [DomainName]? = nil,
            expectDMARC: DMARCPolicy? = nil, checks: Set<AuditCheck>? = nil
        ) {
            self.name = name
            self.selectors = selectors
            self.ips = ips
            self.expectMX = expectMX
            self.expectDMARC = expectDMARC
            self.checks = checks
        }
    }
}

extension RunConfiguration: CustomStringConvertible {
    /// The configuration as canonical TOML, every key written, which ``parse(_:file:)`` reads
    /// back to an equal value.
    public var description: String {
        var out: [String] = []
        func quoted(_ text: String) -> String { TOMLText.quoted(text) }
        func list(_ items: [String]) -> String { "[" + items.map(quoted).joined(separator: ", ") + "]" }
        func seconds(_ duration: Duration) -> String {
            let (whole, fraction) = duration.components
            return fraction == 0 ? "\(whole)" : "\(Double(whole) + Double(fraction) / 1e18)"
        }
        func password(_ source: PasswordSource?) {
            switch source {
            case .environment(let name)?: out.append("password_env = \(quoted(name))")
            case .file(let path)?: out.append("password_file = \(quoted(path))")
            case nil: break
            }
        }
        func checks(_ set: Set<AuditCheck>) -> String { list(AuditCheck.allCases.filter(set.contains).map(\.rawValue)) }

        out.append("[history]")
        switch history {
        case .sqlite(let path):
            out.append("sqlite = \(quoted(path))")
        case .postgres(let url, let source):
            out.append("postgres = \(quoted(url))")
            password(source)
        }

        out += ["", "[report]"]
        if let from = report.from { out.append("from = \(quoted(from.description))") }
        out.append("to = \(list(report.to.map(\.description)))")
        out.append("send = \(quoted(report.send.rawValue))")
        out.append("subject_prefix = \(quoted(report.subjectPrefix))")

        if let relay {
            out += ["", "[relay]"]
            out.append("host = \(quoted(relay.host))")
            out.append("port = \(relay.port)")
            out.append("security = \(quoted(relay.security.rawValue))")
            if let user = relay.user { out.append("user = \(quoted(user))") }
            password(relay.password)
            if let caFile = relay.caFile { out.append("ca_file = \(quoted(caFile))") }
            if let ehloName = relay.ehloName { out.append("ehlo_name = \(quoted(ehloName.description))") }
            out.append("timeout = \(seconds(relay.timeout))")
        }

        out += ["", "[defaults]"]
        out.append("checks = \(checks(defaults.checks))")
        out.append("allow_private_addresses = \(defaults.allowPrivateAddresses)")
        if let caFile = defaults.caFile { out.append("ca_file = \(quoted(caFile))") }
        out.append("fail_on = \(quoted(defaults.failOn.rawValue))")
        out.append("deadline = \(seconds(defaults.deadline))")
        out.append("resolvers = \(list(defaults.resolvers.map(\.description)))")
        out.append("smtp_port = \(defaults.smtpPort)")
        if let ehloName = defaults.ehloName { out.append("ehlo_name = \(quoted(ehloName.description))") }
        out.append("expiry_warning_days = \(defaults.expiryWarningDays)")
        if let value = defaults.dnsTimeout { out.append("dns_timeout = \(seconds(value))") }
        if let value = defaults.dnsAttempts { out.append("dns_attempts = \(value)") }
        if let value = defaults.connectTimeout { out.append("connect_timeout = \(seconds(value))") }
        if let value = defaults.greetingTimeout { out.append("greeting_timeout = \(seconds(value))") }
        if let value = defaults.probesPerNetwork { out.append("probes_per_network = \(value)") }
        if !defaults.dnsblZones.isEmpty { out.append("dnsbl = \(list(defaults.dnsblZones.map(\.description)))") }

        for domain in domains {
            out += ["", "[[domain]]"]
            out.append("name = \(quoted(domain.name.description))")
            out.append("selectors = \(list(domain.selectors))")
            out.append("ips = \(list(domain.ips.map(\.description)))")
            if let expectMX = domain.expectMX { out.append("expect_mx = \(list(expectMX.map(\.description)))") }
            if let expectDMARC = domain.expectDMARC { out.append("expect_dmarc = \(quoted(expectDMARC.rawValue))") }
            if let domainChecks = domain.checks { out.append("checks = \(checks(domainChecks))") }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

enum TOMLText {
    /// A TOML basic string (TOML 1.0 "String"): `"` and `\` escaped, control characters as `\uXXXX`.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
