public import Foundation
public import MailAuditCore
public import MailAuditSMTP
public import MailAuditTLS

/// The MX probe's verdicts: pure functions of what one probe saw.
public enum SMTPRules {
    /// Findings for one probed address.
    ///
    /// - Parameters:
    ///   - ptrNames: the address's PTR names, to compare with the greeting.
    ///   - now: the time certificates are judged at (the injected time in tests).
    public static func findings(
        for result: ProbeResult, target: ProbeTarget, ptrNames: [DomainName], expiryWarningDays: Int, now: Date
    ) -> [Finding] {
        let names = target.hostNames.map(\.description)
        let subject = FindingSubject(host: names.joined(separator: ", "), address: result.address.description)
        let transcript = result.transcript.isEmpty
            ? ["\(result.address) port \(result.port): \(result.outcome) at the \(result.stage) stage"]
            : result.transcript.map(\.description)
        let port = result.port
        func finding(_ id: FindingID, _ severity: Severity, _ message: String, evidence: [String]? = nil,
                     remedy: String? = nil, reference: String, facts: [String: Fact] = [:]) -> Finding {
            Finding(id, severity, subject: subject, message: message, evidence: evidence ?? transcript,
                    remedy: remedy, reference: reference, facts: facts)
        }

        switch result.outcome {
        case .refused:
            return [finding("smtp.connection-refused", .failure,
                            "\(subject) refused the connection on port \(port): nothing accepts mail there",
                            remedy: "Start the mail server on port \(port), open the firewall, or remove the MX record.",
                            reference: "RFC 5321 §4.5.4.1")]
        case .timeout(.connect):
            return [finding("smtp.connect-timeout", .inconclusive,
                            "could not connect to \(subject) on port \(port): the connection timed out",
                            remedy: "A firewall may drop the packets, at the server or on this network (many ISPs and clouds block outbound port 25).",
                            reference: "RFC 5321 §4.5.3.2")]
        case .timeout(let stage):
            return [finding("smtp.stalled", .inconclusive,
                            "\(subject) stopped answering at the \(stage) stage on port \(port)",
                            remedy: "The server may be a tarpit or overloaded; probe again later, or with longer timeouts.",
                            reference: "RFC 5321 §4.5.3.2")]
        case .rateLimited(let reply):
            return [finding("smtp.rate-limited", .inconclusive,
                            "\(subject) is limiting connections (\(reply.code) \(reply.text)); the check could not be done",
                            remedy: "Probe again later; the server is busy or rate-limiting this client, which says nothing about its TLS.",
                            reference: "RFC 5321 §4.2.3, §3.8")]
        case .networkError(let reason):
            return [finding("smtp.unreachable", .inconclusive,
                            "could not reach \(subject) on port \(port): \(reason)",
                            remedy: result.address.isIPv6 ? "This network may have no IPv6 route; probe from a host with IPv6." : "Check this network's route to the host.",
                            reference: "RFC 5321 §4.5.4.1")]
        case .rejected(let reply) where reply.isTransientFailure:
            return [finding("smtp.temporary-failure", .inconclusive,
                            "\(subject) answered the \(result.stage) stage with a temporary failure (\(reply.code) \(reply.text)); the check could not be done",
                            remedy: "Probe again later; a 4xx reply says the condition is temporary.",
                            reference: "RFC 5321 §4.2.1")]
        case .rejected(let reply):
            return [finding("smtp.rejected", .failure,
                            "\(subject) refused the SMTP dialogue at the \(result.stage) stage: \(reply.code) \(reply.text)",
                            remedy: "A mail exchanger must greet with 220 and accept EHLO; check the server's configuration.",
                            reference: "RFC 5321 §3.1, §4.1.1.1")]
        case .protocolError(let reason):
            return [finding("smtp.protocol-error", .failure,
                            "\(subject) broke the SMTP protocol at the \(result.stage) stage: \(reason)",
                            remedy: "Check what listens on port \(port); it does not speak SMTP correctly.",
                            reference: "RFC 5321 §4.2, §4.5.3.1")]
        case .closed(let stage) where stage != .tlsHandshake:
            return [finding("smtp.connection-closed", .failure,
                            "\(subject) closed the connection at the \(stage) stage",
                            remedy: "Check the server's logs for why it drops the connection.",
                            reference: "RFC 5321 §3.8")]
        case .closed, .tlsFailed:
            let reason: String = if case .tlsFailed(let text) = result.outcome { text } else { "the server closed the connection during the handshake" }
            return [finding("smtp.tls-handshake-failed", .failure,
                            "\(subject) offers STARTTLS but the TLS handshake failed: \(reason)",
                            remedy: "Check the server's certificate and key files and its TLS protocol and cipher settings.",
                            reference: "RFC 3207 §4")]
        case .completed:
            break
        }

        var findings: [Finding] = []
        if !result.offersSTARTTLS {
            findings.append(finding(
                "smtp.no-starttls", .failure, "\(subject) does not offer STARTTLS: mail to it travels in clear text",
                remedy: "Enable STARTTLS with a certificate for \(names.first ?? "the host") (Postfix: smtpd_tls_security_level = may).",
                reference: "RFC 3207, RFC 8314 §5"))
            findings += greetingFindings(result, subject: subject, ptrNames: ptrNames)
            return findings
        }
        guard let tls = result.tls else {
            return [finding("smtp.tls-handshake-failed", .failure, "\(subject) offers STARTTLS but no TLS session was set up",
                            remedy: "Check the server's TLS settings.", reference: "RFC 3207 §4")]
        }
        let chain = chainSummary(tls)
        findings.append(finding(
            "smtp.starttls", .pass, "\(subject) offers STARTTLS: \(tls.protocolVersion), \(tls.cipher)"
                + (tls.leaf.map { "; certificate \($0.subject), issued by \($0.issuer), expires \(isoDay($0.notAfter))" } ?? ""),
            evidence: chain, reference: "RFC 3207",
            facts: ["tlsVersion": .text(tls.protocolVersion.description)]))
        if tls.protocolVersion.isDeprecated {
            findings.append(finding(
                "smtp.tls-version-deprecated", .failure, "\(subject) negotiated \(tls.protocolVersion), which is deprecated",
                evidence: chain, remedy: "Allow TLS 1.2 and 1.3 only (Postfix: smtpd_tls_protocols = >=TLSv1.2).",
                reference: "RFC 8996, RFC 9325 §3.1.1"))
        }
        findings += certificateFindings(tls, target: target, subject: subject, chain: chain, expiryWarningDays: expiryWarningDays, now: now)
        findings += greetingFindings(result, subject: subject, ptrNames: ptrNames)
        return findings
    }

