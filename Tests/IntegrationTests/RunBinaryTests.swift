import Foundation
import MailAuditHistory
import MailAuditTesting
import Testing

/// `mailaudit run`, `config check` and `history` through the built binary: the report mailed
/// through a Postfix submission service with SASL into a Maildir, its MIME structure, the JSON
/// summary, a second run while the first holds the lock, a relay that refuses, config errors.
@Suite(.serialized, .tags(.nsd, .smtp))
struct RunBinaryTests {
    func mailaudit(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), arguments, environment: environment, timeout: .seconds(120))
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    struct Lab {
        var directory: URL
        var nsd: NSDServer
        var ca: TestCA
        var postfix: PostfixSubmissionServer

        func stop() {
            postfix.stop()
            nsd.stop()
            ca.remove()
            try? FileManager.default.removeItem(at: directory)
        }

        func config(send: String = "always", relayPort: UInt16 = 587, extra: String = "") -> URL {
            let text = """
                [history]
                sqlite = "\(directory.appendingPathComponent("history.sqlite").path)"

                [report]
                from = "mailaudit@relay.test"
                to = ["ops@inbox.test", "second@inbox.test"]
                send = "\(send)"

                [relay]
                host = "smtp.relay.test"
                port = \(relayPort)
                security = "starttls"
                user = "\(postfix.login)"
                password_env = "RUN_SMTP_PASSWORD"
                ca_file = "\(ca.rootFile.path)"
                timeout = 5

                [defaults]
                checks = ["mx", "spf", "dmarc"]
                allow_private_addresses = true
                resolvers = ["127.0.0.1:\(nsd.port ?? 0)"]
                deadline = 20

                [[domain]]
                name = "relay.test"
                \(extra)
                """
            let url = directory.appendingPathComponent("mailaudit-\(UUID().uuidString.prefix(8)).toml")
            try? Data(text.utf8).write(to: url)
            return url
        }
    }

    static func startLab() async throws -> Lab {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-runbin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ca = try await TestCA.create()
        let chain = try await ca.issue(.valid, for: "smtp.relay.test").chainFile
        let postfix = PostfixSubmissionServer(listeners: [
            .submission("587", address: "127.0.20.9", port: 587, hostName: "smtp.relay.test", chainFile: chain),
        ])
        try await postfix.start()
        let nsd = NSDServer(zones: [.text("relay.test", """
            $ORIGIN relay.test.
            $TTL 300
            @ IN SOA ns.relay.test. hostmaster.relay.test. 1 3600 600 86400 300
            @ IN NS ns.relay.test.
            ns IN A 127.0.0.1
            @ IN MX 10 smtp.relay.test.
            smtp IN A 127.0.20.9
            @ IN TXT "v=spf1 mx -all"
            _dmarc IN TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@relay.test"
            """), .text("test", RunIntegrationTests.topZone)])
        try await nsd.start()
        return Lab(directory: directory, nsd: nsd, ca: ca, postfix: postfix)
    }

    @Test func theReportIsMailedWithItsMIMEStructureAndTheRerunFindsNoChanges() async throws {
        let lab = try await Self.startLab()
        defer { lab.stop() }
        let environment = ["RUN_SMTP_PASSWORD": lab.postfix.password]
        let config = lab.config(extra: "expect_dmarc = \"quarantine\"")
        let first = try await mailaudit(["run", "--config", config.path, "--format", "json", "--verification-time", "2030-01-01T00:00:00Z"],
                                        environment: environment)
        #expect(first.exitCode == 0, "\(first)")
        let summary = try json(first.stdout)
        #expect((summary["runId"] as? String)?.isEmpty == false)
        #expect((summary["changes"] as? [Any])?.isEmpty == true)
        #expect((summary["delivery"] as? [String: Any])?["status"] as? String == "sent")
        #expect(!first.stdout.contains(lab.postfix.password) && !first.stderr.contains(lab.postfix.password))

        let messages = await lab.postfix.waitForMessages(count: 2) { $0.contains("X-Mailaudit-Run:") }
        #expect(messages.count == 2, "one copy for each recipient")
        let message = try #require(messages.first)
        let headers = message.components(separatedBy: "\r\n\r\n").first ?? message.components(separatedBy: "\n\n").first ?? ""
        #expect(headers.contains("Subject: mailaudit: 0 changes, 0 failures across 1 domain"))
        #expect(headers.contains("From: mailaudit@relay.test") || headers.contains("From: <mailaudit@relay.test>"))
        #expect(headers.range(of: #"Message-ID: <[^>]+@relay\.test>"#, options: .regularExpression) != nil)
        #expect(headers.range(of: #"Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}"#, options: .regularExpression) != nil)
        #expect(message.contains("Content-Type: multipart/mixed"))
        #expect(message.contains("Content-Type: multipart/alternative"))
        #expect(message.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(message.contains("Content-Type: text/html; charset=utf-8"))
        #expect(message.contains("Content-Type: application/json"))
        #expect(message.contains("First run: there is no earlier run to compare with."))

        let second = try await mailaudit(
            ["run", "--config", lab.config(send: "on-change", extra: "expect_dmarc = \"quarantine\"").path, "--format", "json",
             "--verification-time", "2030-01-01T00:00:00Z"], environment: environment)
        #expect(second.exitCode == 0, "\(second)")
        let again = try json(second.stdout)
        #expect((again["changes"] as? [Any])?.isEmpty == true, "an unchanged re-run reports zero changes")
        #expect((again["delivery"] as? [String: Any])?["status"] as? String == "not-sent")

        let history = try await mailaudit(["history", "relay.test", "--config", config.path, "--format", "json"])
        #expect(history.exitCode == 0, "\(history)")
        #expect((try json(history.stdout)["runs"] as? [Any])?.count == 2)
        let diff = try await mailaudit(["history", "relay.test", "--config", config.path, "--diff"])
        #expect(diff.exitCode == 0, "\(diff)")
        #expect(diff.stdout.contains(": 0 changes"))
    }

    @Test func aRelayThatRefusesLeavesTheRunStoredAndPrintsTheDiagnosis() async throws {
        let lab = try await Self.startLab()
        defer { lab.stop() }
        let config = lab.config(relayPort: 2525)
        let result = try await mailaudit(["run", "--config", config.path, "--send-backoff", "0"], environment: ["RUN_SMTP_PASSWORD": "x"])
        #expect(result.exitCode == 4, "\(result)")
        #expect(result.stdout.contains("Relay diagnosis"))
        #expect(result.stdout.contains("Root cause: connect (connectivity)"))
        let history = try await mailaudit(["history", "relay.test", "--config", config.path, "--format", "json"])
        #expect((try json(history.stdout)["runs"] as? [Any])?.count == 1, "the findings were stored before sending")
    }

    /// 451 at RCPT is transient: the report is tried again (three walks in all), then the run
    /// exits 4 with the diagnosis of the failing step.
    @Test func aTransientRefusalIsRetriedWithBackoff() async throws {
        let lab = try await Self.startLab()
        defer { lab.stop() }
        let greylisting = ScriptedSMTPListener(.greylists, address: "127.0.21.40")
        try await greylisting.start()
        let port = try greylisting.requirePort()
        let text = try String(contentsOf: lab.config(send: "always"), encoding: .utf8)
            .replacingOccurrences(of: "host = \"smtp.relay.test\"", with: "host = \"127.0.21.40\"")
            .replacingOccurrences(of: "port = 587", with: "port = \(port)")
            .replacingOccurrences(of: "security = \"starttls\"", with: "security = \"none\"")
            .components(separatedBy: "\n").filter { !$0.hasPrefix("user =") && !$0.hasPrefix("password_env =") }.joined(separator: "\n")
        let config = lab.directory.appendingPathComponent("greylisted.toml")
        try Data(text.utf8).write(to: config)
        let result = try await mailaudit(["run", "--config", config.path, "--send-backoff", "0.2"])
        await greylisting.stop()
        #expect(result.exitCode == 4, "\(result)")
        #expect(greylisting.connectionsAccepted == 3, "three attempts")
        #expect(result.stdout.contains("Root cause: rcpt (policy)"), "\(result.stdout)")
    }

    @Test func aDryRunWritesTheMessage() async throws {
        let lab = try await Self.startLab()
        defer { lab.stop() }
        let out = lab.directory.appendingPathComponent("report.eml")
        let result = try await mailaudit(["run", "--config", lab.config().path, "--dry-run", out.path], environment: ["RUN_SMTP_PASSWORD": "x"])
        #expect(result.exitCode == 0, "\(result)")
        let text = try String(contentsOf: out, encoding: .utf8)
        #expect(text.contains("MIME-Version: 1.0"))
        #expect(lab.postfix.maildirMessages().isEmpty, "nothing was sent")
    }

    @Test func aSecondRunWhileTheFirstHoldsTheLockSaysSo() async throws {
        let lab = try await Self.startLab()
        defer { lab.stop() }
        let config = lab.config(send: "never")
        let store = try await History.open(sqlitePath: lab.directory.appendingPathComponent("history.sqlite").path)
        try await store.migrate()
        let result = try await store.withRunLock(.fail) {
            try await mailaudit(["run", "--config", config.path])
        }
        await store.close()
        #expect(result.exitCode == 3, "\(result)")
        #expect(result.stderr.lowercased().contains("lock") || result.stderr.lowercased().contains("running"), "\(result.stderr)")
        let waited = try await mailaudit(["run", "--config", config.path, "--wait-lock", "5"])
        #expect(waited.exitCode == 0, "the lock is free again: \(waited)")
    }

    @Test(arguments: [
        ("[history]\nsqlite = \"/tmp/x.sqlite\"\n[report]\nsend = \"never\"\n[[domain]]\nname = \"example.com\"\nbogus = 1\n", "bogus"),
        ("[history]\nsqlite = \"/tmp/x.sqlite\"\n[report]\nsend = \"never\"\n[relay]\nhost = \"smtp.example.com\"\npassword = \"hunter2\"\n[[domain]]\nname = \"example.com\"\n", "password_env"),
        ("[history]\nsqlite = 5\n[[domain]]\nname = \"example.com\"\n", "history"),
        ("this is = = not toml", "test"),
        // TOMLKit's toml++ aborted the process on this (docs/fuzzing.md); our parser reports it.
        ("[history]\nsqlite = \"/tmp/x.sqlite\"\nchecks = [\"mx\", }\"spf\"]\n", ":3: not valid TOML: expected a value"),
    ])
    func configErrorsNameTheFileLineAndKey(text: String, fragment: String) async throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString.prefix(8)).toml")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let result = try await mailaudit(["config", "check", url.path])
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains(url.lastPathComponent), "the file is named: \(result.stderr)")
        #expect(result.stderr.range(of: #":\d+:"#, options: .regularExpression) != nil, "the line is named: \(result.stderr)")
        #expect(result.stderr.contains(fragment) || fragment == "test", "\(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
        let run = try await mailaudit(["run", "--config", url.path])
        #expect(run.exitCode == 2)
    }

    @Test func theExampleConfigIsValid() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/mailaudit.toml")
        let result = try await mailaudit(["config", "check", example.path])
        #expect(result.exitCode == 0, "\(result)")
    }
}
