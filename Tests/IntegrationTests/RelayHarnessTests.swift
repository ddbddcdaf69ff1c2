import Foundation
import MailAuditCore
import MailAuditTesting
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Tag {
    /// The servers of the `relay` tests: Postfix submission listeners, scripted SMTP responders, filtered ports.
    @Tag static var relayHarness: Self
}

// MARK: - A tiny blocking SMTP line client

/// What a TCP connect with a deadline ended in.
private enum ConnectOutcome: Equatable, Sendable {
    case connected
    /// RST: nothing listens.
    case refused
    /// No answer to the SYN before the deadline.
    case timedOut
    case failed(String)
}

/// A blocking SMTP client for these tests: connect, read whole replies, send lines. Every call
/// has a deadline; use it inside ``onThread(_:)``, never on the cooperative pool.
private final class LineClient {
    private let descriptor: Int32
    private var received: [UInt8] = []

    private init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    /// Connects with a non-blocking connect and poll(2), so that refused and timed out differ.
    static func dial(_ address: IPAddress, port: UInt16, timeout: Duration = .seconds(3)) -> (ConnectOutcome, LineClient?) {
        let descriptor = socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return (.failed("socket: \(errno)"), nil) }
        let client = LineClient(descriptor: descriptor)
        let started = address.withSocketAddress(port: port) { connect(descriptor, $0, $1) }
        if started != 0 && errno != EINPROGRESS { return (errno == ECONNREFUSED ? .refused : .failed("connect: \(errno)"), nil) }
        var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return (.timedOut, nil) }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
        if error == ECONNREFUSED { return (.refused, nil) }
        if error != 0 { return (.failed("SO_ERROR \(error)"), nil) }
        // Blocking from now on, with 5-second reads and writes.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        var wait = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        return (.connected, client)
    }

    /// One whole reply, its lines joined by "\n"; "<closed>" when the server closed or stayed silent.
    func readReply() -> String {
        var lines: [String] = []
        while let line = readLine() {
            lines.append(line)
            if line.count < 4 || Array(line)[3] != "-" { return lines.joined(separator: "\n") }
        }
        return lines.isEmpty ? "<closed>" : lines.joined(separator: "\n") + "\n<closed>"
    }

    func sendLine(_ text: String) {
        sendRaw(text + "\r\n")
    }

    /// Sends `text` as it is, without a line end.
    func sendRaw(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends `text` and returns the reply.
    func command(_ text: String) -> String {
        sendLine(text)
        return readReply()
    }

    /// True when the server closed the connection (read returns 0 or fails) within the read timeout.
    func isClosedByServer() -> Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, 0) <= 0
    }

    private func readLine() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let end = received.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(received[..<end])
                received.removeSubrange(...end)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            received += buffer[0..<count]
        }
    }
}

/// Runs blocking socket code on a thread of its own.
private func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// Connects, reads the greeting, sends each line and reads its reply: [greeting, reply, …].
/// A failed connect gives ["<refused>"], ["<timed out>"] or ["<failed …>"].
private func smtpDialogue(_ address: IPAddress, port: UInt16, _ lines: [String]) async -> [String] {
    await onThread {
        let (outcome, client) = LineClient.dial(address, port: port)
        guard let client else { return ["<\(outcome)>"] }
        return [client.readReply()] + lines.map { client.command($0) }
    }
}

private func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

/// The AUTH PLAIN response: authorization identity (empty), NUL, login, NUL, password (RFC 4616).
private func plainResponse(_ login: String, _ password: String) -> String { base64("\u{0}\(login)\u{0}\(password)") }

// MARK: - Postfix submission listeners

/// One Postfix with the submission listeners of the relay tests, on 127.0.22.x (the relay
/// command's own tests may take 127.0.20.x). Started once around the suite.
private struct RelayHarnessLab: Sendable {
    @TaskLocal static var current: RelayHarnessLab?