    private static func certificateFindings(
        _ tls: TLSFacts, target: ProbeTarget, subject: FindingSubject, chain: [String], expiryWarningDays: Int, now: Date
    ) -> [Finding] {
        guard let leaf = tls.leaf else { return [] }
        var findings: [Finding] = []
        func add(_ id: FindingID, _ severity: Severity, _ message: String, remedy: String?, reference: String) {
            let facts: [String: Fact] = [
                "fingerprint": .text(leaf.sha256Fingerprint), "notAfter": .date(leaf.notAfter), "key": .text(leaf.publicKey.description),
            ]
            findings.append(Finding(id, severity, subject: subject, message: message, evidence: chain, remedy: remedy, reference: reference,
                                    facts: facts))
        }
        let verification = tls.verification
        switch verification.untrusted {
        case .selfSigned:
            add("smtp.certificate-self-signed", .failure, "the certificate of \(subject) is self-signed, so no sender can verify it",
                remedy: "Install a certificate from a public CA (for example Let's Encrypt) for \(target.hostNames.first?.description ?? "the host").",
                reference: "RFC 5280 §6.1, RFC 7672 §3.1")
        case .incompleteChain(let issuer):
            add("smtp.certificate-incomplete-chain", .failure,
                "\(subject) sends its certificate without the intermediate that issued it (\(issuer))",
                remedy: "Configure the full chain: the certificate followed by its intermediates (Postfix: smtpd_tls_chain_files).",
                reference: "RFC 5246 §7.4.2, RFC 8446 §4.4.2")
        case .unknownIssuer(let issuer):
            add("smtp.certificate-unknown-issuer", .failure, "the certificate of \(subject) leads to \(issuer), which is not a trusted root",
                remedy: "Use a certificate from a CA that senders trust.", reference: "RFC 5280 §6.1")
        case nil:
            // Any other reason OpenSSL refused the chain (a bad purpose, a CA flag missing, a
            // bad signature…): dates and names are judged below, so they are left out here.
            let judgedElsewhere: Set<VerifyCode> = [.ok, .certificateHasExpired, .certificateNotYetValid, .hostnameMismatch]
            let other = verification.errors.filter { !judgedElsewhere.contains($0.code) }
            if !other.isEmpty || !judgedElsewhere.contains(verification.result) {
                let reasons = other.isEmpty ? [verification.result.description] : other.map(\.description)
                add("smtp.certificate-untrusted", .failure,
                    "the certificate chain of \(subject) does not verify: \(reasons.joined(separator: "; "))",
                    remedy: "Fix the chain the server sends (certificate, then intermediates from a public CA).",
                    reference: "RFC 5280 §6.1")
            }
        }
        let days = leaf.daysUntilExpiry(at: now)
        if !leaf.isValid(at: now) && now > leaf.notAfter {
            add("smtp.certificate-expired", .failure,
                "the certificate of \(subject) expired \(-days) day\(days == -1 ? "" : "s") ago (\(isoDay(leaf.notAfter)))",
                remedy: "Renew the certificate and reload the mail server.", reference: "RFC 5280 §4.1.2.5")
        } else if now < leaf.notBefore {
            add("smtp.certificate-not-yet-valid", .failure,
                "the certificate of \(subject) is not valid before \(isoDay(leaf.notBefore))",
                remedy: "Check the server's clock and the certificate's dates.", reference: "RFC 5280 §4.1.2.5")
        } else if days < expiryWarningDays {
            add("smtp.certificate-expiring", .warning,
                "the certificate of \(subject) expires in \(days) day\(days == 1 ? "" : "s") (\(isoDay(leaf.notAfter)))",
                remedy: "Renew it now; check that automatic renewal works.", reference: "RFC 5280 §4.1.2.5")
        }
        let mismatched = target.hostNames.filter { !CertificateNames.matches($0, leaf) }
        if !mismatched.isEmpty {
            add("smtp.certificate-name-mismatch", .failure,
                "the certificate of \(subject) is not valid for \(mismatched.map(\.description).joined(separator: ", ")); it names "
                    + (leaf.dnsNames.isEmpty ? leaf.subject : leaf.dnsNames.joined(separator: ", ")),
                remedy: "Get a certificate whose subjectAltName includes \(mismatched.map(\.description).joined(separator: " and ")).",
                reference: "RFC 6125 §6.4, RFC 7672 §3.2.3")
        }
        for certificate in tls.peerChain.dropLast(tls.peerChain.count > 1 && tls.peerChain.last?.isSelfSigned == true ? 1 : 0)
        where certificate.hasWeakSignatureDigest {
            add("smtp.certificate-sha1", .failure,
                "\(certificate.subject) in the chain of \(subject) is signed with \(certificate.signatureDigest ?? "?"), which is broken",
                remedy: "Reissue the certificate with a SHA-256 signature.", reference: "RFC 6194 §3, CA/B Forum BR §7.1.3")
        }
        if leaf.publicKey.algorithm.uppercased().hasPrefix("RSA") && leaf.publicKey.bits < 2048 {
            add("smtp.certificate-weak-key", .warning,
                "the certificate of \(subject) has an RSA key of \(leaf.publicKey.bits) bits",
                remedy: "Use an RSA key of at least 2048 bits, or an ECDSA key.", reference: "RFC 9325 §4.3, NIST SP 800-131A")
        }
        let bad = findings.contains { $0.severity == .failure || $0.severity == .warning }
        if !bad {
            add("smtp.certificate-valid", .pass,
                "the certificate of \(subject) is trusted, names the host and is valid for \(days) more days",
                remedy: nil, reference: "RFC 5280 §6.1, RFC 6125 §6.4")
        }
        return findings
    }

