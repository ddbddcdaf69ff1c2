import Foundation
import MailAuditCore
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS

/// What the SMTP part of a relay walk found.
struct RelayDialogueOutcome: Sendable {
    var steps: [RelayStep] = []
    var capabilities: [String]?
    var tls: TLSFacts?
    var authMechanism: String?
    var transcript: [TranscriptLine] = []
}

/// The SMTP steps of a relay walk over a connected session: greeting, EHLO, TLS, AUTH, MAIL,
/// RCPT and DATA. It stops at the first failing step; later steps are "not reached". Runs
/// synchronously on a dedicated thread.
struct RelayDialogue: Sendable {
    let options: RelayOptions

    func walk(_ session: SMTPSession) -> RelayDialogueOutcome {
        var outcome = RelayDialogueOutcome()
        var walk = Walk(outcome: outcome)
        run(session, &walk)
        outcome = walk.outcome
        outcome.capabilities = session.capabilities?.extensions.map(\.description)
        outcome.tls = session.tls
        session.quit()
        outcome.transcript = session.client.transcript
        return outcome
    }

    /// The steps so far, and the first that failed.
    struct Walk {
        var outcome: RelayDialogueOutcome
        var failed: RelayStepName?

        mutating func add(_ step: RelayStep) {
            outcome.steps.append(step)
            if step.status == .fail, failed == nil { failed = step.step }
        }

        /// A step already walked but shown later in the list: implicit TLS comes before the greeting.
        var walkedEarly: RelayStep?

        /// Marks every step from `first` on as not reached.
        mutating func stop(from first: RelayStepName) {
            for skipped in RelayStep.notReached(from: first, after: failed.map(\.rawValue) ?? "an earlier step") {
                outcome.steps.append(walkedEarly?.step == skipped.step ? walkedEarly ?? skipped : skipped)
            }
        }
    }

    private func run(_ session: SMTPSession, _ walk: inout Walk) {
        let mode = session.endpoint.security
        let verdicts = RelayVerdicts(options: options, port: session.endpoint.port, mode: mode)

        // Implicit TLS: the handshake comes before the greeting (RFC 8314 §3.3).
        if mode == .implicitTLS {
            do {
                let facts = try session.startImplicitTLS()
                walk.walkedEarly = verdicts.tls(facts, how: "implicit TLS")
            } catch {
                walk.add(.skipped(.greeting, "not reached: TLS comes first on this port"))
                walk.add(.skipped(.ehlo, "not reached: TLS comes first on this port"))
                walk.add(verdicts.implicitTLSFailure(error, plainGreeting: RelayProbes.plainGreeting(of: session)))
                return walk.stop(from: .auth)
            }
        }

        // Greeting.
        do {
            let greeting = try session.readGreeting()
            walk.add(verdicts.greeting(greeting))
        } catch {
            // A server that says nothing (or hangs up on a silent client) may be waiting for a ClientHello.
            let silent = error == .timedOut || error == .closed
            let wantsTLS = mode != .implicitTLS && silent ? RelayProbes.speaksTLSFirst(session) : false
            walk.add(verdicts.greetingFailure(error, portWantsTLS: wantsTLS))
        }
        guard walk.failed == nil else { return walk.stop(from: .ehlo) }

        // EHLO, and HELO for a server that knows no extensions.
        do {
            let ehlo = try session.ehlo()
            if ehlo.code == 500 || ehlo.code == 502 {
                let helo = try session.helo()
                walk.add(verdicts.heloOnly(ehlo: ehlo, helo: helo))
            } else {
                walk.add(verdicts.ehlo(ehlo, capabilities: session.capabilities, encrypted: session.tls != nil))
            }
        } catch {
            walk.add(verdicts.streamFailure(error, at: .ehlo))
        }
        guard walk.failed == nil else { return walk.stop(from: .tls) }

        // TLS.
        switch mode {
        case .implicitTLS:
            if let early = walk.walkedEarly {
                walk.walkedEarly = nil
                walk.add(early)
            }
        case .plain:
            walk.add(RelayStep(.tls, .skipped, "--security none: TLS not attempted", evidence: session.capabilities?.supportsSTARTTLS == true
                ? ["the server offers STARTTLS"] : []))
        case .startTLS:
            walk.add(startTLS(session, verdicts))
        }
        guard walk.failed == nil else { return walk.stop(from: .auth) }

        // AUTH.
        walk.add(authenticate(session, verdicts, &walk.outcome))
        guard walk.failed == nil else { return walk.stop(from: .mail) }

        // The envelope.
        guard let from = options.from else {
            walk.add(.skipped(.mail, "no --from given: the envelope was not tried"))
            walk.add(.skipped(.rcpt, "no --from and --to given: the envelope was not tried"))
            walk.add(.skipped(.data, "no --send-test"))
            return
        }
        let authOfferedNotUsed = !session.isAuthenticated && !(session.capabilities?.authMechanisms.isEmpty ?? true)
        do {
            walk.add(verdicts.envelope(try session.mail(from: from), step: .mail, address: from, authOfferedNotUsed: authOfferedNotUsed))
        } catch {
            walk.add(verdicts.streamFailure(error, at: .mail))
        }
        guard walk.failed == nil else { return walk.stop(from: .rcpt) }
        guard let to = options.to else {
            walk.add(.skipped(.rcpt, "no --to given: RCPT was not tried"))
            walk.add(.skipped(.data, "no --to given"))
            _ = try? session.rset()
            return
        }
        do {
            var accepted: RelayStep?
            for recipient in [to] + options.moreRecipients {
                let step = verdicts.envelope(try session.rcpt(to: recipient), step: .rcpt, address: recipient, authOfferedNotUsed: authOfferedNotUsed)
                guard step.status == .pass else {
                    accepted = step
                    break
                }
                if accepted == nil { accepted = step } else { accepted?.evidence.append(step.summary) }
            }
            if let accepted { walk.add(accepted) }
        } catch {
            walk.add(verdicts.streamFailure(error, at: .rcpt))
        }
        guard walk.failed == nil else { return walk.stop(from: .data) }

        // DATA, only on request.
        guard options.sendTest else {
            walk.add(.skipped(.data, "no --send-test: nothing was sent; the envelope was reset"))
            _ = try? session.rset()
            return
        }
        walk.add(sendTestMessage(session, verdicts, from: from, to: to))
    }

