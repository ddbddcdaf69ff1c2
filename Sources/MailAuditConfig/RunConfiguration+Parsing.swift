import Foundation
import MailAuditCore
import MailAuditDNS
import MailAuditRecords
import MailAuditSMTP

extension RunConfiguration {
    /// Reads the configuration file at `path`.
    ///
    /// - Throws: ``ConfigError`` with one ``ConfigProblem/Kind/unreadable`` problem when the
    ///   file is missing, unreadable or not UTF-8, else whatever ``parse(_:file:)`` finds.
    public static func load(path: String) throws(ConfigError) -> RunConfiguration {
        func unreadable(_ message: String) -> ConfigError {
            ConfigError(problems: [ConfigProblem(file: path, line: nil, keyPath: "", kind: .unreadable, message: message)])
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw unreadable("no such file")
        }
        guard !isDirectory.boolValue else { throw unreadable("this is a directory, not a configuration file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw unreadable("cannot read the file (permission denied?)")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw unreadable("the file is not UTF-8 text") }
        return try parse(text, file: path)
    }

    /// Parses the TOML text of a configuration file and checks every value.
    ///
    /// - Parameter file: the name to show in problems, such as `mailaudit.toml`.
    /// - Throws: ``ConfigError`` listing every problem, each with its line and key path: a TOML
    ///   syntax error (alone, with its line and column), unknown keys (with the nearest known
    ///   one), wrong types, bad addresses, host names and IP addresses, bad enumeration values,
    ///   numbers out of range, missing keys, conflicting keys, duplicate domains and inline
    ///   passwords.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> RunConfiguration {
        let root: TOMLTable
        do {
            root = try TOMLTable(parsing: text)
        } catch {
            throw ConfigError(problems: [
                ConfigProblem(
                    file: file, line: error.line, keyPath: "", kind: .syntax,
                    message: "not valid TOML: \(error.message) (column \(error.column))")
            ])
        }
        var reader = ConfigReader(file: file, lines: ConfigKeyLines(root))
        let configuration = reader.read(root)
        guard let configuration, reader.problems.isEmpty else { throw ConfigError(problems: reader.sortedProblems) }
        return configuration
    }
}

/// Reads the TOML tables into values, noting every problem on the way.
struct ConfigReader {
    let file: String
    let lines: ConfigKeyLines
    var problems: [ConfigProblem] = []

    init(file: String, lines: ConfigKeyLines) {
        self.file = file
        self.lines = lines
    }

    /// The problems by line, those without a line first, otherwise in the order found.
    var sortedProblems: [ConfigProblem] {
        problems.enumerated().sorted { ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset) }.map(\.element)
    }

    mutating func note(_ kind: ConfigProblem.Kind, _ path: String, _ message: String) {
        problems.append(ConfigProblem(file: file, line: lines.line(of: path), keyPath: path, kind: kind, message: message))
    }

    // MARK: Sections

    static let sections = ["history", "report", "relay", "defaults", "domain"]

    mutating func read(_ root: TOMLTable) -> RunConfiguration? {
        checkKeys(root, path: "", allowed: Self.sections)
        let history = readHistory(root)
        let (report, sending) = readReport(root)
        let relay = readRelay(root, sending: sending)
        let defaults = readDefaults(root)
        let domains = readDomains(root)
        guard let history, let domains, problems.isEmpty else { return nil }
        return RunConfiguration(history: history, report: report, relay: relay, defaults: defaults, domains: domains)
    }