    private static func greetingFindings(_ result: ProbeResult, subject: FindingSubject, ptrNames: [DomainName]) -> [Finding] {
        guard let greeting = result.greeting, let first = greeting.lines.first?.split(separator: " ").first,
              !ptrNames.isEmpty else { return [] }
        let announced = DomainName(labels: first.split(separator: ".").map(String.init))
        guard !ptrNames.contains(announced) else { return [] }
        return [Finding(
            "smtp.greeting-name-differs", .info, subject: subject,
            message: "\(subject) greets as \(announced), but its PTR names \(ptrNames.map(\.description).joined(separator: ", "))",
            evidence: ["S: \(greeting.code) \(greeting.lines.first ?? "")"] + ptrNames.map { "PTR \($0)" },
            remedy: "Not an error; some receivers like the greeting, PTR and MX names to agree (Postfix: myhostname).",
            reference: "RFC 5321 §4.3.1")]
    }

    /// A finding for a domain whose every MX address timed out on connect: probably this
    /// network, not the domain, blocks port 25.
    public static func blockedPortFinding(domain: DomainName, results: [ProbeResult]) -> Finding? {
        // Connect timeouts, perhaps beside addresses with no route (IPv6 on an IPv4-only network).
        let timedOut = results.filter { $0.outcome == .timeout(.connect) }
        let unreachable = results.filter { if case .networkError = $0.outcome { true } else { false } }
        guard !timedOut.isEmpty, timedOut.count + unreachable.count == results.count, let port = results.first?.port else { return nil }
        return Finding(
            "smtp.port-blocked", .inconclusive, subject: .domain(domain),
            message: "every MX address of \(domain) that could be tried timed out on port \(port): this network probably blocks outbound port \(port)",
            evidence: results.map { "\($0.address):\($0.port) \($0.outcome)" },
            remedy: "Many ISPs and cloud providers (AWS, Google Cloud, Azure among them) block outbound port 25. Confirm from "
                + "another network, for example `nc -vz <mx host> 25` from a host with port 25 open, or ask the provider "
                + "to lift the block; the MX hosts themselves may be fine.",
            reference: "RFC 5321 §4.5.3.2")
    }