    private func startTLS(_ session: SMTPSession, _ verdicts: RelayVerdicts) -> RelayStep {
        guard session.capabilities?.supportsSTARTTLS == true else {
            // The ehlo step already failed for this under STARTTLS; kept for completeness.
            return RelayStep(.tls, .fail, "the server does not offer STARTTLS", category: .tls)
        }
        do {
            let reply = try session.startTLS()
            guard reply.code == 220 else { return verdicts.startTLSRefused(reply) }
        } catch {
            return verdicts.tlsHandshakeFailure(error)
        }
        guard let facts = session.tls else { return RelayStep(.tls, .fail, "TLS did not start", category: .tls) }
        var step = verdicts.tls(facts, how: "STARTTLS")
        // RFC 3207 §4.2: ask again over TLS; AUTH is usually offered only now.
        do {
            let again = try session.ehlo()
            if again.code == 250, let capabilities = session.capabilities {
                step.evidence.append("EHLO over TLS: " + capabilities.extensions.map(\.description).joined(separator: ", "))
            } else {
                step.status = .fail
                step.category = .tls
                step.summary = "EHLO over TLS was refused: \(again.code) \(again.text)"
                step.reply = again
            }
        } catch {
            step = verdicts.streamFailure(error, at: .tls)
        }
        return step
    }

    private func authenticate(_ session: SMTPSession, _ verdicts: RelayVerdicts, _ outcome: inout RelayDialogueOutcome) -> RelayStep {
        let offered = session.capabilities?.authMechanisms ?? []
        guard let user = options.user else {
            return RelayStep(.auth, .skipped, offered.isEmpty
                ? "no --user given, and the server offers no AUTH here"
                : "no --user given; the server offers AUTH \(offered.joined(separator: " "))")
        }
        guard !offered.isEmpty else {
            return verdicts.authNotOffered(before: session.capabilitiesBeforeTLS, startTLSOffered: session.capabilities?.supportsSTARTTLS ?? false)
        }
        do {
            let result = try session.authenticate(user: user, password: options.password ?? Secret(""), policy: options.credentialPolicy)
            outcome.authMechanism = result.mechanism.rawValue
            return verdicts.auth(result, user: user)
        } catch {
            return verdicts.authFailure(error, encrypted: session.tls != nil)
        }
    }

    private func sendTestMessage(_ session: SMTPSession, _ verdicts: RelayVerdicts, from: String, to: String) -> RelayStep {
        let message: SMTPMessageData
        let text = options.message ?? RelayTestMessage.text(from: from, to: to, host: options.host, ehloName: options.ehloName)
        do { message = try SMTPMessageData(message: text) } catch {
            return RelayStep(.data, .fail, "the test message could not be encoded: \(error)", category: .policy)
        }
        do {
            let (data, final) = try session.data(message)
            return verdicts.data(data, final: final)
        } catch {
            return verdicts.streamFailure(error, at: .data)
        }
    }
}

/// The short message `--send-test` sends (RFC 5322).
enum RelayTestMessage {
    static func text(from: String, to: String, host: String, ehloName: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let id = UUID().uuidString.lowercased()
        return """
            From: <\(from)>
            To: <\(to)>
            Subject: mailaudit relay test through \(host)
            Date: \(formatter.string(from: date))
            Message-ID: <\(id)@\(ehloName)>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8

            This is a test message sent by `mailaudit relay --send-test` through \(host).
            If you can read it, the relay accepted and delivered it.

            """
    }
}
