import Foundation
import MailAuditCore
import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS

/// Turns what each step saw into a verdict with its category, remedy and reference. Pure:
/// no I/O, so every rule is tested from hand-made values.
struct RelayVerdicts {
    let options: RelayOptions
    let port: UInt16
    let mode: SMTPSecurity

    // MARK: dns

    static func dns(name: DomainName, answers: [DNSAnswer]) -> (RelayStep, [IPAddress]) {
        let addresses = answers.flatMap(\.records).compactMap { record -> IPAddress? in
            switch record.data {
            case .a(let address), .aaaa(let address): address
            default: nil
            }
        }
        var evidence = ["looked up \(name.fqdn) A and AAAA"]
        var seen = Set<String>()
        for line in answers.flatMap(\.evidence) where seen.insert(line).inserted { evidence.append(line) }
        let chain = answers.first { !$0.cnameChain.isEmpty }?.cnameChain ?? []
        let via = chain.isEmpty ? "" : " through the CNAME chain " + ([name] + chain).map(\.fqdn).joined(separator: " → ")
        if !addresses.isEmpty {
            let list = addresses.map(\.description).joined(separator: ", ")
            return (RelayStep(.dns, .pass, "\(name.fqdn) resolves to \(list)\(via)", evidence: evidence), addresses)
        }
        let outcomes = answers.map(\.outcome)
        if outcomes.contains(.cnameLoop) {
            return (RelayStep(.dns, .fail, "\(name.fqdn) is a CNAME loop", evidence: evidence, category: .dns,
                              remedy: "Fix the CNAME records of \(name.fqdn) so the chain ends at a name with an address.",
                              reference: "RFC 1034 §3.6.2"), [])
        }
        if outcomes.contains(where: \.isInconclusive) {
            let why = outcomes.first(where: \.isInconclusive)?.summary ?? "no answer"
            return (RelayStep(.dns, .inconclusive, "could not look up \(name.fqdn): \(why)", evidence: evidence,
                              remedy: "Check this machine's DNS resolver (/etc/resolv.conf or --resolver), then try again."), [])
        }
        if outcomes.allSatisfy({ $0 == .nxDomain }) {
            let target = chain.last.map { " (the CNAME target \($0.fqdn))" } ?? ""
            return (RelayStep(.dns, .fail, "\(name.fqdn) does not exist (NXDOMAIN)\(target)", evidence: evidence, category: .dns,
                              remedy: "Check the spelling of the relay host against your provider's documentation; some providers "
                                + "have one host per region (Amazon SES: email-smtp.REGION.amazonaws.com).",
                              reference: "RFC 8020 §2"), [])
        }
        return (RelayStep(.dns, .fail, "\(name.fqdn) exists but has no address (no A or AAAA record)\(via)", evidence: evidence,
                          category: .dns, remedy: "Publish an A (or AAAA) record for \(name.fqdn), or use the host name your provider documents.",
                          reference: "RFC 5321 §5.1"), [])
    }

    // MARK: connect

    static func connected(_ ports: [PortAttempt], chosen: UInt16, portGiven: Bool) -> RelayStep {
        var step = RelayStep(.connect, .pass, "connected to port \(chosen)", evidence: ports.map(describe))
        if !portGiven {
            let others = ports.filter { $0.port != chosen }.map { "\($0.port) \($0.result.rawValue)" }
            if !others.isEmpty { step.summary += " (also tried: " + others.joined(separator: ", ") + ")" }
            if ports.contains(where: { $0.port == 25 && $0.result == .timedOut }) {
                step.evidence.append("port 25 timed out: outbound 25 is filtered from here, as cloud providers (AWS, GCP, Azure) and many networks do by default; submission on 587 or 465 is the right port for an application anyway")
            }
        }
        return step
    }