    /// `[history]`: exactly one of `sqlite` and `postgres`.
    mutating func readHistory(_ root: TOMLTable) -> RunConfiguration.History? {
        guard root["history"] != nil else {
            note(.missing, "history", "a [history] table is required: sqlite = \"/var/lib/mailaudit/history.sqlite\" or postgres = \"postgres://…\"")
            return nil
        }
        guard let table = table(root, "history", path: "history") else { return nil }
        checkKeys(table, path: "history", allowed: ["sqlite", "postgres", "password_env", "password_file"], passwordKey: true)
        let sqlite = nonEmptyString(table, "sqlite", path: "history.sqlite")
        let postgres = nonEmptyString(table, "postgres", path: "history.postgres")
        let password = passwordSource(table, path: "history")
        if table["sqlite"] != nil && table["postgres"] != nil {
            note(.conflict, "history.postgres", "sqlite and postgres are both set; choose one")
            return nil
        }
        if let sqlite {
            if password != nil {
                note(.conflict, table["password_env"] != nil ? "history.password_env" : "history.password_file",
                     "a password applies to postgres only, not to an SQLite file")
            }
            return .sqlite(path: sqlite)
        }
        if let postgres {
            guard postgres.hasPrefix("postgres://") || postgres.hasPrefix("postgresql://") else {
                note(.badValue, "history.postgres", "\"\(postgres)\" is not a PostgreSQL URL (postgres://user@host/database)")
                return nil
            }
            if Self.urlHoldsPassword(postgres) {
                note(.inlinePassword, "history.postgres", "the URL holds a password, which is not allowed; use password_env or password_file")
                return nil
            }
            return .postgres(url: postgres, password: password)
        }
        if table["sqlite"] == nil && table["postgres"] == nil {
            note(.missing, "history", "set sqlite = \"/var/lib/mailaudit/history.sqlite\" or postgres = \"postgres://…\"")
        }
        return nil
    }

