public import MailAuditCore

/// The MX verdicts: pure functions of what the lookups found.
public enum MXRules {
    /// Findings about a domain's MX records and the hosts they name.
    public static func findings(for routing: MailRouting, allowPrivateAddresses: Bool) -> [Finding] {
        let domain = routing.domain.description
        let answer = routing.mxAnswer
        switch answer.outcome {
        case .nxDomain:
            return [Finding(
                "mx.domain-nxdomain", .failure, subject: .domain(routing.domain),
                message: "\(domain) does not exist in DNS, so it can neither send nor receive mail",
                evidence: answer.evidence,
                remedy: "Register or delegate the domain, or check the spelling.",
                reference: "RFC 1035 §4.1.1")]
        case .cnameLoop:
            return [Finding(
                "mx.lookup-cname-loop", .failure, subject: .domain(routing.domain),
                message: "the MX lookup for \(domain) runs into a CNAME loop",
                evidence: answer.evidence,
                remedy: "Remove the CNAME records that point back at each other.",
                reference: "RFC 1034 §3.6.2")]
        case let outcome where outcome.isInconclusive:
            return [Finding(
                "mx.lookup-failed", .inconclusive, subject: .domain(routing.domain),
                message: "could not look up the MX records of \(domain): \(outcome.summary)",
                evidence: answer.evidence,
                remedy: "Run the audit again; if it persists, check the domain's name servers.",
                reference: "RFC 5321 §5.1")]
        default:
            break
        }
        if routing.isImplicit { return implicitFindings(routing, allowPrivateAddresses: allowPrivateAddresses) }

        var findings: [Finding] = []
        let mxEvidence = answer.evidence
        let nullMX = routing.hosts.filter { $0.name == .root }
        if !nullMX.isEmpty {
            if routing.hosts.count > nullMX.count {
                findings.append(Finding(
                    "mx.null-mx-with-other-mx", .failure, subject: .domain(routing.domain),
                    message: "\(domain) publishes a null MX beside other MX records, which RFC 7505 forbids",
                    evidence: mxEvidence,
                    remedy: "Either remove the \"MX 0 .\" record so mail is delivered to the other hosts, "
                        + "or remove the other MX records if the domain accepts no mail.",
                    reference: "RFC 7505 §3"))
            } else {
                findings.append(Finding(
                    "mx.null-mx", .pass, subject: .domain(routing.domain),
                    message: "\(domain) publishes a null MX: it declares that it accepts no mail",
                    evidence: mxEvidence, reference: "RFC 7505 §3"))
            }
            if nullMX.contains(where: { $0.preference != 0 }) {
                findings.append(Finding(
                    "mx.null-mx-nonzero-preference", .warning, subject: .domain(routing.domain),
                    message: "the null MX record of \(domain) has a preference other than 0",
                    evidence: mxEvidence, remedy: "\(routing.domain.fqdn) IN MX 0 .", reference: "RFC 7505 §3"))
            }
            if routing.hosts.count == nullMX.count { return findings }
        } else {
            findings.append(Finding(
                "mx.present", .pass, subject: .domain(routing.domain),
                message: routing.skippedHosts.isEmpty
                    ? "\(domain) has \(routing.hosts.count) MX record\(routing.hosts.count == 1 ? "" : "s")"
                    : "\(domain) publishes \(routing.hosts.count + routing.skippedHosts.count) MX records; the \(routing.hosts.count) most preferred were followed",
                evidence: mxEvidence, reference: "RFC 5321 §5.1",
                facts: ["mx": .list(routing.hosts.map { "\($0.preference) \($0.name)" }.sorted())]))
        }
        for host in routing.hosts where host.name != .root {
            findings += hostFindings(host, domain: routing.domain, allowPrivateAddresses: allowPrivateAddresses)
        }
        if !routing.skippedHosts.isEmpty {
            findings.append(Finding(
                "mx.hosts-not-checked", .warning, subject: .domain(routing.domain),
                message: "\(domain) has \(routing.hosts.count + routing.skippedHosts.count) MX records; only the \(routing.hosts.count) most preferred were checked",
                evidence: Self.sample(routing.skippedHosts.map(\.description)),
                remedy: "Publish only the MX hosts that really receive mail; senders try few of them.",
                reference: "RFC 5321 §5.1"))
        }
        for host in routing.hosts where host.addressesNotFollowed > 0 {
            let followed = host.addresses.count
            findings.append(Finding(
                "mx.addresses-not-checked", .warning, subject: FindingSubject(host: host.name.description),
                message: "\(host.name) has \(followed + host.addressesNotFollowed) distinct addresses; only the first \(MailRoutingLookup.maximumAddressesPerFamily) of each family (\(followed)) were followed",
                evidence: ["\(host.addressesNotFollowed) addresses of \(host.name) not looked up or probed"],
                remedy: "Publish only the addresses that really receive mail for \(host.name).",
                reference: "RFC 5321 §5.1"))
        }
        findings += ipv6Findings(routing)
        return findings
    }