    static func connectFailure(_ ports: [PortAttempt], portGiven: Bool) -> RelayStep {
        let evidence = ports.map(describe)
        let list = ports.map { String($0.port) }.joined(separator: ", ")
        let results = Set(ports.map(\.result))
        let reference = "RFC 6409 §3.1, RFC 8314 §3.3"
        if results == [.refused] {
            return RelayStep(.connect, .fail, "connection refused on port\(ports.count == 1 ? "" : "s") \(list): nothing listens there",
                             evidence: evidence, category: .connectivity,
                             remedy: "Check the host and port against your provider's settings (587 with STARTTLS or 465 with TLS are usual for "
                                + "applications), and that the mail service is running.", reference: reference)
        }
        if results.contains(.timedOut) {
            let blocked = ports.filter { $0.result == .timedOut }.map { String($0.port) }.joined(separator: ", ")
            return RelayStep(.connect, .fail, "no answer on port\(blocked.contains(",") ? "s" : "") \(blocked): a firewall drops the connection (filtered)",
                             evidence: evidence, category: .connectivity,
                             remedy: "A firewall between here and the relay drops the packets. Cloud providers block outbound port 25 by default "
                                + "(AWS, GCP, Azure), and corporate firewalls often block 25 and 587 too: use 587 or 465 (or 2525, which many "
                                + "relays also open), ask the provider to lift the block, and check security groups and egress rules.",
                             reference: reference)
        }
        if results.contains(.unreachable) {
            return RelayStep(.connect, .fail, "the relay's address cannot be reached from here (no route)", evidence: evidence,
                             category: .connectivity,
                             remedy: "Check this machine's network route to the relay (IPv6 without a route is common: try the IPv4 address).",
                             reference: reference)
        }
        return RelayStep(.connect, .fail, "could not connect on port\(ports.count == 1 ? "" : "s") \(list)", evidence: evidence,
                         category: .connectivity, remedy: "Check the host, the port and this machine's network.", reference: reference)
    }

    private static func describe(_ attempt: PortAttempt) -> String {
        let time = attempt.milliseconds.map { " after \($0) ms" } ?? ""
        let meaning = switch attempt.result {
        case .connected: "connected"
        case .refused: "refused (nothing listens: wrong host or port, or the service is down)"
        case .timedOut: "timed out (filtered: a firewall drops the packets)"
        case .unreachable: "unreachable (\(attempt.detail ?? "no route"))"
        case .failed: "failed (\(attempt.detail ?? "socket error"))"
        }
        return "port \(attempt.port) on \(attempt.address): \(meaning)\(time)"
    }

    // MARK: greeting

    func greeting(_ reply: SMTPReply) -> RelayStep {
        if reply.code == 220 { return RelayStep(.greeting, .pass, "\(reply.code) \(reply.text)", reply: reply) }
        return judged(reply, step: .greeting, command: .greeting)
    }

    func greetingFailure(_ error: SMTPClientError, portWantsTLS: Bool) -> RelayStep {
        if portWantsTLS {
            return RelayStep(.greeting, .fail, "no greeting: this port wants TLS from the first byte (implicit TLS), not STARTTLS",
                             evidence: ["connected, but the server sent nothing within the greeting timeout",
                                        "a second connection completed a TLS handshake at once"],
                             category: .tls,
                             remedy: "Use implicit TLS on port \(port) (--security implicit; in applications \"SSL/TLS\", \"smtps\" or "
                                + "secure=true), or use port 587 with STARTTLS.", reference: "RFC 8314 §3.3")
        }
        switch error {
        case .timedOut:
            return RelayStep(.greeting, .fail, "connected, but the server never sent a greeting", category: .connectivity,
                             remedy: "The server (or a proxy or antivirus that intercepts SMTP) accepts connections but stays silent: check "
                                + "that the mail service is healthy and that nothing in between holds the connection.", reference: "RFC 5321 §3.1")
        case .closed:
            return RelayStep(.greeting, .fail, "the server closed the connection without a greeting", category: .connectivity,
                             remedy: "The server drops this client at once: check whether it accepts connections from this address "
                                + "(an allow-list, or a block after failed logins).", reference: "RFC 5321 §3.1")
        case .malformedReply(let problem):
            return RelayStep(.greeting, .fail, "the server's first line is not an SMTP greeting: \(problem)", category: .connectivity,
                             remedy: "Something other than an SMTP server answers on port \(port): check the port.", reference: "RFC 5321 §4.2")
        default:
            return streamFailure(error, at: .greeting)
        }
    }

    // MARK: tls

