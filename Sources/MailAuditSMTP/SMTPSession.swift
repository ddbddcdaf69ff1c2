import Foundation
public import MailAuditCore
public import MailAuditRecords
public import MailAuditTLS

/// One SMTP session with a server, step by step: connect, greeting, EHLO, STARTTLS or
/// implicit TLS, EHLO again, then AUTH, MAIL, RCPT, RSET, DATA and QUIT (RFC 5321 §3, RFC 3207,
/// RFC 4954, RFC 8314). The MX probe, the relay diagnosis and report sending all drive it.
///
/// ```swift
/// let session = try SMTPSession.connect(to: endpoint, ehloName: "app.example.org", deadline: .now + .seconds(60))
/// _ = try session.readGreeting()                        // 220
/// _ = try session.ehlo()                                // 250, capabilities
/// _ = try session.startTLS()                            // 220, then the handshake, then EHLO again
/// _ = try session.authenticate(user: "app", password: secret, policy: .verifiedTLS)
/// ```
///
/// Each call returns the server's reply, whatever its code: the caller judges it. Calls throw
/// only when no reply came (a timeout, a closed connection, a broken reply, a failed
/// handshake) or when the session refuses to send credentials under its policy. Every call
/// blocks the calling thread up to its step's timeout and never past the session's deadline:
/// run sessions on dedicated threads.
public final class SMTPSession {
    public let endpoint: SMTPEndpoint
    public let ehloName: String
    public let timeouts: SMTPTimeouts
    /// No call of the session waits past this.
    public let deadline: ContinuousClock.Instant
    public let client: SMTPClient
    private let tlsConfiguration: TLSClientConfiguration

    /// The first reply, normally 220 (RFC 5321 §4.3.1).
    public private(set) var greeting: SMTPReply?
    /// The capabilities of the latest 250 reply to EHLO; cleared when TLS starts (RFC 3207 §4.2).
    public private(set) var capabilities: SMTPCapabilities?
    /// The capabilities announced before STARTTLS, kept as evidence.
    public private(set) var capabilitiesBeforeTLS: SMTPCapabilities?
    /// The handshake's facts, once TLS is on.
    public private(set) var tls: TLSFacts?
    /// True after a 235 reply to AUTH.
    public private(set) var isAuthenticated = false
    /// True once a step ended without a reply (a timeout, a hang-up, a failed handshake): the
    /// dialogue is out of step, so ``quit()`` only closes.
    public private(set) var isBroken = false

    /// A session over a client that is already connected (tests drive one over a scripted stream).
    public init(endpoint: SMTPEndpoint, ehloName: String, timeouts: SMTPTimeouts, deadline: ContinuousClock.Instant,
                client: SMTPClient, tls: TLSClientConfiguration) {
        self.endpoint = endpoint
        self.ehloName = ehloName
        self.timeouts = timeouts
        self.deadline = deadline
        self.client = client
        self.tlsConfiguration = tls
    }

    /// Opens the TCP connection. For implicit TLS, call ``startImplicitTLS()`` next.
    ///
    /// - Parameter tls: the name to verify and the trust store; by default the endpoint's host
    ///   name against the system store.
    /// - Throws: ``ConnectError`` (refused, timed out, unreachable).
    public static func connect(
        to endpoint: SMTPEndpoint, ehloName: String, tls: TLSClientConfiguration? = nil, timeouts: SMTPTimeouts = .default,
        limits: SMTPLimits = SMTPLimits(), deadline: ContinuousClock.Instant
    ) throws(ConnectError) -> SMTPSession {
        let connection = try TCPConnection.connect(
            to: endpoint.address, port: endpoint.port, timeout: max(.zero, min(timeouts.connect, deadline - .now)))
        let client = SMTPClient(stream: connection, limits: limits)
        client.note("connected to \(endpoint.address) port \(endpoint.port)")
        return SMTPSession(
            endpoint: endpoint, ehloName: ehloName, timeouts: timeouts, deadline: deadline, client: client,
            tls: tls ?? TLSClientConfiguration(serverName: endpoint.hostName))
    }

    /// The handshake at once, before the greeting (RFC 8314 §3.3: port 465).
    @discardableResult
    public func startImplicitTLS() throws(SMTPClientError) -> TLSFacts {
        let facts = try tracked { () throws(SMTPClientError) in try client.startTLS(configuration: tlsConfiguration, deadline: until(timeouts.tlsHandshake)) }
        tls = facts
        return facts
    }

    /// Reads the greeting (RFC 5321 §4.3.1), with the greeting timeout.
    public func readGreeting() throws(SMTPClientError) -> SMTPReply {
        let reply = try tracked { () throws(SMTPClientError) in try client.readReply(deadline: until(timeouts.greeting)) }
        greeting = reply
        return reply
    }