    static let submission = IPAddress.v4([127, 0, 22, 1])  // 587 STARTTLS and 465 implicit TLS
    static let tlsRequired = IPAddress.v4([127, 0, 22, 2])
    static let authBeforeTLS = IPAddress.v4([127, 0, 22, 3])
    static let tls10 = IPAddress.v4([127, 0, 22, 4])

    let ca: TestCA
    let postfix: PostfixSubmissionServer

    static func start() async throws -> RelayHarnessLab {
        let ca = try await TestCA.create()
        let chain = try await ca.issue(.valid, for: "smtp.relay.test").chainFile
        let postfix = PostfixSubmissionServer(listeners: [
            .submission("587", address: submission.description, port: 587, chainFile: chain),
            .implicitTLS("465", address: submission.description, port: 465, chainFile: chain),
            .tlsRequired("tls-required", address: tlsRequired.description, port: 587, chainFile: chain),
            .authBeforeTLS("auth-before-tls", address: authBeforeTLS.description, port: 587, chainFile: chain),
            .tls10Only("tls10", address: tls10.description, port: 587, chainFile: chain),
        ])
        try await postfix.start()
        return RelayHarnessLab(ca: ca, postfix: postfix)
    }

    func stop() {
        postfix.stop()
        ca.remove()
    }

    /// `openssl s_client` with `arguments`, sending `input` lines (CRLF) after the handshake;
    /// its stdout and stderr together.
    func openssl(_ arguments: [String], input: [String]) async throws -> String {
        let result = try await runProcess(
            ca.openssl, ["s_client", "-quiet", "-crlf", "-CAfile", ca.rootFile.path] + arguments,
            standardInput: Data((input.joined(separator: "\n") + "\n").utf8), timeout: .seconds(20))
        return result.stdout + result.stderr
    }
}

private struct RelayHarnessLabTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let lab = try await RelayHarnessLab.start()
        defer { lab.stop() }
        try await RelayHarnessLab.$current.withValue(lab) { try await function() }
    }
}

extension Trait where Self == RelayHarnessLabTrait {
    fileprivate static var relayHarnessLab: Self { RelayHarnessLabTrait() }
}

