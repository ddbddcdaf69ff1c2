import Foundation
@testable import MailAudit
@testable import MailAuditConfig
import MailAuditCore
import MailAuditDNS
import MailAuditRecords
import Testing

/// The scheduled run's configuration file: good files give the expected values, and every
/// problem of a bad file is reported with its line, key path and kind.
struct RunConfigurationTests {
    static let good = """
        # Every key, set to something other than its default.
        [history]
        postgres = "postgres://mailaudit@db.internal/mailaudit"
        password_file = "/etc/mailaudit/db-password"

        [report]
        from = "mailaudit <mailaudit@example.com>"
        to = [
            "ops@example.com",   # the on-call list
            "\\"Doe, Jane\\" <jane@example.net>",
        ]
        send = "on-failure"
        subject_prefix = "[audit]"

        [relay]
        host = "SMTP.Example.COM"
        port = 465
        security = "implicit"
        user = "mailaudit@example.com"
        password_env = "MAILAUDIT_SMTP_PASSWORD"
        ca_file = "/etc/ssl/certs/private-ca.pem"
        ehlo_name = "audit.example.com"
        timeout = 12.5

        [defaults]
        checks = ["mx", "spf", "dmarc", "probe"]
        allow_private_addresses = true
        ca_file = "/etc/ssl/certs/lab-ca.pem"
        fail_on = "warning"
        deadline = 120
        resolvers = ["127.0.0.1:5353", "2001:db8::53"]
        smtp_port = 2525
        ehlo_name = "probe.example.com"
        expiry_warning_days = 30

        [[domain]]
        name = "example.com"
        selectors = ["s1", "s2"]
        ips = ["192.0.2.10", "2001:db8::10"]
        expect_mx = ["mx1.example.com", "mx2.example.com"]
        expect_dmarc = "reject"
        checks = ["mx", "spf"]

        [[domain]]
        name = "bücher.example"
        """