    /// EHLO (RFC 5321 §4.1.1.1); a 250 reply sets ``capabilities``.
    public func ehlo() throws(SMTPClientError) -> SMTPReply {
        let reply = try command("EHLO \(ehloName)")
        if reply.code == 250 { capabilities = SMTPCapabilities(ehloReply: reply) }
        return reply
    }

    /// HELO (RFC 5321 §4.1.1.1), for a server that refuses EHLO: no extensions, so neither
    /// STARTTLS nor AUTH. Clears ``capabilities``.
    public func helo() throws(SMTPClientError) -> SMTPReply {
        capabilities = nil
        return try command("HELO \(ehloName)")
    }

    /// STARTTLS (RFC 3207 §4); after its 220, the handshake. Returns the reply to STARTTLS;
    /// after a handshake the capabilities are forgotten: call ``ehlo()`` again (§4.2).
    ///
    /// - Throws: ``SMTPClientError/tls(_:)`` when the handshake fails.
    public func startTLS() throws(SMTPClientError) -> SMTPReply {
        let reply = try command("STARTTLS")
        guard reply.code == 220 else { return reply }
        capabilitiesBeforeTLS = capabilities
        capabilities = nil
        tls = try tracked { () throws(SMTPClientError) in try client.startTLS(configuration: tlsConfiguration, deadline: until(timeouts.tlsHandshake)) }
        return reply
    }

    /// AUTH with `mechanism` (RFC 4954 §4), or the best one offered, after checking that
    /// `policy` allows sending credentials over this connection.
    ///
    /// The password is sent only inside SASL responses, which the transcript never records.
    /// - Throws: ``SMTPClientError/credentialsWithheld(_:)`` when the policy forbids sending
    ///   them (no TLS, or TLS whose certificate did not verify) or no mechanism fits, and
    ///   the stream errors.
    public func authenticate(
        user: String, password: Secret, mechanism: SASLMechanism? = nil, policy: CredentialPolicy
    ) throws(SMTPClientError) -> SMTPAuthentication {
        client.neverRecord(password, user: user)
        if let reason = policy.refusal(tls: tls) { throw .credentialsWithheld(reason) }
        let offered = capabilities?.authMechanisms ?? []
        guard let mechanism = mechanism ?? SASLMechanism.preferred(offered: offered, overTLS: tls != nil) else {
            throw .noUsableMechanism(offered)
        }
        let reply = try SASLExchange(mechanism: mechanism, user: user, password: password).run(on: self)
        if reply.code == 235 { isAuthenticated = true }
        return SMTPAuthentication(mechanism: mechanism, reply: reply)
    }

    /// MAIL FROM:<address> (RFC 5321 §4.1.1.2).
    public func mail(from address: String, parameters: [String] = []) throws(SMTPClientError) -> SMTPReply {
        try command((["MAIL FROM:<\(address)>"] + parameters).joined(separator: " "))
    }

    /// RCPT TO:<address> (RFC 5321 §4.1.1.3).
    public func rcpt(to address: String) throws(SMTPClientError) -> SMTPReply {
        try command("RCPT TO:<\(address)>")
    }

    /// DATA (RFC 5321 §4.1.1.4): the command, and after its 354 the message and the reply
    /// to its final "."; `message` is nil when DATA itself was refused.
    public func data(_ message: SMTPMessageData) throws(SMTPClientError) -> (data: SMTPReply, message: SMTPReply?) {
        let reply = try command("DATA")
        guard reply.code == 354 else { return (reply, nil) }
        let final = try tracked { () throws(SMTPClientError) in
            try client.write(message.bytes, describedAs: "<message: \(message.lineCount) lines, \(message.bytes.count) octets>",
                             deadline: until(timeouts.data))
            return try client.readReply(deadline: until(timeouts.data))
        }
        return (reply, final)
    }

    /// RSET (RFC 5321 §4.1.1.5).
    public func rset() throws(SMTPClientError) -> SMTPReply { try command("RSET") }

    /// QUIT (RFC 5321 §4.1.1.10), then the connection is closed. A server that drops the
    /// connection at QUIT is common, so nothing is thrown; the transcript notes it.
    ///
    /// With `waitForReply` false, QUIT is sent and the connection closed at once: a probe whose
    /// verdict is complete saves the round trip (RFC 5321 §3.8 says the client SHOULD wait).
    public func quit(waitForReply: Bool = true) {
        guard !isBroken else {
            client.note("closing without QUIT: the dialogue is out of step")
            return client.close()
        }
        do {
            let deadline = min(until(timeouts.command), .now + .seconds(5))
            if waitForReply {
                _ = try client.command("QUIT", deadline: deadline)
            } else {
                try client.send("QUIT", deadline: deadline)
                client.note("closed without waiting for the reply to QUIT")
            }
        } catch {
            client.note("QUIT: \(error)")
        }
        client.close()
    }