/// PostfixSubmissionServer on its own: greetings, AUTH, relay rules, TLS modes, the Maildir.
/// Needs root (Postfix, ports 587 and 465).
@Suite(.serialized, .tags(.harness, .smtp, .relayHarness), .relayHarnessLab)
struct RelayHarnessPostfixTests {
    private func lab() throws -> RelayHarnessLab { try #require(RelayHarnessLab.current) }

    @Test func everyListenerGreetsOnItsOwnAddressAndPort() async throws {
        let postfix = try lab().postfix
        #expect(postfix.ports == ["587": 587, "465": 465, "tls-required": 587, "auth-before-tls": 587, "tls10": 587])
        for address in [RelayHarnessLab.submission, RelayHarnessLab.tlsRequired, RelayHarnessLab.authBeforeTLS, RelayHarnessLab.tls10] {
            let line = await LoopbackPorts.firstLine(from: address, port: 587)
            #expect(line == "220 smtp.relay.test ESMTP mailaudit test instance", "\(address)")
        }
        #expect(await LoopbackPorts.accepts(RelayHarnessLab.submission, port: 465))
        #expect(postfix.password.count == 24)
        #expect(postfix.login == "relayuser@relay.test")
    }

    @Test func submissionOffersSTARTTLSAndNoAUTHBeforeIt() async throws {
        let replies = await smtpDialogue(RelayHarnessLab.submission, port: 587, ["EHLO client.test", "QUIT"])
        #expect(replies[1].contains("250-STARTTLS"))
        #expect(!replies[1].contains("AUTH"), "smtpd_tls_auth_only: \(replies[1])")
        #expect(replies[2].hasPrefix("221"))
    }

    @Test func relayingWithoutAUTHIsDeniedWith550() async throws {
        let replies = await smtpDialogue(
            RelayHarnessLab.submission, port: 587, ["EHLO client.test", "MAIL FROM:<a@relay.test>", "RCPT TO:<x@elsewhere.test>", "QUIT"])
        #expect(replies[2].hasPrefix("250"))
        #expect(replies[3] == "550 5.7.1 <x@elsewhere.test>: Relay access denied")
    }

    @Test func tlsRequiredRefusesMAILAndAUTHBeforeSTARTTLS() async throws {
        let postfix = try lab().postfix
        let replies = await smtpDialogue(
            RelayHarnessLab.tlsRequired, port: 587,
            ["EHLO client.test", "MAIL FROM:<a@relay.test>", "AUTH PLAIN \(plainResponse(postfix.user, postfix.password))", "QUIT"])
        #expect(replies[1].contains("250-STARTTLS"))
        #expect(replies[2] == "530 5.7.0 Must issue a STARTTLS command first")
        #expect(replies[3] == "530 5.7.0 Must issue a STARTTLS command first")
    }

    @Test func authBeforeTLSAcceptsPlainAndLoginWithOrWithoutRealm() async throws {
        let postfix = try lab().postfix
        let replies = await smtpDialogue(
            RelayHarnessLab.authBeforeTLS, port: 587,
            [
                "EHLO client.test", "AUTH PLAIN \(plainResponse(postfix.user, postfix.password))", "QUIT",
            ])
        #expect(replies[1].contains("250-STARTTLS"))
        #expect(replies[1].contains("250-AUTH PLAIN LOGIN CRAM-MD5"))
        #expect(replies[2] == "235 2.7.0 Authentication successful")
        let login = await smtpDialogue(
            RelayHarnessLab.authBeforeTLS, port: 587,
            ["EHLO client.test", "AUTH LOGIN", base64(postfix.login), base64(postfix.password), "QUIT"])
        #expect(login[2] == "334 VXNlcm5hbWU6")
        #expect(login[3] == "334 UGFzc3dvcmQ6")
        #expect(login[4] == "235 2.7.0 Authentication successful")
        let wrong = await smtpDialogue(
            RelayHarnessLab.authBeforeTLS, port: 587, ["EHLO client.test", "AUTH PLAIN \(plainResponse(postfix.login, "wrong"))", "QUIT"])
        #expect(wrong[2].hasPrefix("535 5.7.8"))
    }

    @Test func authenticatedMailIsDeliveredToTheMaildir() async throws {
        let postfix = try lab().postfix
        let subject = "harness \(UUID().uuidString)"
        let replies = await smtpDialogue(
            RelayHarnessLab.authBeforeTLS, port: 587,
            [
                "EHLO client.test", "AUTH PLAIN \(plainResponse(postfix.login, postfix.password))", "MAIL FROM:<a@relay.test>",
                "RCPT TO:<b@inbox.test>", "RCPT TO:<x@elsewhere.test>", "DATA",
                "From: <a@relay.test>\r\nTo: <b@inbox.test>\r\nSubject: \(subject)\r\n\r\nHello.\r\n..dot-stuffed\r\n.", "QUIT",
            ])
        #expect(replies[2].hasPrefix("235"))
        #expect(replies[4] == "250 2.1.5 Ok")
        #expect(replies[5] == "250 2.1.5 Ok", "relaying once authenticated")
        #expect(replies[6].hasPrefix("354"))
        #expect(replies[7].hasPrefix("250 2.0.0 Ok: queued as"))
        let messages = await postfix.waitForMessages(count: 2) { $0.contains("Subject: \(subject)") }
        #expect(messages.count == 2, "one copy per recipient\n\(postfix.log)")
        #expect(messages.contains { $0.contains("Delivered-To: b@inbox.test") })
        #expect(messages.contains { $0.contains("Delivered-To: x@elsewhere.test") })
        #expect(messages.allSatisfy { $0.contains("\n.dot-stuffed\n") })
    }

    @Test func submissionAuthenticatesAfterSTARTTLS() async throws {
        let lab = try lab()
        let output = try await lab.openssl(
            ["-starttls", "smtp", "-connect", "\(RelayHarnessLab.submission):587", "-servername", "smtp.relay.test"],
            input: ["EHLO client.test", "AUTH PLAIN \(plainResponse(lab.postfix.user, lab.postfix.password))", "QUIT"])
        #expect(output.contains("250-AUTH PLAIN LOGIN CRAM-MD5"), "\(output)")
        #expect(output.contains("235 2.7.0 Authentication successful"), "\(output)")
    }

    @Test func implicitTLSGreetsAfterTheHandshakeAndAuthenticates() async throws {
        let lab = try lab()
        let output = try await lab.openssl(
            ["-connect", "\(RelayHarnessLab.submission):465", "-servername", "smtp.relay.test"],
            input: ["EHLO client.test", "AUTH PLAIN \(plainResponse(lab.postfix.login, lab.postfix.password))", "QUIT"])
        #expect(output.contains("220 smtp.relay.test ESMTP"), "\(output)")
        #expect(output.contains("235 2.7.0 Authentication successful"), "\(output)")
    }

    @Test func tls10OnlyNegotiatesTLS10AndRefusesTLS12() async throws {
        let lab = try lab()
        let old = try await lab.openssl(
            ["-starttls", "smtp", "-connect", "\(RelayHarnessLab.tls10):587", "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"],
            input: ["QUIT"])
        #expect(old.contains("Protocol version: TLSv1\n"), "\(old)")
        let modern = try await lab.openssl(["-starttls", "smtp", "-connect", "\(RelayHarnessLab.tls10):587", "-tls1_2", "-brief"], input: ["QUIT"])
        #expect(!modern.contains("Protocol version"), "\(modern)")
    }
}

// MARK: - The scripted responder

/// ScriptedSMTPListener on its own, on 127.0.23.x.
@Suite(.serialized, .tags(.harness, .smtp, .relayHarness))
struct RelayHarnessScriptedTests {
    static let address = IPAddress.v4([127, 0, 23, 1])