    /// The chain, one certificate a line, for evidence.
    public static func chainSummary(_ tls: TLSFacts) -> [String] {
        var lines = ["\(tls.protocolVersion), \(tls.cipher)"]
        for (depth, certificate) in tls.peerChain.enumerated() {
            lines.append("[\(depth)] subject \(certificate.subject); issuer \(certificate.issuer)")
            if !certificate.dnsNames.isEmpty { lines.append("    names \(certificate.dnsNames.joined(separator: ", "))") }
            lines.append("    valid \(isoDay(certificate.notBefore)) to \(isoDay(certificate.notAfter)); key \(certificate.publicKey); "
                + "signature \(certificate.signatureAlgorithm)")
        }
        let verification = tls.verification
        lines.append("verification: \(verification.result)" + (verification.untrusted.map { ", \($0)" } ?? "")
            + " at \(isoDay(verification.verifiedAt))")
        return lines
    }

    static func isoDay(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}

/// Host-name matching against a certificate (RFC 6125 §6.4): subjectAltName DNS names, a
/// wildcard only as the whole leftmost label; the subject CN only when there are none.
public enum CertificateNames {
    public static func matches(_ name: DomainName, _ certificate: CertificateFacts) -> Bool {
        var presented = certificate.dnsNames
        if presented.isEmpty, let cn = certificate.subject.split(separator: ",").compactMap({ part -> String? in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("CN=") ? String(trimmed.dropFirst(3)) : nil
        }).first {
            presented = [cn]
        }
        let labels = name.labels
        return presented.contains { pattern in
            let patternLabels = pattern.lowercased().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard patternLabels.count == labels.count else { return false }
            if patternLabels.first == "*" { return patternLabels.count > 2 && Array(patternLabels.dropFirst()) == Array(labels.dropFirst()) }
            return patternLabels == labels
        }
    }
}