    /// `postgres://user:secret@host/db` or `…?password=secret`.
    static func urlHoldsPassword(_ url: String) -> Bool {
        let rest = url[url.range(of: "://")!.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        if let at = authority.lastIndex(of: "@"), authority[..<at].contains(":") { return true }
        if let query = rest.firstIndex(of: "?") {
            return rest[rest.index(after: query)...].split(separator: "&").contains { $0.lowercased().hasPrefix("password=") }
        }
        return false
    }

    /// `[report]`; a missing table reads as an empty one. `sending` is false when the report
    /// is never sent, and when `send` is not valid (one problem about it is enough).
    mutating func readReport(_ root: TOMLTable) -> (report: RunConfiguration.Report, sending: Bool) {
        let table = root["report"] == nil ? TOMLTable() : (self.table(root, "report", path: "report") ?? TOMLTable())
        checkKeys(table, path: "report", allowed: ["from", "to", "send", "subject_prefix"])
        let send = choice(table, "send", path: "report.send", among: RunConfiguration.SendPolicy.allCases.map { ($0.rawValue, $0) })
        var from: MailAddress?
        if let text = string(table, "from", path: "report.from") {
            from = MailAddress(parsing: text)
            if from == nil { note(.badValue, "report.from", Self.badAddress(text)) }
        }
        var to: [MailAddress] = []
        for (index, text) in stringArray(table, "to", path: "report.to") ?? [] {
            if let address = MailAddress(parsing: text) { to.append(address) } else { note(.badValue, "report.to[\(index)]", Self.badAddress(text)) }
        }
        let prefix = oneLine(table, "subject_prefix", path: "report.subject_prefix")
        let sending = table["send"] == nil ? true : (send.map { $0 != .never } ?? false)
        if sending && table["from"] == nil {
            note(.missing, "report.from", "report.from is required unless send = \"never\"")
        }
        if sending && (table["to"] == nil || table["to"]?.array?.isEmpty == true) {
            note(.missing, "report.to", "report.to needs at least one address unless send = \"never\"")
        }
        return (RunConfiguration.Report(from: from, to: to, send: send ?? .onChange, subjectPrefix: prefix ?? "mailaudit"), sending)
    }

    static func badAddress(_ text: String) -> String {
        "\"\(text)\" is not an email address (local@domain, or Name <local@domain>)"
    }

    /// `[relay]`: required unless the report is never sent.
    mutating func readRelay(_ root: TOMLTable, sending: Bool) -> RunConfiguration.Relay? {
        guard root["relay"] != nil else {
            if sending { note(.missing, "relay.host", "a [relay] with a host is required unless report.send = \"never\"") }
            return nil
        }
        guard let table = table(root, "relay", path: "relay") else { return nil }
        checkKeys(
            table, path: "relay",
            allowed: ["host", "port", "security", "user", "password_env", "password_file", "ca_file", "ehlo_name", "timeout"],
            passwordKey: true)
        var host: String?
        if let text = string(table, "host", path: "relay.host") {
            host = hostName(text, path: "relay.host")
        } else if table["host"] == nil {
            note(.missing, "relay.host", "relay.host is required")
        }
        let port = integer(table, "port", path: "relay.port", range: 1...65535)
        let security = choice(table, "security", path: "relay.security", among: RelaySecurity.allCases.map { ($0.rawValue, $0) })
        let user = oneLine(table, "user", path: "relay.user")
        let password = passwordSource(table, path: "relay")
        let hasPasswordKey = ["password", "password_env", "password_file"].contains { table[$0] != nil }
        if table["user"] != nil && !hasPasswordKey {
            note(.missing, "relay.user", "relay.user is set, so password_env or password_file is required")
        }
        if table["user"] == nil && (table["password_env"] != nil || table["password_file"] != nil) {
            note(.missing, "relay.user", "a password is set but relay.user is not")
        }
        if security == RelaySecurity.none && table["user"] != nil {
            note(.conflict, "relay.security", "security = \"none\" would send the password in clear; use starttls or implicit")
        }
        let caFile = nonEmptyString(table, "ca_file", path: "relay.ca_file")
        let ehloName = domainName(table, "ehlo_name", path: "relay.ehlo_name")
        let timeout = seconds(table, "timeout", path: "relay.timeout", range: 1...600)
        guard let host else { return nil }
        return RunConfiguration.Relay(
            host: host, port: UInt16(port ?? 587), security: security ?? .auto, user: user, password: password,
            caFile: caFile, ehloName: ehloName, timeout: timeout ?? .seconds(30))
    }

    /// `[defaults]`; a missing table gives the defaults.
    mutating func readDefaults(_ root: TOMLTable) -> RunConfiguration.Defaults {
        var defaults = RunConfiguration.Defaults()
        guard root["defaults"] != nil, let table = table(root, "defaults", path: "defaults") else { return defaults }
        checkKeys(
            table, path: "defaults",
            allowed: [
                "checks", "allow_private_addresses", "ca_file", "fail_on", "deadline", "resolvers", "smtp_port",
                "ehlo_name", "expiry_warning_days", "dns_timeout", "dns_attempts", "connect_timeout", "greeting_timeout",
                "probes_per_network", "dnsbl",
            ])
        if let checks = checks(table, "checks", path: "defaults.checks") { defaults.checks = checks }
        if let allow = bool(table, "allow_private_addresses", path: "defaults.allow_private_addresses") {
            defaults.allowPrivateAddresses = allow
        }
        defaults.caFile = nonEmptyString(table, "ca_file", path: "defaults.ca_file")
        let thresholds: [(String, Severity)] = [("failure", .failure), ("warning", .warning), ("inconclusive", .inconclusive)]
        if let failOn = choice(table, "fail_on", path: "defaults.fail_on", among: thresholds) { defaults.failOn = failOn }
        if let deadline = seconds(table, "deadline", path: "defaults.deadline", range: 1...3600) { defaults.deadline = deadline }
        for (index, text) in stringArray(table, "resolvers", path: "defaults.resolvers") ?? [] {
            do {
                defaults.resolvers.append(try Nameserver(parsing: text))
            } catch {
                note(.badValue, "defaults.resolvers[\(index)]", "\"\(text)\" is not a DNS server (an IP address with an optional port): \(error)")
            }
        }
        if let port = integer(table, "smtp_port", path: "defaults.smtp_port", range: 1...65535) { defaults.smtpPort = UInt16(port) }
        defaults.ehloName = domainName(table, "ehlo_name", path: "defaults.ehlo_name")
        if let days = integer(table, "expiry_warning_days", path: "defaults.expiry_warning_days", range: 0...365) {
            defaults.expiryWarningDays = days
        }
        defaults.dnsTimeout = seconds(table, "dns_timeout", path: "defaults.dns_timeout", range: 0.1...60)
        defaults.dnsAttempts = integer(table, "dns_attempts", path: "defaults.dns_attempts", range: 1...10)
        defaults.connectTimeout = seconds(table, "connect_timeout", path: "defaults.connect_timeout", range: 0.1...300)
        defaults.greetingTimeout = seconds(table, "greeting_timeout", path: "defaults.greeting_timeout", range: 0.1...600)
        defaults.probesPerNetwork = integer(table, "probes_per_network", path: "defaults.probes_per_network", range: 1...64)
        for (index, text) in stringArray(table, "dnsbl", path: "defaults.dnsbl") ?? [] {
            do throws(DNSBLZoneError) {
                defaults.dnsblZones.append(try DNSBLZone.parse(text))
            } catch {
                note(.badValue, "defaults.dnsbl[\(index)]", "\"\(text)\" is not a blocklist zone: \(error)")
            }
        }
        return defaults
    }

    /// `[[domain]]`: at least one, names unique.
    mutating func readDomains(_ root: TOMLTable) -> [RunConfiguration.DomainEntry]? {
        guard let value = root["domain"] else {
            note(.missing, "domain", "at least one [[domain]] is required")
            return nil
        }
        guard let array = value.array else {
            note(.wrongType, "domain", "expected an array of tables ([[domain]]), found \(Self.typeName(value))")
            return nil
        }
        if array.isEmpty { note(.missing, "domain", "at least one [[domain]] is required") }
        var entries: [RunConfiguration.DomainEntry] = []
        var seen: [DomainName: Int] = [:]
        for index in 0..<array.count {
            let path = "domain[\(index)]"
            guard let table = array[index].table else {
                note(.wrongType, path, "expected a table ([[domain]]), found \(Self.typeName(array[index]))")
                continue
            }
            checkKeys(table, path: path, allowed: ["name", "selectors", "ips", "expect_mx", "expect_dmarc", "checks"])
            var name: DomainName?
            if table["name"] == nil {
                note(.missing, "\(path).name", "every [[domain]] needs a name")
            } else {
                name = domainName(table, "name", path: "\(path).name")
            }
            if let name {
                if let first = seen[name] {
                    let line = lines.line(of: "domain[\(first)].name").map { " (line \($0))" } ?? ""
                    note(.duplicate, "\(path).name", "\(name) is already listed as domain[\(first)]\(line)")
                } else {
                    seen[name] = index
                }
            }
            var selectors: [String] = []
            for (position, text) in stringArray(table, "selectors", path: "\(path).selectors") ?? [] {
                if Self.isSelector(text) {
                    selectors.append(text.lowercased())
                } else {
                    note(.badValue, "\(path).selectors[\(position)]", "\"\(text)\" is not a DKIM selector (RFC 6376 §3.1: labels of letters, digits, \"-\" and \"_\", such as \"s1\")")
                }
            }
            var ips: [IPAddress] = []
            for (position, text) in stringArray(table, "ips", path: "\(path).ips") ?? [] {
                if let address = IPAddress(text) { ips.append(address) } else {
                    note(.badValue, "\(path).ips[\(position)]", "\"\(text)\" is not an IP address")
                }
            }
            var expectMX: [DomainName]?
            if let hosts = stringArray(table, "expect_mx", path: "\(path).expect_mx") {
                expectMX = []
                for (position, text) in hosts {
                    if let host = domainName(text, path: "\(path).expect_mx[\(position)]") { expectMX?.append(host) }
                }
            }
            let expectDMARC = choice(table, "expect_dmarc", path: "\(path).expect_dmarc", among: DMARCPolicy.allCases.map { ($0.rawValue, $0) })
            let checks = checks(table, "checks", path: "\(path).checks")
            if let name {
                entries.append(RunConfiguration.DomainEntry(
                    name: name, selectors: selectors, ips: ips, expectMX: expectMX, expectDMARC: expectDMARC, checks: checks))
            }
        }
        return entries.isEmpty ? nil : entries
    }

    /// A DKIM selector (RFC 6376 §3.1: selector = sub-domain): dot-separated labels of letters,
    /// digits, "-" and "_" (the underscore is common in practice), each 1 to 63 octets.
    static func isSelector(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 253
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                (1...63).contains(label.utf8.count)
                    && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_") }
            }
    }
}