    func started(_ script: ScriptedSMTPListener.Script) async throws -> ScriptedSMTPListener {
        let server = ScriptedSMTPListener(script, address: Self.address.description)
        try await server.start()
        return server
    }

    @Test func acceptsAWholeSessionAndRecordsIt() async throws {
        let server = try await started(.accepting)
        let port = try server.requirePort()
        let replies = await smtpDialogue(
            Self.address, port: port,
            [
                "EHLO client.test", "AUTH PLAIN \(plainResponse("user", "pass"))", "AUTH PLAIN", plainResponse("user", "pass"),
                "AUTH LOGIN", base64("user"), base64("pass"), "MAIL FROM:<a@relay.test>", "RCPT TO:<b@inbox.test>", "DATA",
                "Subject: hi\r\n\r\n..leading dot\r\nend\r\n.", "RSET", "NOOP", "STARTTLS", "QUIT",
            ])
        #expect(replies == [
            "220 scripted.test ESMTP",
            "250-scripted.test\n250-SIZE 10240000\n250-AUTH PLAIN LOGIN\n250-ENHANCEDSTATUSCODES\n250 8BITMIME",
            "235 2.7.0 Authentication successful",
            "334 ", "235 2.7.0 Authentication successful",
            "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 Authentication successful",
            "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>", "250 2.0.0 Ok: queued as SCRIPTED1",
            "250 2.0.0 Ok", "250 2.0.0 Ok", "502 5.5.2 Error: command not recognized", "221 2.0.0 Bye",
        ])
        #expect(server.commandsReceived == [
            "EHLO client.test", "AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH PLAIN", "AHVzZXIAcGFzcw==", "AUTH LOGIN", "dXNlcg==", "cGFzcw==",
            "MAIL FROM:<a@relay.test>", "RCPT TO:<b@inbox.test>", "DATA", "RSET", "NOOP", "STARTTLS", "QUIT",
        ])
        #expect(server.messagesReceived == ["Subject: hi\r\n\r\n.leading dot\r\nend\r\n"])
        #expect(server.connectionsAccepted == 1)
        await server.stop()
        #expect(server.port == nil)
    }

    @Test func busyGreetingCloses() async throws {
        let server = try await started(.busy)
        let port = try server.requirePort()
        let closed = await onThread {
            let (_, client) = LineClient.dial(Self.address, port: port)
            guard let client else { return (greeting: "", closed: false) }
            return (greeting: client.readReply(), closed: client.isClosedByServer())
        }
        #expect(closed.greeting == "421 4.7.0 scripted.test Too many connections, try again later")
        #expect(closed.closed)
        await server.stop()
    }

    /// A preset, the index of the reply it changes in the dialogue below, and that reply.
    struct Preset: Sendable, CustomTestStringConvertible {
        var name: String
        var script: ScriptedSMTPListener.Script
        var index: Int
        var reply: String
        var testDescription: String { name }
    }

    static let presets = [
        Preset(name: "rejectsCredentials", script: .rejectsCredentials, index: 2, reply: "535 5.7.8 Error: authentication failed: authentication failure"),
        Preset(name: "mailNeedsAuthentication", script: .mailNeedsAuthentication, index: 3, reply: "530 5.7.0 Authentication required"),
        Preset(name: "tooManyRecipients", script: .tooManyRecipients, index: 4, reply: "452 4.5.3 Error: too many recipients"),
        Preset(name: "greylists", script: .greylists, index: 4, reply: "451 4.7.1 Greylisted, please try again later"),
    ]

    @Test(arguments: presets)
    func answersAsScripted(_ preset: Preset) async throws {
        let server = try await started(preset.script)
        let replies = await smtpDialogue(
            Self.address, port: try server.requirePort(),
            ["EHLO client.test", "AUTH PLAIN \(plainResponse("user", "pass"))", "MAIL FROM:<a@relay.test>", "RCPT TO:<b@inbox.test>", "QUIT"])
        #expect(replies[preset.index] == preset.reply, "\(replies)")
        #expect(replies.last == "221 2.0.0 Bye")
        await server.stop()
    }

    @Test func cramMD5AndCancelledAUTH() async throws {
        let server = try await started(.accepting)
        let replies = await smtpDialogue(
            Self.address, port: try server.requirePort(),
            ["EHLO client.test", "AUTH CRAM-MD5", base64("user 0123456789abcdef"), "AUTH LOGIN", "*", "AUTH PLAIN", "*", "AUTH XOAUTH2 x", "QUIT"])
        #expect(replies[2] == "334 PDE4OTYuNjk3MTcwOTUyQHNjcmlwdGVkLnRlc3Q+")
        #expect(Data(base64Encoded: "PDE4OTYuNjk3MTcwOTUyQHNjcmlwdGVkLnRlc3Q+").map { String(decoding: $0, as: UTF8.self) } == "<1896.697170952@scripted.test>")
        #expect(replies[3] == "235 2.7.0 Authentication successful")
        #expect(replies[4] == "334 VXNlcm5hbWU6")
        #expect(replies[5] == "501 5.7.0 Authentication aborted")
        #expect(replies[6] == "334 ")
        #expect(replies[7] == "501 5.7.0 Authentication aborted")
        #expect(replies[8].hasPrefix("535"))
        #expect(server.commandsReceived.contains(base64("user 0123456789abcdef")))
        await server.stop()
    }

    @Test func dataWithoutAcceptedRecipientIsRefused() async throws {
        let server = try await started(.tooManyRecipients)
        let replies = await smtpDialogue(
            Self.address, port: try server.requirePort(), ["EHLO client.test", "MAIL FROM:<a@relay.test>", "RCPT TO:<b@inbox.test>", "DATA"])
        #expect(replies[3].hasPrefix("452"))
        #expect(replies[4] == "554 5.5.1 Error: no valid recipients")
        #expect(server.messagesReceived.isEmpty)
        await server.stop()
    }

    @Test func anEndlessLineIsCutOff() async throws {
        let server = try await started(.accepting)
        let port = try server.requirePort()
        let reply = await onThread {
            let (_, client) = LineClient.dial(Self.address, port: port)
            guard let client else { return "" }
            _ = client.readReply()
            for _ in 0..<40 { client.sendLine(String(repeating: "x", count: 1022)) }  // lines, fine
            client.sendRaw(String(repeating: "y", count: 20_000))
            return (0..<41).map { _ in client.readReply() }.last ?? ""
        }
        #expect(reply.hasPrefix("500 5.5.2"), "\(reply)")
        #expect(server.commandsReceived.count == 40)
        await server.stop()
    }

    @Test func aMessageOverOneMiBIsRefusedAndKeptCut() async throws {
        let server = try await started(.accepting)
        let port = try server.requirePort()
        let reply = await onThread {
            let (_, client) = LineClient.dial(Self.address, port: port)
            guard let client else { return "" }
            _ = client.readReply()
            for command in ["EHLO client.test", "MAIL FROM:<a@relay.test>", "RCPT TO:<b@inbox.test>", "DATA"] { _ = client.command(command) }
            let line = String(repeating: "z", count: 998) + "\r\n"
            for _ in 0..<11 { client.sendRaw(String(repeating: line, count: 100)) }  // 1.1 MB
            return client.command(".")
        }
        #expect(reply == "552 5.3.4 Error: message file too big")
        #expect(server.messagesReceived.first.map { $0.utf8.count <= 1 << 20 } == true)
        await server.stop()
    }

    @Test func refusesAnAddressOffLoopback() async {
        let server = ScriptedSMTPListener(address: "192.0.2.1")
        await #expect(throws: HarnessError.notLoopback("192.0.2.1")) { try await server.start() }
    }
}

