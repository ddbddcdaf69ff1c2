import Foundation
import MailAuditTesting

/// `mailaudit relay` against a Postfix submission service with Cyrus SASL on 127.0.30.1 (as
/// root), and against a name that does not exist. The password goes through the environment,
/// never the command line.
func relayDemo(mailaudit: URL, resolver: String) async throws {
    say("\n=== Relay diagnosis ===")
    guard geteuid() == 0 else {
        say("Not root, so no submission server: only the DNS step of a relay is shown.")
        try await relay(mailaudit, ["nothere.relay.example.test", "--resolver", resolver])
        return
    }
    let now = Date()
    let validity = (notBefore: now.addingTimeInterval(-86_400), notAfter: now.addingTimeInterval(90 * 86_400))
    let ca = try await TestCA.create()
    defer { ca.remove() }
    let certificate = try await ca.issue(.valid, for: "smtp.relay.example.test", validity: validity)
    let postfix = PostfixSubmissionServer(
        listeners: [
            .submission("587", address: "127.0.30.1", port: 587, hostName: "smtp.relay.example.test", chainFile: certificate.chainFile),
            .implicitTLS("465", address: "127.0.30.1", port: 465, hostName: "smtp.relay.example.test", chainFile: certificate.chainFile),
        ],
        user: "app", realm: "relay.example.test", deliveryDomain: "inbox.example.test")
    try await postfix.start()
    defer { postfix.stop() }
    say("Postfix submission on 127.0.30.1 ports 587 (STARTTLS, AUTH after TLS) and 465 (implicit TLS), SASL user \(postfix.login);")
    say("the password is random and passed in DEMO_SMTP_PASSWORD. Mail it accepts lands in a Maildir.")
    let common = ["--resolver", resolver, "--ca-file", ca.rootFile.path, "--connect-timeout", "2", "--greeting-timeout", "3"]
    let environment = ["DEMO_SMTP_PASSWORD": postfix.password]
    let login = ["--user", postfix.login, "--password-env", "DEMO_SMTP_PASSWORD"]

    say("\nNo port given: 587, 465, 25 and 2525 are tried at once; a real test message is sent.")
    try await relay(mailaudit, ["smtp.relay.example.test"] + login + ["--from", "app@relay.example.test", "--to", "ops@inbox.example.test", "--send-test"] + common,
                    environment: environment)
    let delivered = await postfix.waitForMessages(count: 1) { $0.contains("Subject: mailaudit relay test") }
    say(delivered.isEmpty ? "(the test message did not reach the Maildir)" : "The test message is in the Maildir: \(delivered.count) message(s).")

    say("\nThe application was given an alias (a CNAME): TLS verifies the name it was given, which the certificate does not carry.")
    try await relay(mailaudit, ["mail.relay.example.test:587"] + login + common, environment: environment)

    say("\nThe wrong password: the auth step is the root cause.")
    try await relay(mailaudit, ["smtp.relay.example.test:587"] + login + common, environment: ["DEMO_SMTP_PASSWORD": "wrong-password"])

    say("\nNo credentials, relaying to another domain: refused, and blamed on the missing AUTH.")
    try await relay(mailaudit, ["smtp.relay.example.test:587", "--from", "app@relay.example.test", "--to", "someone@elsewhere.example"] + common)

    say("\nSTARTTLS on the implicit-TLS port: the server waits for a TLS handshake and never greets.")
    try await relay(mailaudit, ["smtp.relay.example.test:465", "--security", "starttls"] + common)

    say("\nA misspelt relay name.")
    try await relay(mailaudit, ["smpt.relay.example.test"] + common)
}

/// `mailaudit explain` on a bare code, an enhanced code and a Postfix log line.
func explainDemo(mailaudit: URL) async throws {
    say("\n=== Explaining SMTP replies ===")
    let inputs = [
        ["535"],
        ["5.7.26"],
        ["Dec  1 10:00:00 app postfix/smtp[4242]: 4B2C: to=<ops@example.org>, relay=smtp.example.net[192.0.2.25]:587, dsn=4.2.0, "
            + "status=deferred (host smtp.example.net[192.0.2.25] said: 450 4.2.0 <ops@example.org>: Recipient address rejected: "
            + "Greylisted, see https://postgrey.schweikert.ch/help/example.org.html (in reply to RCPT TO command))"],
        ["--format", "json", "550 5.7.1 <someone@elsewhere.example>: Relay access denied"],
    ]
    for input in inputs {
        say("\n$ mailaudit explain \(input.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))")
        let result = try await runProcess(mailaudit, ["explain"] + input)
        FileHandle.standardOutput.write(Data(result.stdout.utf8))
        if !result.stderr.isEmpty { say(result.stderr) }
    }
}

private func relay(_ mailaudit: URL, _ arguments: [String], environment: [String: String] = [:]) async throws {
    say("\n$ mailaudit relay \(arguments.joined(separator: " "))")
    var all = environment
    all["NO_COLOR"] = ""
    let result = try await runProcess(mailaudit, ["relay"] + arguments, environment: all, timeout: .seconds(120))
    FileHandle.standardOutput.write(Data(result.stdout.utf8))
    if !result.stderr.isEmpty { say(result.stderr) }
    say("(exit code \(result.exitCode))")
}
