import Foundation
import MailAuditTesting
import Testing

/// The built binary's `relay` and `explain`: exit codes, the JSON contract, password sources,
/// and no output of any run carrying the password.
extension RelayIntegrationTests {
    func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), arguments, environment: environment, timeout: .seconds(60))
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    func common(_ lab: Lab) -> [String] {
        ["--resolver", "127.0.0.1:\(lab.nsd.port ?? 0)", "--ca-file", lab.ca.rootFile.path, "--verification-time", "2030-01-01T00:00:00Z",
         "--connect-timeout", "1", "--greeting-timeout", "2", "--command-timeout", "3", "--color", "never"]
    }

    @Test func theBinaryNeverPrintsThePassword() async throws {
        let lab = try await Self.shared.get()
        let password = lab.postfix.password
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-password-\(getpid())")
        try Data((password + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var outputs: [String] = []
        let base = ["relay", "smtp.relay.test:587", "--user", lab.postfix.login, "--from", "app@relay.test", "--to", "x@elsewhere.test"] + common(lab)
        for format in ["text", "json"] {
            let viaEnvironment = try await run(base + ["--password-env", "RELAY_PASSWORD", "--format", format, "--transcript", "-v"],
                                               environment: ["RELAY_PASSWORD": password])
            #expect(viaEnvironment.exitCode == 0, "\(viaEnvironment)")
            let viaFile = try await run(base + ["--password-file", file.path, "--format", format, "--transcript", "-v"])
            #expect(viaFile.exitCode == 0, "\(viaFile)")
            // A wrong password, the insecure flags: the failures and warnings do not show it either.
            let wrong = try await run(base + ["--password-env", "RELAY_PASSWORD", "--format", format, "--transcript", "--insecure"],
                                      environment: ["RELAY_PASSWORD": password + "x"])
            #expect(wrong.exitCode == 1)
            outputs += [viaEnvironment.stdout, viaEnvironment.stderr, viaFile.stdout, viaFile.stderr, wrong.stdout, wrong.stderr]
        }
        let encoded = Data(password.utf8).base64EncodedString()
        for output in outputs {
            #expect(!output.contains(password))
            #expect(!output.contains(encoded))
            #expect(!output.contains(Data("\0\(lab.postfix.login)\0\(password)".utf8).base64EncodedString()))
        }
        #expect(outputs[0].contains("AUTH PLAIN <redacted>"), "the transcript shows AUTH, redacted")
    }

    @Test func relayJSONCarriesTheStepsAndTheFirstFailure() async throws {
        let lab = try await Self.shared.get()
        let ok = try await run(["relay", "smtp.relay.test:587", "--format", "json"] + common(lab))
        #expect(ok.exitCode == 0, "\(ok)")
        let document = try json(ok.stdout)
        #expect(document.keys.contains("firstFailure"))
        #expect(document["firstFailure"] is NSNull)
        let steps = try #require(document["steps"] as? [[String: Any]])
        #expect(steps.compactMap { $0["step"] as? String } == ["dns", "connect", "greeting", "ehlo", "tls", "auth", "mail", "rcpt", "data"])
        #expect(steps.allSatisfy { ["pass", "warning", "fail", "skipped", "inconclusive"].contains($0["status"] as? String ?? "") })

        let denied = try await run(["relay", "smtp.relay.test:587", "--from", "a@relay.test", "--to", "x@elsewhere.test", "--format", "json"] + common(lab))
        #expect(denied.exitCode == 1)
        let failure = try #require(try json(denied.stdout)["firstFailure"] as? [String: Any])
        #expect(failure["step"] as? String == "rcpt")
        #expect(failure["category"] as? String == "authentication")
    }

    @Test func relayTextMarksTheRootCause() async throws {
        let lab = try await Self.shared.get()
        let result = try await run(["relay", "nonexistent.relay.test"] + common(lab))
        #expect(result.exitCode == 1)
        #expect(result.stdout.contains("FAIL  dns"))
        #expect(result.stdout.contains("← root cause"))
        #expect(result.stdout.contains("Root cause: dns (dns)"))
    }

    @Test(arguments: [
        (["relay"], "missing the relay"),
        (["relay", "smtp.relay.test:99999"], "a port out of range"),
        (["relay", "bad name!"], "a bad host name"),
        (["relay", "smtp.relay.test", "--password", "x"], "a password on the command line"),
        (["relay", "smtp.relay.test", "--password-env", "X"], "a password without --user"),
        (["relay", "smtp.relay.test", "--send-test"], "--send-test without an envelope"),
        (["relay", "smtp.relay.test", "--security", "tls9"], "an unknown security mode"),
        (["relay", "smtp.relay.test", "--to", "a@b.test"], "--to without --from"),
        (["relay", "smtp.relay.test", "--user", "u"], "no password and no terminal"),
        (["relay", "smtp.relay.test", "--user", "u", "--password-env", "MAILAUDIT_UNSET_VARIABLE"], "an empty variable"),
    ] as [([String], String)])
    func badRelayInputExitsTwo(arguments: [String], reason: String) async throws {
        let lab = try await Self.shared.get()
        let result = try await run(arguments + ["--resolver", "127.0.0.1:\(lab.nsd.port ?? 0)"])
        #expect(result.exitCode == 2, "\(reason): \(result)")
        #expect(!result.stderr.isEmpty, "\(reason): a message on stderr")
    }

    @Test func explainGivesTheContractFields() async throws {
        let result = try await run(["explain", "--format", "json", "550 5.7.1 <x@y.test>: Relay access denied"])
        #expect(result.exitCode == 0, "\(result)")
        let document = try json(result.stdout)
        #expect(document["code"] as? Int == 550)
        #expect(document["enhancedCode"] as? String == "5.7.1")
        #expect(document["permanent"] as? Bool == true)
        #expect(document["category"] as? String == "policy")

        let log = "Dec  1 10:00:00 mx postfix/smtp[1]: 4B2C: to=<a@b.test>, relay=mx.b.test[192.0.2.1]:25, dsn=4.2.0, status=deferred "
            + "(host mx.b.test[192.0.2.1] said: 450 4.2.0 <a@b.test>: Recipient address rejected: Greylisted (in reply to RCPT TO command))"
        let fromLog = try json(try await run(["explain", "--format", "json", log]).stdout)
        #expect(fromLog["code"] as? Int == 450)
        #expect(fromLog["permanent"] as? Bool == false)
        #expect(fromLog["step"] as? String == "rcpt")
        #expect(fromLog["category"] as? String != "rate-limit")

        let text = try await run(["explain", "535"])
        #expect(text.exitCode == 0)
        #expect(text.stdout.contains("authentication"))
    }

    @Test(arguments: ["hello there", "999", "6.1.1", "\u{1B}[31mred"])
    func explainRefusesTextThatIsNoReply(input: String) async throws {
        let result = try await run(["explain", input])
        #expect(result.exitCode == 2, "\(result)")
        #expect(!result.stderr.contains("\u{1B}"), "no raw control characters reach the terminal")
    }
}