// MARK: - The filtered port

/// FilteredPort on its own: a SYN to a dropped port times out, one to another port is
/// refused, and a scripted listener behind it answers. Needs root (network namespaces).
@Suite(.serialized, .tags(.harness, .relayHarness))
struct RelayHarnessFilteredPortTests {
    private func connect(_ address: IPAddress, _ port: UInt16) async -> ConnectOutcome {
        await onThread { LineClient.dial(address, port: port, timeout: .milliseconds(1500)).0 }
    }

    @Test func droppedPortTimesOutAndAnotherIsRefused() async throws {
        let filtered = FilteredPort(droppedPorts: [587, 465])
        try await filtered.start()
        let target = try filtered.requireAddress()
        let namespace = try #require(filtered.namespace)
        #expect(target.description.hasPrefix("10.254."))
        #expect(FileManager.default.fileExists(atPath: "/run/netns/\(namespace)"))
        #expect(["iptables", "iptables-legacy", "nft"].contains(filtered.firewall ?? ""))
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await connect(target, 587) == .timedOut)
        #expect(clock.now - start >= .milliseconds(1400))
        #expect(await connect(target, 465) == .timedOut)
        #expect(await connect(target, 2526) == .refused)
        await filtered.stop()
        #expect(filtered.address == nil)
        #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(namespace)"))
    }

    @Test func everyPortDroppedWhenNoneAreNamed() async throws {
        let filtered = FilteredPort(droppedPorts: nil)
        try await filtered.start()
        let target = try filtered.requireAddress()
        #expect(await connect(target, 25) == .timedOut)
        #expect(await connect(target, 2526) == .timedOut)
        await filtered.stop()
    }

    @Test func aScriptedListenerAnswersBehindIt() async throws {
        let filtered = FilteredPort(droppedPorts: [587])
        try await filtered.start()
        let target = try filtered.requireAddress()
        let open = ScriptedSMTPListener(.accepting, behind: filtered, port: 2525)
        try await open.start()
        #expect(open.port == 2525)
        let replies = await smtpDialogue(target, port: 2525, ["EHLO client.test", "QUIT"])
        #expect(replies.first == "220 scripted.test ESMTP")
        #expect(replies.last == "221 2.0.0 Bye")
        #expect(await connect(target, 587) == .timedOut)
        await open.stop()
        await filtered.stop()
    }
}