    @Test func aGoodFileGivesTheExpectedValues() throws {
        let configuration = try RunConfiguration.parse(Self.good, file: "mailaudit.toml")
        #expect(configuration.history == .postgres(url: "postgres://mailaudit@db.internal/mailaudit", password: .file("/etc/mailaudit/db-password")))
        #expect(configuration.report == RunConfiguration.Report(
            from: MailAddress(address: "mailaudit@example.com", displayName: "mailaudit"),
            to: [MailAddress(address: "ops@example.com")!, MailAddress(address: "jane@example.net", displayName: "Doe, Jane")!],
            send: .onFailure, subjectPrefix: "[audit]"))
        #expect(configuration.relay == RunConfiguration.Relay(
            host: "smtp.example.com", port: 465, security: .implicit, user: "mailaudit@example.com",
            password: .environment("MAILAUDIT_SMTP_PASSWORD"), caFile: "/etc/ssl/certs/private-ca.pem",
            ehloName: try DomainName(parsing: "audit.example.com"), timeout: .milliseconds(12_500)))
        #expect(configuration.defaults == RunConfiguration.Defaults(
            checks: [.mx, .spf, .dmarc, .probe], allowPrivateAddresses: true, caFile: "/etc/ssl/certs/lab-ca.pem",
            failOn: .warning, deadline: .seconds(120),
            resolvers: [Nameserver(address: IPAddress("127.0.0.1")!, port: 5353), Nameserver(address: IPAddress("2001:db8::53")!)],
            smtpPort: 2525, ehloName: try DomainName(parsing: "probe.example.com"), expiryWarningDays: 30))
        #expect(configuration.domains == [
            RunConfiguration.DomainEntry(
                name: try DomainName(parsing: "example.com"), selectors: ["s1", "s2"],
                ips: [IPAddress("192.0.2.10")!, IPAddress("2001:db8::10")!],
                expectMX: [try DomainName(parsing: "mx1.example.com"), try DomainName(parsing: "mx2.example.com")],
                expectDMARC: .reject, checks: [.mx, .spf]),
            RunConfiguration.DomainEntry(name: try DomainName(parsing: "xn--bcher-kva.example")),
        ])
        #expect(try RunConfiguration.parse(configuration.description, file: "rendered") == configuration,
                "parsing the rendering gives the same value")
    }

    /// The timeouts and the probe limit of [defaults], read, range-checked and rendered back.
    @Test func defaultsTimeoutsAndTheProbeLimit() throws {
        let text = """
            [history]
            sqlite = "/tmp/h.sqlite"
            [report]
            send = "never"
            [defaults]
            dns_timeout = 1.5
            dns_attempts = 2
            connect_timeout = 3
            greeting_timeout = 20
            probes_per_network = 2
            [[domain]]
            name = "example.com"
            """
        let config = try RunConfiguration.parse(text, file: "t.toml")
        #expect(config.defaults.dnsTimeout == .milliseconds(1_500))
        #expect(config.defaults.dnsAttempts == 2)
        #expect(config.defaults.connectTimeout == .seconds(3))
        #expect(config.defaults.greetingTimeout == .seconds(20))
        #expect(config.defaults.probesPerNetwork == 2)
        #expect(try RunConfiguration.parse(config.description, file: "t.toml") == config, "rendered back to TOML and parsed again")
        #expect(throws: ConfigError.self) {
            try RunConfiguration.parse(text.replacingOccurrences(of: "probes_per_network = 2", with: "probes_per_network = 0"), file: "t.toml")
        }
    }

    @Test func theSmallestFileTakesTheDefaults() throws {
        let configuration = try RunConfiguration.parse(
            "[history]\nsqlite = \"h.sqlite\"\n[report]\nsend = \"never\"\n[[domain]]\nname = \"example.com\"\n", file: "small.toml")
        #expect(configuration.history == .sqlite(path: "h.sqlite"))
        #expect(configuration.report == RunConfiguration.Report(from: nil, to: [], send: .never, subjectPrefix: "mailaudit"))
        #expect(configuration.relay == nil)
        #expect(configuration.defaults == RunConfiguration.Defaults())
        #expect(configuration.defaults.checks == Set(AuditCheck.allCases))
        #expect(configuration.domains.map(\.name.description) == ["example.com"])
        #expect(try RunConfiguration.parse(configuration.description, file: "rendered") == configuration)
    }

    /// The issue's example file, as written there.
    @Test func theIssuesFileParses() throws {
        let text = """
            [history]
            sqlite = "/var/lib/mailaudit/history.sqlite"
            [report]
            from = "mailaudit@example.com"
            to = ["ops@example.com"]
            send = "on-change"
            subject_prefix = "mailaudit"
            [relay]
            host = "smtp.example.com"
            port = 587
            security = "starttls"
            user = "mailaudit@example.com"
            password_env = "MAILAUDIT_SMTP_PASSWORD"
            ca_file = "/etc/ssl/certs/private-ca.pem"
            ehlo_name = "mailaudit.example.com"
            timeout = 30
            [defaults]
            checks = ["mx", "rdns", "spf", "dkim", "dmarc", "probe"]
            allow_private_addresses = false
            ca_file = "/etc/ssl/certs/private-ca.pem"
            fail_on = "failure"
            deadline = 60
            resolvers = ["127.0.0.1:53"]
            smtp_port = 25
            expiry_warning_days = 14
            [[domain]]
            name = "example.com"
            selectors = ["s1", "s2"]
            ips = ["192.0.2.10"]
            expect_mx = ["mx1.example.com", "mx2.example.com"]
            expect_dmarc = "reject"
            checks = ["mx", "spf"]
            """
        let configuration = try RunConfiguration.parse(text, file: "issue.toml")
        #expect(configuration.relay?.security == .starttls)
        #expect(configuration.relay?.timeout == .seconds(30))
        #expect(configuration.defaults.resolvers.map(\.description) == ["127.0.0.1"])
    }

    @Test func theExampleFileParses() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("examples/mailaudit.toml").path
        let configuration = try RunConfiguration.load(path: path)
        #expect(configuration.domains.count >= 1)
        #expect(configuration.relay?.password == .environment("MAILAUDIT_SMTP_PASSWORD"))
        #expect(configuration.history == .sqlite(path: "/var/lib/mailaudit/history.sqlite"))
        // The systemd unit names the same password variable and state directory.
        let service = try String(contentsOfFile: root.appendingPathComponent("examples/systemd/mailaudit.service").path, encoding: .utf8)
        #expect(service.contains("EnvironmentFile=/etc/mailaudit/env"))
        #expect(service.contains("StateDirectory=mailaudit"))
    }

    @Test func anUnreadableFileIsOneProblem() {
        #expect {
            try RunConfiguration.load(path: "/nonexistent/mailaudit.toml")
        } throws: { error in
            let problems = (error as? ConfigError)?.problems ?? []
            return problems.count == 1 && problems[0].kind == .unreadable
                && problems[0].description == "/nonexistent/mailaudit.toml: no such file"
        }
    }

    // MARK: Bad files

    struct Expected: Sendable {
        var line: Int?
        var keyPath: String
        var kind: ConfigProblem.Kind
        var fragment: String

        init(_ line: Int?, _ keyPath: String, _ kind: ConfigProblem.Kind, _ fragment: String) {
            (self.line, self.keyPath, self.kind, self.fragment) = (line, keyPath, kind, fragment)
        }
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var reason: String
        var toml: String
        var problems: [Expected]
        var testDescription: String { reason }
    }

    /// History, a never-sent report and a domain: valid on its own (lines 1–6).
    static let base = """
        [history]
        sqlite = "/tmp/history.sqlite"
        [report]
        send = "never"
        [[domain]]
        name = "example.com"
        """

    /// A sent report through a relay (lines 1–12), valid on its own.
    static let sending = """
        [history]
        sqlite = "/tmp/history.sqlite"
        [report]
        from = "mailaudit@example.com"
        to = ["ops@example.com"]
        [relay]
        host = "smtp.example.com"
        user = "mailaudit@example.com"
        password_env = "MAILAUDIT_SMTP_PASSWORD"
        [[domain]]
        name = "example.com"
        selectors = ["s1"]
        """

    static let bad: [Bad] = [
        Bad(reason: "unknown key, with a suggestion", toml: base + "\nselector = [\"s1\"]",
            problems: [Expected(7, "domain[0].selector", .unknownKey, "did you mean \"selectors\"?")]),
        Bad(reason: "unknown key, no near one", toml: base + "\nflavour = \"vanilla\"",
            problems: [Expected(7, "domain[0].flavour", .unknownKey, "the keys here are name, selectors")]),
        Bad(reason: "unknown table", toml: base + "\n[[domains]]\nname = \"example.org\"",
            problems: [Expected(7, "domains", .unknownKey, "did you mean \"domain\"?")]),
        Bad(reason: "a key in another spelling", toml: base.replacingOccurrences(of: "[history]", with: "[history]\nSQLite = \"x\""),
            problems: [Expected(2, "history.SQLite", .unknownKey, "did you mean \"sqlite\"?")]),
        Bad(reason: "wrong type", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\nport = \"587\""),
            problems: [Expected(7, "relay.port", .wrongType, "expected an integer, found a string")]),
        Bad(reason: "a string where an array goes", toml: sending.replacingOccurrences(of: "to = [\"ops@example.com\"]", with: "to = \"ops@example.com\""),
            problems: [Expected(5, "report.to", .wrongType, "expected an array of strings, found a string (write to = [\"ops@example.com\"])")]),
        Bad(reason: "a number in an array of strings", toml: base + "\nips = [\"192.0.2.1\", 3]",
            problems: [Expected(7, "domain[0].ips[1]", .wrongType, "expected a string, found an integer")]),
        Bad(reason: "bad email", toml: sending.replacingOccurrences(of: "to = [\"ops@example.com\"]", with: "to = [\"ops@example.com\", \"ops at example.com\"]"),
            problems: [Expected(5, "report.to[1]", .badValue, "\"ops at example.com\" is not an email address")]),
        Bad(reason: "bad sender", toml: sending.replacingOccurrences(of: "from = \"mailaudit@example.com\"", with: "from = \"mailaudit@localhost\""),
            problems: [Expected(4, "report.from", .badValue, "is not an email address")]),
        Bad(reason: "bad IP", toml: base + "\nips = [\n  \"192.0.2.1\",\n  \"192.0.2.300\",\n]",
            problems: [Expected(9, "domain[0].ips[1]", .badValue, "\"192.0.2.300\" is not an IP address")]),
        Bad(reason: "bad domain", toml: base.replacingOccurrences(of: "example.com", with: "exa mple.com"),
            problems: [Expected(6, "domain[0].name", .badValue, "\"exa mple.com\" is not a domain name")]),
        Bad(reason: "bad MX host", toml: base + "\nexpect_mx = [\"mx1.example.com\", \"-mx2.example.com\"]",
            problems: [Expected(7, "domain[0].expect_mx[1]", .badValue, "is not a domain name")]),
        Bad(reason: "bad selector", toml: base + "\nselectors = [\"s 1\"]",
            problems: [Expected(7, "domain[0].selectors[0]", .badValue, "is not a DKIM selector")]),
        Bad(reason: "bad relay host", toml: sending.replacingOccurrences(of: "smtp.example.com", with: "smtp..example.com"),
            problems: [Expected(7, "relay.host", .badValue, "is not a domain name")]),
        Bad(reason: "bad security value", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\nsecurity = \"tls\""),
            problems: [Expected(7, "relay.security", .badValue, "\"tls\" is not one of \"auto\", \"starttls\", \"implicit\", \"none\"")]),
        Bad(reason: "misspelt security value", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\nsecurity = \"startls\""),
            problems: [Expected(7, "relay.security", .badValue, "did you mean \"starttls\"?")]),
        Bad(reason: "bad send value", toml: base.replacingOccurrences(of: "\"never\"", with: "\"sometimes\""),
            problems: [Expected(4, "report.send", .badValue, "\"always\", \"on-change\", \"on-failure\", \"never\"")]),
        Bad(reason: "bad DMARC expectation", toml: base + "\nexpect_dmarc = \"rejected\"",
            problems: [Expected(7, "domain[0].expect_dmarc", .badValue, "did you mean \"reject\"?")]),
        Bad(reason: "bad fail_on", toml: base + "\n[defaults]\nfail_on = \"info\"",
            problems: [Expected(8, "defaults.fail_on", .badValue, "\"failure\", \"warning\", \"inconclusive\"")]),
        Bad(reason: "inline password", toml: sending.replacingOccurrences(of: "password_env = \"MAILAUDIT_SMTP_PASSWORD\"", with: "password = \"hunter2\""),
            problems: [Expected(9, "relay.password", .inlinePassword, "inline passwords are not allowed; use password_env or password_file")]),
        Bad(reason: "password in the PostgreSQL URL", toml: base.replacingOccurrences(of: "sqlite = \"/tmp/history.sqlite\"", with: "postgres = \"postgres://u:hunter2@db/mailaudit\""),
            problems: [Expected(2, "history.postgres", .inlinePassword, "the URL holds a password")]),
        Bad(reason: "missing password source", toml: sending.replacingOccurrences(of: "password_env = \"MAILAUDIT_SMTP_PASSWORD\"\n", with: ""),
            problems: [Expected(8, "relay.user", .missing, "password_env or password_file is required")]),
        Bad(reason: "both password sources", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\npassword_file = \"/etc/mailaudit/pw\""),
            problems: [Expected(7, "relay.password_file", .conflict, "choose one")]),
        Bad(reason: "a bad environment variable name", toml: sending.replacingOccurrences(of: "MAILAUDIT_SMTP_PASSWORD", with: "SMTP-PASSWORD"),
            problems: [Expected(9, "relay.password_env", .badValue, "is not an environment variable name")]),
        Bad(reason: "a password in clear", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\nsecurity = \"none\""),
            problems: [Expected(7, "relay.security", .conflict, "would send the password in clear")]),
        Bad(reason: "missing history", toml: "[report]\nsend = \"never\"\n[[domain]]\nname = \"example.com\"",
            problems: [Expected(nil, "history", .missing, "a [history] table is required")]),
        Bad(reason: "empty history", toml: base.replacingOccurrences(of: "sqlite = \"/tmp/history.sqlite\"\n", with: ""),
            problems: [Expected(1, "history", .missing, "set sqlite =")]),
        Bad(reason: "both sqlite and postgres", toml: base.replacingOccurrences(of: "[history]", with: "[history]\npostgres = \"postgres://db/mailaudit\""),
            problems: [Expected(2, "history.postgres", .conflict, "sqlite and postgres are both set; choose one")]),
        Bad(reason: "no domains", toml: "[history]\nsqlite = \"h\"\n[report]\nsend = \"never\"",
            problems: [Expected(nil, "domain", .missing, "at least one [[domain]] is required")]),
        Bad(reason: "a table, not an array of tables", toml: "[history]\nsqlite = \"h\"\n[report]\nsend = \"never\"\n[domain]\nname = \"example.com\"",
            problems: [Expected(5, "domain", .wrongType, "expected an array of tables ([[domain]]), found a table")]),
        Bad(reason: "a domain without a name", toml: base + "\n[[domain]]\nips = [\"192.0.2.1\"]",
            problems: [Expected(7, "domain[1].name", .missing, "every [[domain]] needs a name")]),
        Bad(reason: "duplicate domain", toml: base + "\n[[domain]]\nname = \"example.org\"\n[[domain]]\nname = \"EXAMPLE.com.\"",
            problems: [Expected(10, "domain[2].name", .duplicate, "example.com is already listed as domain[0] (line 6)")]),
        Bad(reason: "TOML syntax error", toml: "[history]\nsqlite = \"/tmp/history.sqlite\n[report]",
            problems: [Expected(2, "", .syntax, "not valid TOML")]),
        Bad(reason: "a key defined twice is a TOML error", toml: base + "\nname = \"example.org\"",
            problems: [Expected(7, "", .syntax, "not valid TOML")]),
        // Found by the config fuzz target when TOMLKit read the file: its toml++ aborted on these.
        Bad(reason: "a table name starting with a non-ASCII letter", toml: base + "\n[\u{E9}t\u{E9}]",
            problems: [Expected(7, "", .syntax, "not valid TOML: a table name must start with")]),
        Bad(reason: "an array-of-tables name starting with U+FFFD", toml: base + "\n  [[ \u{FFFD}relay]]",
            problems: [Expected(7, "", .syntax, "not valid TOML: a table name must start with")]),
        Bad(reason: "a table name starting with a dot", toml: base + "\n[.istory]",
            problems: [Expected(7, "", .syntax, "not valid TOML: a table name must start with")]),
        Bad(reason: "a '[' alone on its line", toml: base + "\n[\r\nx = 1",
            problems: [Expected(7, "", .syntax, "not valid TOML: a table name must start with")]),
        Bad(reason: "a '}' inside an array (toml++ aborted on this)", toml: base + "\nchecks = [\"mx\", }]",
            problems: [Expected(7, "", .syntax, "not valid TOML: expected a value")]),
        Bad(reason: "a NUL character", toml: base + "\nname2 = \"a\u{0}b\"",
            problems: [Expected(7, "", .syntax, "not valid TOML: a NUL character")]),
        Bad(reason: "bad check name", toml: base + "\n[defaults]\nchecks = [\"mx\", \"ipv9\", \"spff\"]",
            problems: [
                Expected(8, "defaults.checks[1]", .badValue, "\"ipv9\" is not a check; the checks are mx, rdns, spf, dkim, dmarc, probe, dnssec, mta-sts, tls-rpt, dane, dnsbl, bimi"),
                Expected(8, "defaults.checks[2]", .badValue, "did you mean \"spf\"?"),
            ]),
        Bad(reason: "no checks", toml: base + "\nchecks = []",
            problems: [Expected(7, "domain[0].checks", .badValue, "list at least one check")]),
        Bad(reason: "negative timeout", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\ntimeout = -5"),
            problems: [Expected(7, "relay.timeout", .outOfRange, "-5 seconds is out of range; expected 1 to 600")]),
        Bad(reason: "port out of range", toml: sending.replacingOccurrences(of: "[relay]", with: "[relay]\nport = 70000"),
            problems: [Expected(7, "relay.port", .outOfRange, "70000 is out of range; expected 1 to 65535")]),
        Bad(reason: "deadline of the wrong type", toml: base + "\n[defaults]\ndeadline = \"1m\"",
            problems: [Expected(8, "defaults.deadline", .wrongType, "expected a number of seconds, found a string")]),
        Bad(reason: "bad resolver", toml: base + "\n[defaults]\nresolvers = [\"127.0.0.1:53\", \"ns1.example.com\"]",
            problems: [Expected(8, "defaults.resolvers[1]", .badValue, "\"ns1.example.com\" is not a DNS server")]),
        Bad(reason: "a sent report needs from, to and a relay", toml: base.replacingOccurrences(of: "send = \"never\"", with: "send = \"always\""),
            problems: [
                Expected(nil, "relay.host", .missing, "a [relay] with a host is required"),
                Expected(3, "report.from", .missing, "report.from is required unless send = \"never\""),
                Expected(3, "report.to", .missing, "report.to needs at least one address"),
            ]),
        Bad(reason: "a relay without a host", toml: sending.replacingOccurrences(of: "host = \"smtp.example.com\"\n", with: ""),
            problems: [Expected(6, "relay.host", .missing, "relay.host is required")]),
    ]

    @Test(arguments: bad)
    func reportsEveryProblem(_ example: Bad) {
        do {
            _ = try RunConfiguration.parse(example.toml, file: "mailaudit.toml")
            Issue.record("the file parsed")
        } catch {
            #expect(error.problems.count == example.problems.count, "\(error)")
            for (problem, expected) in zip(error.problems, example.problems) {
                #expect(problem.file == "mailaudit.toml")
                #expect(problem.line == expected.line, "\(problem)")
                #expect(problem.keyPath == expected.keyPath, "\(problem)")
                #expect(problem.kind == expected.kind, "\(problem)")
                #expect(problem.message.contains(expected.fragment), "\(problem)")
            }
        }
    }

    @Test func theBaseFilesAreValid() throws {
        _ = try RunConfiguration.parse(Self.base, file: "base.toml")
        _ = try RunConfiguration.parse(Self.sending, file: "sending.toml")
    }

    @Test func aProblemReadsWithFileLineAndKey() throws {
        let toml = Self.sending.replacingOccurrences(of: "password_env = \"MAILAUDIT_SMTP_PASSWORD\"", with: "password = \"hunter2\"")
        #expect(throws: ConfigError.self) { try RunConfiguration.parse(toml, file: "mailaudit.toml") }
        do { _ = try RunConfiguration.parse(toml, file: "mailaudit.toml") } catch {
            #expect(error.description == "mailaudit.toml:9: [relay] password: inline passwords are not allowed; use password_env or password_file")
            #expect(!error.description.contains("hunter2"), "the password is never repeated")
        }
    }

    /// Problems in every section of one file are all reported, in line order, and the Nth
    /// `[[domain]]` header locates the Nth domain's keys.
    @Test func severalProblemsAreAllReported() {
        let toml = """
            [history]
            sqlite = "/tmp/history.sqlite"
            postgres = "postgres://db/mailaudit"
            [report]
            from = "not an address"
            to = ["ops@example.com"]
            send = "weekly"
            [relay]
            host = "smtp.example.com"
            pasword_env = "X"
            user = "u"
            timeout = 0
            [defaults]
            fail_on = "warning"
            smtp_port = 0
            [[domain]]
            name = "example.com"
            [[domain]]
            name = "example.org"
            ips = ["192.0.2.1"]
            [[domain]]
            name = "example.net"
            # a comment with [[domain]] in it
            ips = [
                "192.0.2.2",
                "2001:db8::zz",
            ]
            [[domain]]
            name = "example.org"
            """
        do {
            _ = try RunConfiguration.parse(toml, file: "mailaudit.toml")
            Issue.record("the file parsed")
        } catch {
            let found = error.problems.map { "\($0.line.map(String.init) ?? "-") \($0.keyPath) \($0.kind)" }
            #expect(found == [
                "3 history.postgres conflict",
                "5 report.from badValue",
                "7 report.send badValue",
                "10 relay.pasword_env unknownKey",
                "11 relay.user missing",
                "12 relay.timeout outOfRange",
                "15 defaults.smtp_port outOfRange",
                "26 domain[2].ips[1] badValue",
                "29 domain[3].name duplicate",
            ])
            #expect(error.problems[3].message.contains("did you mean \"password_env\"?"))
            #expect(error.problems[8].message.contains("already listed as domain[1] (line 19)"))
        }
    }

    // MARK: Pieces

    @Test(arguments: [
        ("pasword_env", "password_env"),
        ("password-env", "password_env"),
        ("PasswordEnv", "password_env"),
        ("hots", "host"),
        ("prot", "port"),
        ("securty", "security"),
        ("ehlo", nil),
        ("zzz", nil),
    ] as [(String, String?)])
    func suggestions(word: String, expected: String?) {
        let keys = ["host", "port", "security", "user", "password_env", "password_file", "ca_file", "ehlo_name", "timeout"]
        #expect(ConfigReader.suggestion(for: word, among: keys) == expected)
    }

    /// The parser's positions give every key, table and array element its line, past strings,
    /// comments and arrays that might look like headers or keys.
    @Test func keyLinesComeFromTheParser() throws {
        let text = """
            title = '''
            [[domain]]
            name = "not a key"
            '''
            [a]  # comment [b]
            "quoted.key" = 1
            dotted.key = { x = 1, y = [2, 3] }
            list = [ "one", # ] not the end
              "two", "three" ]
            [[domain]]
            name = "first"
            [domain.extra]
            z = "\\" ] still a string"
            [[domain]]
            name = "second"
            """
        let map = ConfigKeyLines(try TOMLTable(parsing: text))
        #expect(map.line(of: "title") == 1)
        #expect(map.line(of: "domain[0]") == 10)
        #expect(map.line(of: "domain[0].name") == 11)
        #expect(map.line(of: "domain[0].extra.z") == 13)
        #expect(map.line(of: "domain[1].name") == 15)
        #expect(map.line(of: "domain") == 10, "an array of tables is where it starts")
        #expect(map.line(of: "domain[2].name") == 10)
        #expect(map.line(of: "a.quoted.key") == 6)
        #expect(map.line(of: "a.dotted.key.y[1]") == 7)
        #expect(map.line(of: "a.list[0]") == 8)
        #expect(map.line(of: "a.list[1]") == 9)
        #expect(map.line(of: "a.list[2]") == 9)
        #expect(map.line(of: "a.missing") == 5, "a missing key falls back to its table")
        #expect(map.line(of: "domain[1].ips[3]") == 14, "a missing key of a domain falls back to its header")
    }
}
