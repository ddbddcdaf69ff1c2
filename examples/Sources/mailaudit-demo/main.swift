// The offline demo. It serves the zones in examples/zones with a local NSD on 127.0.0.1, makes a
// test CA and starts a private Postfix on the demo's MX addresses (127.0.10.x and ::1) and a
// Postfix submission service with SASL on 127.0.30.1 (587, 465), then runs the real `mailaudit`
// binary against them: audits, relay diagnoses and reply explanations. Nothing leaves this machine.
//
//   scripts/demo [extra mailaudit options, e.g. --format json]
import Foundation
import MailAuditTesting

/// The demo's narration goes to standard output with the reports, in order.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

func fail(_ text: String) -> Never {
    FileHandle.standardError.write(Data("mailaudit-demo: \(text)\n".utf8))
    exit(1)
}

let extra = Array(CommandLine.arguments.dropFirst())
let zones = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("zones")

do {
    let mailaudit = try builtProductPath("mailaudit")
    let nsd = try NSDServer(zoneDirectory: zones)
    try await nsd.start()
    defer { nsd.stop() }
    let resolver = "127.0.0.1:\(try nsd.requirePort())"
    say("NSD serves \(zones.path) on \(resolver).")

    var probe = ["--no-probe"]
    var lab: (PostfixServer, TestCA)?
    if geteuid() == 0 {
        // Certificates valid from yesterday for 90 days, so they are judged at the real time.
        let now = Date()
        let validity = (notBefore: now.addingTimeInterval(-86_400), notAfter: now.addingTimeInterval(90 * 86_400))
        let ca = try await TestCA.create()
        let mx1 = try await ca.issue(.valid, for: "mx1.good.example.test", validity: validity)
        let mx2 = try await ca.issue(.valid, for: "mx2.good.example.test", validity: validity)
        let intranet = try await ca.issue(.selfSigned, for: "intranet.broken.example.test", validity: validity)
        let postfix = PostfixServer(listeners: [
            .starttls("mx1", address: "127.0.10.1", hostName: "mx1.good.example.test", chainFile: mx1.chainFile),
            .starttls("mx1v6", address: "::1", hostName: "mx1.good.example.test", chainFile: mx1.chainFile),
            .starttls("mx2", address: "127.0.10.2", hostName: "mx2.good.example.test", chainFile: mx2.chainFile),
            .starttls("intranet", address: "127.0.10.3", hostName: "intranet.broken.example.test", chainFile: intranet.chainFile),
            .plain("implicit", address: "127.0.10.4", hostName: "implicit.example.test"),
        ])
        try await postfix.start()
        lab = (postfix, ca)
        let port = try postfix.requirePort()
        probe = ["--smtp-port", "\(port)", "--ca-file", ca.rootFile.path, "--connect-timeout", "2", "--greeting-timeout", "5"]
        say("Postfix listens on 127.0.10.1-4 and [::1], port \(port): valid certificates for mx1 and mx2.good.example.test,")
        say("a self-signed one for intranet.broken.example.test, and no STARTTLS for implicit.example.test.")
        say("The test CA's root is passed with --ca-file, as a lab would.")
    } else {
        say("Not root, so no Postfix lab: the MX probe is skipped (--no-probe).")
    }
    defer {
        lab?.0.stop()
        lab?.1.remove()
    }

    func audit(_ arguments: [String]) async throws {
        let all = ["--resolver", resolver, "--allow-private-addresses"] + probe + arguments + extra
        say("\n$ mailaudit \(all.joined(separator: " "))")
        let result = try await runProcess(mailaudit, all, environment: ["NO_COLOR": ""], timeout: .seconds(120))
        FileHandle.standardOutput.write(Data(result.stdout.utf8))
        if !result.stderr.isEmpty { say(result.stderr) }
        say("(exit code \(result.exitCode))")
    }

    try await audit(["good.example.test", "broken.example.test", "implicit.example.test", "nomail.example.test"])
    // Sending addresses: one with forward-confirmed reverse DNS that SPF authorises, one with
    // no PTR that SPF rejects.
    try await audit(["--ip", "127.0.10.1", "--ip", "127.0.10.77", "--no-probe", "good.example.test"])
    // A subdomain with no DMARC record of its own, governed through the RFC 9989 tree walk.
    try await audit(["--no-probe", "news.good.example.test"])
    // One SPF evaluation, with the terms that decided.
    say("\n$ mailaudit spf good.example.test --ip 127.0.10.50 --resolver \(resolver)")
    let spf = try await runProcess(mailaudit, ["spf", "good.example.test", "--ip", "127.0.10.50", "--resolver", resolver])
    FileHandle.standardOutput.write(Data(spf.stdout.utf8))

    try await transportDemo(mailaudit: mailaudit, probing: lab != nil, ca: lab?.1)
    try await relayDemo(mailaudit: mailaudit, resolver: resolver)
    try await explainDemo(mailaudit: mailaudit)
    try await scheduledDemo(mailaudit: mailaudit, zones: zones)
} catch {
    fail("\(error)")
}
