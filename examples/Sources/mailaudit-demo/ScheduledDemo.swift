import Foundation
import MailAuditTesting

/// `mailaudit run`: a scheduled audit with its history in SQLite, mailed through a Postfix
/// submission service with SASL into a local Maildir. Three runs: the baseline, one after the
/// zones changed (DMARC weakened, an SPF include added, a DKIM selector removed), and one with
/// nothing changed. Needs root for Postfix; otherwise it shows the baseline as a dry run.
func scheduledDemo(mailaudit: URL, zones: URL) async throws {
    say("\n=== Scheduled audit (mailaudit run) ===")
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-demo-run-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: work) }
    // A copy of the zones, changed between the runs.
    let copy = work.appendingPathComponent("zones")
    try FileManager.default.copyItem(at: zones, to: copy)

    let now = Date()
    let ca = try await TestCA.create()
    defer { ca.remove() }
    let certificate = try await ca.issue(
        .valid, for: "smtp.relay.example.test", validity: (now.addingTimeInterval(-86_400), now.addingTimeInterval(90 * 86_400)))
    let root = geteuid() == 0
    let postfix = PostfixSubmissionServer(
        listeners: [.submission("587", address: "127.0.30.1", port: 587, hostName: "smtp.relay.example.test", chainFile: certificate.chainFile)],
        user: "mailaudit", realm: "relay.example.test", deliveryDomain: "inbox.example.test")
    if root { try await postfix.start() }
    defer { postfix.stop() }

    func config(resolver: String) throws -> URL {
        let text = """
            # The demo's run config: see examples/mailaudit.toml for every key.
            [history]
            sqlite = "\(work.appendingPathComponent("history.sqlite").path)"

            [report]
            from = "mailaudit@relay.example.test"
            to = ["ops@inbox.example.test"]
            send = "on-change"

            [relay]
            host = "smtp.relay.example.test"
            port = 587
            security = "starttls"
            user = "\(postfix.login)"
            password_env = "DEMO_SMTP_PASSWORD"
            ca_file = "\(ca.rootFile.path)"

            [defaults]
            checks = ["mx", "rdns", "spf", "dkim", "dmarc"]
            allow_private_addresses = true
            resolvers = ["\(resolver)"]

            [[domain]]
            name = "good.example.test"
            selectors = ["selector1", "selector2"]
            expect_dmarc = "reject"

            [[domain]]
            name = "broken.example.test"
            """
        let url = work.appendingPathComponent("mailaudit.toml")
        try Data(text.utf8).write(to: url)
        return url
    }

    func run(_ title: String) async throws {
        let nsd = try NSDServer(zoneDirectory: copy)
        try await nsd.start()
        defer { nsd.stop() }
        let file = try config(resolver: "127.0.0.1:\(try nsd.requirePort())")
        var arguments = ["run", "--config", file.path]
        if !root { arguments += ["--dry-run", work.appendingPathComponent("report.eml").path] }
        say("\n\(title)\n$ mailaudit \(arguments.joined(separator: " "))")
        let result = try await runProcess(mailaudit, arguments, environment: ["DEMO_SMTP_PASSWORD": postfix.password, "NO_COLOR": ""],
                                          timeout: .seconds(120))
        FileHandle.standardOutput.write(Data(result.stdout.utf8))
        if !result.stderr.isEmpty { say(result.stderr) }
        say("(exit code \(result.exitCode))")
    }

    try await run("The first run records the baseline and mails it (a first run counts as a change for send = \"on-change\").")
    try edit(copy.appendingPathComponent("good.example.test.zone"), [
        ("p=reject;", "p=none;"),
        ("v=spf1 mx ip4:127.0.10.50 -all", "v=spf1 mx ip4:127.0.10.50 include:_spf2.broken.example.test -all"),
    ])
    try removeLines(in: copy.appendingPathComponent("good.example.test.zone"), starting: "selector2._domainkey")
    say("\nNow the zone of good.example.test changes: DMARC p=reject becomes p=none, SPF gains an include, the DKIM selector selector2 is removed.")
    try await run("The second run leads with what changed:")
    try await run("A third run with nothing changed reports zero changes, so nothing is mailed:")

    guard root else { return }
    let delivered = await postfix.waitForMessages(count: 2) { $0.contains("X-Mailaudit-Run:") }
    say("\nThe local mailbox (Postfix's Maildir) now holds \(delivered.count) report(s). The newest, as received:\n")
    if let newest = delivered.last {
        // Headers and the start of the text part; the HTML part and the JSON attachment follow in the file.
        let lines = newest.components(separatedBy: .newlines)
        say(lines.prefix(60).joined(separator: "\n"))
        say("[… \(max(0, lines.count - 60)) more lines: the rest of the text part, the HTML part and the JSON attachment]")
    }
}

private func edit(_ file: URL, _ replacements: [(String, String)]) throws {
    var text = try String(contentsOf: file, encoding: .utf8)
    for (old, new) in replacements { text = text.replacingOccurrences(of: old, with: new) }
    try Data(text.utf8).write(to: file)
}

private func removeLines(in file: URL, starting prefix: String) throws {
    let text = try String(contentsOf: file, encoding: .utf8)
    let kept = text.components(separatedBy: "\n").filter { !$0.hasPrefix(prefix) }
    try Data(kept.joined(separator: "\n").utf8).write(to: file)
}