    private static func implicitFindings(_ routing: MailRouting, allowPrivateAddresses: Bool) -> [Finding] {
        let domain = routing.domain.description
        guard let host = routing.hosts.first else { return [] }
        let answers = [host.ipv4, host.ipv6].compactMap { $0 }
        if let failed = answers.first(where: { $0.outcome.isInconclusive }), host.addresses.isEmpty {
            return [Finding(
                "mx.target-lookup-failed", .inconclusive, subject: .domain(routing.domain),
                message: "\(domain) has no MX records, and its own addresses could not be looked up: \(failed.outcome.summary)",
                evidence: routing.mxAnswer.evidence + answers.flatMap(\.evidence),
                remedy: "Run the audit again; if it persists, check the domain's name servers.",
                reference: "RFC 5321 §5.1")]
        }
        if host.addresses.isEmpty {
            return [Finding(
                "mx.no-mail-route", .failure, subject: .domain(routing.domain),
                message: "\(domain) has no MX records and no A or AAAA records, so it cannot receive mail",
                evidence: routing.mxAnswer.evidence + answers.flatMap(\.evidence),
                remedy: "Publish MX records for the hosts that receive its mail, for example "
                    + "\"\(routing.domain.fqdn) IN MX 10 mail.\(routing.domain.fqdn)\", or, if it should receive "
                    + "no mail, a null MX: \"\(routing.domain.fqdn) IN MX 0 .\"",
                reference: "RFC 5321 §5.1, RFC 7505")]
        }
        var findings = [Finding(
            "mx.implicit-mx", .warning, subject: .domain(routing.domain),
            message: "\(domain) has no MX records; senders fall back to its A/AAAA addresses (implicit MX)",
            evidence: routing.mxAnswer.evidence + answers.flatMap(\.evidence),
            remedy: "Publish explicit MX records, for example \"\(routing.domain.fqdn) IN MX 10 \(routing.domain.fqdn)\", "
                + "or a null MX (\"\(routing.domain.fqdn) IN MX 0 .\") if the domain receives no mail.",
            reference: "RFC 5321 §5.1")]
        findings += privateAddressFindings(host, allowPrivateAddresses: allowPrivateAddresses)
        return findings
    }

