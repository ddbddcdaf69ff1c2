public import MailAuditCore
import MailAuditRecords
public import MailAuditSMTP

/// What the MTA-STS MX rules need from the rest of the audit.
public struct MTASTSMXContext: Hashable, Sendable {
    /// The MX host names (the domain itself under implicit MX); empty under null MX.
    public var hosts: [DomainName]
    /// False when the MX lookup failed, so which hosts the policy must cover is unknown.
    public var hostsKnown: Bool
    /// Each host's TLS as the probe saw it; nil when the probe did not run.
    public var tls: [DomainName: MTASTSHostTLS]?

    public init(hosts: [DomainName], hostsKnown: Bool = true, tls: [DomainName: MTASTSHostTLS]? = nil) {
        self.hosts = hosts
        self.hostsKnown = hostsKnown
        self.tls = tls
    }
}

/// One MX host's TLS as an MTA-STS sender judges it (RFC 8461 §4.2).
public enum MTASTSHostTLS: Hashable, Sendable {
    /// STARTTLS with a trusted, current certificate that names the host.
    case valid
    /// A sender enforcing the policy would refuse to deliver; why, and the evidence.
    case invalid(String, evidence: [String])
    /// The probe could not tell (a timeout, a refused connection, an address not probed).
    case notChecked(String)
}

/// The MTA-STS verdicts about MX hosts: every one must match an `mx` pattern (RFC 8461 §4.1)
/// and present a valid certificate for its name (§4.2), or senders in enforce mode refuse it (§5).
public enum MTASTSMXRules {
    static func findings(policy: MTASTSPolicy, mx: MTASTSMXContext, fetch: MTASTSPolicyFetch, newRecord: String) -> [Finding] {
        guard policy.mode != .none else { return [] }
        let enforcing = policy.mode == .enforce
        let severity: Severity = enforcing ? .failure : .warning
        let consequence = enforcing ? "senders that apply the policy will not deliver to it" : "senders report deliveries to it as failures"
        let patterns = policy.mx.map(\.description).joined(separator: ", ")
        var findings: [Finding] = []
        guard mx.hostsKnown else {
            return [Finding(
                "mta-sts.mx-not-checked", .info, subject: .record(fetch.host),
                message: "the MX lookup failed, so whether the policy covers every MX host is unknown",
                remedy: "Run the audit again.", reference: "RFC 8461 §4.1")]
        }
        for host in mx.hosts where !policy.covers(host) {
            findings.append(Finding(
                "mta-sts.mx-not-covered", severity, subject: FindingSubject(host: host.description),
                message: "\(host) is an MX host but matches no mx pattern of the MTA-STS policy (\(patterns)): \(consequence)",
                evidence: ["mx patterns at \(fetch.url): \(patterns)", "MX hosts: \(mx.hosts.map(\.description).joined(separator: ", "))"],
                remedy: "Add \"mx: \(host)\" to the policy at \(fetch.url), then publish a new id: \(newRecord)",
                reference: "RFC 8461 §4.1, §5"))
        }
        guard let tls = mx.tls else {
            return findings + [Finding(
                "mta-sts.mx-not-checked", .info, subject: .record(fetch.host),
                message: "the MX hosts' certificates were not checked against the \(policy.mode.rawValue) policy: the MX probe did not run",
                remedy: "Run without --no-probe (and with probe among --checks) to check them.", reference: "RFC 8461 §4.2")]
        }
        var unchecked: [String] = []
        for host in mx.hosts {
            switch tls[host] ?? .notChecked("not probed") {
            case .valid:
                break
            case .invalid(let why, let evidence):
                findings.append(Finding(
                    "mta-sts.mx-certificate", severity, subject: FindingSubject(host: host.description),
                    message: "\(host) has no valid TLS for its name (\(why)): \(consequence)",
                    evidence: evidence,
                    remedy: "Offer STARTTLS with a certificate from a public CA that names \(host), sent with its intermediates"
                        + (enforcing ? "; until then, serve the policy with mode: testing." : "."),
                    reference: "RFC 8461 §4.2, §5"))
            case .notChecked(let why):
                unchecked.append("\(host): \(why)")
            }
        }
        if !unchecked.isEmpty {
            findings.append(Finding(
                "mta-sts.mx-not-checked", .info, subject: .record(fetch.host),
                message: "the TLS of \(unchecked.count) MX host\(unchecked.count == 1 ? "" : "s") could not be checked against the policy",
                evidence: unchecked, remedy: "See the smtp findings; run the audit again.", reference: "RFC 8461 §4.2"))
        }
        return findings
    }

    /// "covers every MX host (2)" for the policy's pass finding, or nil when some host is not covered or none is known.
    static func coverageSummary(_ policy: MTASTSPolicy, mx: MTASTSMXContext) -> String? {
        guard mx.hostsKnown, !mx.hosts.isEmpty, mx.hosts.allSatisfy(policy.covers) else { return nil }
        return "covers every MX host (\(mx.hosts.count))"
    }

    /// How a sender would judge `host`'s TLS from the probes of its addresses: invalid when one
    /// address fails, valid when the others that could be checked pass.
    public static func hostTLS(_ host: DomainName, probes: [(ProbeTarget, ProbeResult)]) -> MTASTSHostTLS {
        let results = probes.filter { $0.0.hostNames.contains(host) }.map(\.1)
        var verdicts = results.map { judge($0, host: host) }
        if verdicts.isEmpty { verdicts = [.notChecked("not probed")] }
        if let invalid = verdicts.first(where: { if case .invalid = $0 { true } else { false } }) { return invalid }
        if verdicts.contains(.valid) { return .valid }
        return verdicts[0]
    }

    /// One address's probe, judged for `host` (RFC 8461 §4.2): STARTTLS, a chain to a trusted
    /// root, a current certificate, and the host's name in it (RFC 6125).
    static func judge(_ result: ProbeResult, host: DomainName) -> MTASTSHostTLS {
        let at = "\(host) [\(result.address)]"
        let transcript = result.transcript.suffix(12).map(\.description)
        switch result.outcome {
        case .completed:
            break
        case .tlsFailed(let reason):
            return .invalid("the TLS handshake failed: \(reason)", evidence: transcript)
        case .closed(.tlsHandshake):
            return .invalid("the server closed the connection during the TLS handshake", evidence: transcript)
        default:
            return .notChecked("\(at): \(result.outcome)")
        }
        guard result.offersSTARTTLS, let tls = result.tls else {
            return .invalid("\(at) does not offer STARTTLS", evidence: transcript)
        }
        let chain = SMTPRules.chainSummary(tls)
        let problems = tls.verification.errors.filter { $0.code != .hostnameMismatch }
        if !problems.isEmpty {
            return .invalid("\(at): \(problems.map(\.code.text).joined(separator: "; "))", evidence: chain)
        }
        guard let leaf = tls.leaf, CertificateNames.matches(host, leaf) else {
            let names = tls.leaf?.dnsNames.joined(separator: ", ") ?? "no certificate"
            return .invalid("the certificate of \(at) does not name \(host); it names \(names)", evidence: chain)
        }
        return .valid
    }
}