    func tls(_ facts: TLSFacts, how: String) -> RelayStep {
        let leaf = facts.leaf
        var evidence = ["\(how): \(facts.protocolVersion), \(facts.cipher)"]
        if let leaf { evidence.append("certificate: \(leaf.subject), issued by \(leaf.issuer), valid until \(leaf.notAfter)") }
        if !facts.verification.errors.isEmpty { evidence += facts.verification.errors.map(\.description) }
        var step = RelayStep(.tls, .pass, "\(how) with \(facts.protocolVersion); the certificate verified for \(options.host)",
                             evidence: evidence, reference: "RFC 8314 §3, RFC 3207")
        if facts.protocolVersion < .tls1_2 {
            step.status = .fail
            step.category = .tls
            step.summary = "the server offers only \(Self.versionName(facts.protocolVersion)); current clients require TLS 1.2 or later"
            step.remedy = "Enable TLS 1.2 and 1.3 on the relay (TLS 1.0 and 1.1 are deprecated by RFC 8996; OpenSSL 3 and most "
                + "mail libraries refuse them)."
            step.reference = "RFC 8996, RFC 8314 §4.1"
            return step
        }
        let verification = facts.verification
        if !verification.isValid || verification.hostNameMatches == false {
            let problem: String
            if verification.hostNameMatches == false {
                problem = "the certificate does not name \(options.host) (it names \(leaf?.dnsNames.joined(separator: ", ") ?? "nothing"))"
            } else if let untrusted = verification.untrusted {
                problem = "the certificate is not trusted: \(untrusted)"
            } else if verification.hasExpiredCertificate {
                problem = "the certificate has expired"
            } else {
                problem = "the certificate did not verify: \(verification.result.text)"
            }
            let insecure = options.credentialPolicy.allowUnverifiedTLS || options.credentialPolicy.allowPlaintext
            step.status = insecure ? .warning : .fail
            step.category = .tls
            step.summary = problem + (insecure ? " (accepted because of --insecure)" : "")
            if verification.hostNameMatches == false {
                let names = leaf?.dnsNames ?? []
                step.remedy = (names.isEmpty ? "" : "Point the application at a name the certificate carries (\(names.joined(separator: ", "))), or ")
                    + "add \(options.host) to the relay's certificate. Applications that verify certificates (as they should) fail here."
            } else {
                step.remedy = "Install a certificate from a public CA with its whole chain, or, for a private CA, pass its root with "
                    + "--ca-file (and install it where the application looks). Applications that verify certificates fail here."
            }
            step.reference = "RFC 6125 §6, RFC 8314 §3"
            return step
        }
        if let days = verification.daysUntilExpiry, days <= options.expiryWarningDays {
            step.status = .warning
            step.category = .tls
            step.summary = "the certificate expires in \(days) day\(days == 1 ? "" : "s")"
            step.remedy = "Renew the relay's certificate before it expires."
        }
        return step
    }

    func startTLSRefused(_ reply: SMTPReply) -> RelayStep {
        var step = judged(reply, step: .tls, command: .startTLS)
        step.category = .tls
        return step
    }

    func tlsHandshakeFailure(_ error: SMTPClientError) -> RelayStep {
        guard case .tls(let failure) = error else { return streamFailure(error, at: .tls) }
        let reason = failure.description
        let lowered = reason.lowercased()
        if lowered.contains("protocol version") || lowered.contains("unsupported protocol") || lowered.contains("no protocols available") {
            return RelayStep(.tls, .fail, "no TLS version in common with the server: \(reason)", category: .tls,
                             remedy: "Enable TLS 1.2 and 1.3 on the relay; TLS 1.0 and 1.1 are deprecated (RFC 8996).", reference: "RFC 8996")
        }
        return RelayStep(.tls, .fail, reason, category: .tls,
                         remedy: "Check the relay's TLS configuration (certificate and key, protocols, ciphers) with openssl s_client.",
                         reference: "RFC 3207 §4, RFC 8446")
    }

    func implicitTLSFailure(_ error: SMTPClientError, plainGreeting: SMTPReply?) -> RelayStep {
        if let plainGreeting, plainGreeting.code == 220 || plainGreeting.code == 421 {
            return RelayStep(.tls, .fail, "this port speaks plain SMTP first (STARTTLS), not implicit TLS",
                             evidence: ["TLS handshake: \(error)", "plain connection: \(plainGreeting.code) \(plainGreeting.text)"],
                             category: .tls,
                             remedy: "Use STARTTLS on port \(port) (--security starttls; in applications \"STARTTLS\" or secure=false with "
                                + "requireTLS), or port 465 for implicit TLS.", reference: "RFC 3207 §4, RFC 8314 §3.3")
        }
        return tlsHandshakeFailure(error)
    }

    static func versionName(_ version: TLSProtocolVersion) -> String {
        switch version {
        case .tls1_0: "TLS 1.0"
        case .tls1_1: "TLS 1.1"
        case .tls1_2: "TLS 1.2"
        case .tls1_3: "TLS 1.3"
        case .ssl3: "SSL 3.0"
        default: version.description
        }
    }
}