    private static func hostFindings(_ host: MailHost, domain: DomainName, allowPrivateAddresses: Bool) -> [Finding] {
        let name = host.name.description
        let mxLine = "\(domain.fqdn) IN MX \(host.preference) \(host.name.fqdn)"
        if let literal = ipLiteral(in: host.name) {
            return [Finding(
                "mx.target-ip-literal", .failure, subject: FindingSubject(host: name),
                message: "the MX target \(name) is an IP address, but an MX record must name a host",
                evidence: [mxLine],
                remedy: "Give the server a host name with an A/AAAA record, for example "
                    + "\"mail.\(domain.fqdn) IN \(literal.isIPv6 ? "AAAA" : "A") \(literal)\", and publish "
                    + "\"\(domain.fqdn) IN MX \(host.preference) mail.\(domain.fqdn)\".",
                reference: "RFC 5321 §5.1, RFC 1035 §3.3.9")]
        }
        let answers = [host.ipv4, host.ipv6].compactMap { $0 }
        let evidence = uniqued([mxLine] + answers.flatMap(\.evidence))
        var findings: [Finding] = []
        if answers.contains(where: { $0.outcome == .cnameLoop }) {
            return [Finding(
                "mx.target-cname-loop", .failure, subject: FindingSubject(host: name),
                message: "the MX target \(name) is a CNAME that loops back on itself",
                evidence: evidence,
                remedy: "Replace the CNAME at \(host.name.fqdn) with A/AAAA records for the mail server.",
                reference: "RFC 1034 §3.6.2, RFC 5321 §5.1")]
        }
        if let chain = answers.first(where: { !$0.cnameChain.isEmpty })?.cnameChain {
            findings.append(Finding(
                "mx.target-cname", .failure, subject: FindingSubject(host: name),
                message: "the MX target \(name) is an alias (CNAME) for \(chain.last?.description ?? "?"); an MX must name a host directly",
                evidence: evidence,
                remedy: "Point the MX record at the canonical name: "
                    + "\"\(domain.fqdn) IN MX \(host.preference) \(chain.last?.fqdn ?? "?")\"",
                reference: "RFC 2181 §10.3, RFC 5321 §5.1"))
        }
        if host.addresses.isEmpty {
            if let failed = answers.first(where: { $0.outcome.isInconclusive }) {
                findings.append(Finding(
                    "mx.target-lookup-failed", .inconclusive, subject: FindingSubject(host: name),
                    message: "could not look up the addresses of the MX target \(name): \(failed.outcome.summary)",
                    evidence: evidence,
                    remedy: "Run the audit again; if it persists, check the name servers of \(name).",
                    reference: "RFC 5321 §5.1"))
            } else {
                let nx = answers.contains { $0.outcome == .nxDomain }
                findings.append(Finding(
                    "mx.target-unresolvable", .failure, subject: FindingSubject(host: name),
                    message: nx ? "the MX target \(name) does not exist (NXDOMAIN)"
                        : "the MX target \(name) has no A or AAAA records",
                    evidence: evidence,
                    remedy: "Publish an A (and AAAA) record for \(host.name.fqdn), or remove the MX record that names it.",
                    reference: "RFC 5321 §5.1"))
            }
            return findings
        }
        findings.append(Finding(
            "mx.target-resolves", .pass, subject: FindingSubject(host: name),
            message: "\(name) resolves to \(host.addresses.map(\.description).joined(separator: ", "))",
            evidence: evidence, reference: "RFC 5321 §5.1"))
        findings += privateAddressFindings(host, allowPrivateAddresses: allowPrivateAddresses)
        return findings
    }

    private static func privateAddressFindings(_ host: MailHost, allowPrivateAddresses: Bool) -> [Finding] {
        let flagged = host.addresses.compactMap { address in address.nonPublicRange.map { "\(address): \($0)" } }
        guard !flagged.isEmpty else { return [] }
        let name = host.name.description
        return [Finding(
            "mx.target-private-address", allowPrivateAddresses ? .info : .warning, subject: FindingSubject(host: name),
            message: "\(name) has addresses that are not reachable from the Internet"
                + (allowPrivateAddresses ? " (allowed by --allow-private-addresses)" : ""),
            evidence: flagged,
            remedy: "Publish the public addresses of the mail server; keep internal addresses in an internal view. "
                + "For lab and intranet domains, pass --allow-private-addresses.",
            reference: "RFC 6890, RFC 1918")]
    }

    private static func ipv6Findings(_ routing: MailRouting) -> [Finding] {
        let real = routing.hosts.filter { $0.name != .root && !$0.addresses.isEmpty }
        guard !real.isEmpty else { return [] }
        let withV6 = real.filter { $0.addresses.contains(where: \.isIPv6) }
        let domain = routing.domain.description
        let message = withV6.count == real.count
            ? "every MX host of \(domain) has an IPv6 address"
            : withV6.isEmpty ? "no MX host of \(domain) has an IPv6 address (AAAA)"
            : "\(withV6.count) of \(real.count) MX hosts of \(domain) have an IPv6 address"
        return [Finding(
            "mx.ipv6", .info, subject: .domain(routing.domain), message: message,
            evidence: real.map { "\($0.name): \($0.addresses.contains(where: \.isIPv6) ? "AAAA present" : "no AAAA")" },
            remedy: withV6.count == real.count ? nil : "Publish AAAA records for the MX hosts to receive mail over IPv6.",
            reference: "RFC 3596, RFC 5321 §5.1")]
    }

    private static func uniqued(_ lines: [String]) -> [String] {
        var seen = Set<String>()
        return lines.filter { seen.insert($0).inserted }
    }

    /// The address an MX target spells out, such as "192.0.2.1." or "[192.0.2.1]", if it is one.
    public static func ipLiteral(in name: DomainName) -> IPAddress? {
        var text = name.labels.joined(separator: ".")
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if text.lowercased().hasPrefix("ipv6:") { text = String(text.dropFirst(5)) }
        return IPAddress(text)
    }
}

extension MXRules {
    /// At most 20 lines of a long list, and how many were left out.
    static func sample(_ lines: [String]) -> [String] {
        lines.count <= 20 ? lines : Array(lines.prefix(20)) + ["… and \(lines.count - 20) more"]
    }
}