    public func close() { client.close() }

    /// One command and its reply, within the command timeout.
    public func command(_ line: String, secret: Bool = false) throws(SMTPClientError) -> SMTPReply {
        try tracked { () throws(SMTPClientError) in try client.command(line, secret: secret, deadline: until(timeouts.command)) }
    }

    /// Runs a step; an error marks the session broken.
    private func tracked<T>(_ step: () throws(SMTPClientError) -> T) throws(SMTPClientError) -> T {
        do { return try step() } catch {
            isBroken = true
            throw error
        }
    }

    /// Now plus `timeout`, never past the session's deadline.
    func until(_ timeout: Duration) -> ContinuousClock.Instant { min(.now + timeout, deadline) }
}

/// Where a session connects: an address, a port, the name its certificate should carry, and
/// how TLS starts.
public struct SMTPEndpoint: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    /// The host name: sent as SNI and checked against the certificate.
    public var hostName: String?
    public var security: SMTPSecurity

    public init(address: IPAddress, port: UInt16, hostName: String?, security: SMTPSecurity) {
        self.address = address
        self.port = port
        self.hostName = hostName
        self.security = security
    }
}

/// How a session secures itself.
public enum SMTPSecurity: String, Hashable, Sendable, Codable {
    /// Plain SMTP, upgraded with STARTTLS when the server offers it (RFC 3207): port 25, 587.
    case startTLS
    /// TLS from the first byte (RFC 8314 §3.3): port 465.
    case implicitTLS
    /// Plain SMTP only: STARTTLS is not attempted even when offered.
    case plain
}

/// When credentials may be sent. By default only over TLS whose certificate verified for
/// the host name (RFC 8314 §3, RFC 4954 §4: a client must not send credentials in clear).
public struct CredentialPolicy: Hashable, Sendable {
    /// Also over TLS whose certificate did not verify (`--insecure`).
    public var allowUnverifiedTLS: Bool
    /// Also without TLS (`--allow-plaintext-auth`).
    public var allowPlaintext: Bool

    public init(allowUnverifiedTLS: Bool = false, allowPlaintext: Bool = false) {
        self.allowUnverifiedTLS = allowUnverifiedTLS
        self.allowPlaintext = allowPlaintext
    }

    public static let verifiedTLS = CredentialPolicy()

    /// Why credentials must not be sent over a connection with these TLS facts, or nil.
    public func refusal(tls: TLSFacts?) -> String? {
        guard let tls else {
            return allowPlaintext ? nil : "the connection is not encrypted; credentials would travel in clear"
        }
        let verification = tls.verification
        guard verification.isValid, verification.hostNameMatches != false else {
            guard allowUnverifiedTLS || allowPlaintext else {
                let why = verification.hostNameMatches == false
                    ? "the certificate does not name \(verification.hostName ?? "the host")"
                    : "the certificate did not verify (\(verification.result.text))"
                return why + "; credentials could reach an impostor"
            }
            return nil
        }
        return nil
    }
}

/// What AUTH did: the mechanism used and the final reply.
public struct SMTPAuthentication: Hashable, Sendable {
    public var mechanism: SASLMechanism
    public var reply: SMTPReply

    public init(mechanism: SASLMechanism, reply: SMTPReply) {
        self.mechanism = mechanism
        self.reply = reply
    }
}

/// The time allowed for each step of a session, and for the whole session.
///
/// RFC 5321 §4.5.3.2 asks a mail client to wait minutes (5 for the greeting); an auditor
/// waits less, but long enough for greeting tarpits, which commonly hold the banner for
/// 10–30 seconds.
public struct SMTPTimeouts: Hashable, Sendable {
    /// TCP connection establishment.
    public var connect: Duration
    /// The 220 greeting (RFC 5321 §4.5.3.2.1).
    public var greeting: Duration
    /// Each command's reply: EHLO, STARTTLS, AUTH, MAIL, RCPT, QUIT.
    public var command: Duration
    /// The TLS handshake.
    public var tlsHandshake: Duration
    /// Sending the message and the reply to its final "." (§4.5.3.2.6 allows 10 minutes).
    public var data: Duration
    /// The whole session, whatever the steps; no session outlives it.
    public var total: Duration

    public init(
        connect: Duration = .seconds(10), greeting: Duration = .seconds(45), command: Duration = .seconds(30),
        tlsHandshake: Duration = .seconds(30), data: Duration = .seconds(60), total: Duration = .seconds(120)
    ) {
        self.connect = connect
        self.greeting = greeting
        self.command = command
        self.tlsHandshake = tlsHandshake
        self.data = data
        self.total = total
    }

    public static let `default` = SMTPTimeouts()
}
