import MailAuditCore
import MailAuditSMTP
import MailAuditTLS

/// DANE verdicts for one MX host: pure functions of its TLSA answer and its probes.
enum DANERules {
    static func findings(host: DomainName, answer: DNSAnswer, probes: [ProbeResult], probeRan: Bool, dnssecSource: [String]) -> [Finding] {
        let subject = FindingSubject(host: host.description)
        let evidence = answer.evidence + dnssecSource
        if answer.outcome.isInconclusive {
            return [Finding(
                "dane.lookup-failed", .inconclusive, subject: subject,
                message: "could not look up the TLSA records of \(host) (\(answer.outcome.summary))", evidence: evidence,
                remedy: "Run the audit again; if it persists, check the name servers of \(host).", reference: "RFC 7672 §2.2")]
        }
        let records = answer.records.compactMap { if case .tlsa(let tlsa) = $0.data { tlsa } else { nil } }
        switch answer.dnssec {
        case .insecure:
            return [Finding(
                "dane.unsigned", .warning, subject: subject,
                message: "\(host) publishes TLSA records in a zone that is not DNSSEC-signed: senders ignore them",
                evidence: evidence, remedy: "Sign the zone of \(DANECheck.tlsaName(host)) with DNSSEC, or remove the TLSA records.",
                reference: "RFC 7672 §2.2")]
        case .bogus(let reason):
            return [Finding(
                "dane.bogus", .failure, subject: subject,
                message: "the TLSA records of \(host) fail DNSSEC validation (\(reason)): DANE senders defer mail to it",
                evidence: evidence, remedy: "Fix the DNSSEC signatures of the zone of \(DANECheck.tlsaName(host)).",
                reference: "RFC 7672 §2.2, RFC 4035 §5")]
        case .indeterminate:
            return [Finding(
                "dane.not-validated", .inconclusive, subject: subject,
                message: "\(host) publishes TLSA records, but their DNSSEC status was not validated, so DANE was not checked",
                evidence: evidence, remedy: "Run again with a trust anchor (--trust-anchor, or Debian's dns-root-data), or with --trust-resolver-ad and a validating resolver (--resolver).",
                reference: "RFC 7672 §2.2")]
        case .secure:
            break
        }
        var findings: [Finding] = []
        let pkix = records.filter { $0.usage == 0 || $0.usage == 1 }
        if !pkix.isEmpty {
            findings.append(Finding(
                "dane.pkix-usage", .warning, subject: subject,
                message: "\(host) has TLSA records with PKIX usages (0 or 1), which SMTP senders do not use",
                evidence: evidence,
                remedy: "Publish DANE-EE (3 1 1) or DANE-TA (2 1 1) records instead of PKIX-TA/PKIX-EE ones.",
                reference: "RFC 7672 §3.1.3"))
        }
        let usable = records.filter(DANEMatching.isUsable)
        guard !usable.isEmpty else {
            findings.append(Finding(
                "dane.no-usable-record", .warning, subject: subject,
                message: "none of the TLSA records of \(host) is usable for SMTP: senders fall back to unauthenticated TLS",
                evidence: evidence, remedy: "Publish _25._tcp.\(host). IN TLSA 3 1 1 <SHA-256 of the certificate's public key>.",
                reference: "RFC 7672 §2.2, §3.1"))
            return findings
        }
        findings += matchFindings(host: host, usable: usable, probes: probes, probeRan: probeRan, evidence: evidence)
        findings.append(DANEMatching.hasRolloverScheme(usable)
            ? Finding("dane.rollover", .pass, subject: subject,
                      message: "\(host) publishes a key rollover scheme (a current and a next TLSA record, or DANE-EE beside DANE-TA)",
                      evidence: evidence, reference: "RFC 7671 §8")
            : Finding("dane.rollover", .info, subject: subject,
                      message: "\(host) publishes a single usable TLSA record: a new key needs its TLSA record published first",
                      evidence: evidence,
                      remedy: "Before changing the key, publish the next key's TLSA record beside the current one, or add a DANE-TA record.",
                      reference: "RFC 7671 §8.1"))
        return findings
    }

    private static func matchFindings(
        host: DomainName, usable: [TLSAData], probes: [ProbeResult], probeRan: Bool, evidence: [String]
    ) -> [Finding] {
        let subject = FindingSubject(host: host.description)
        guard probeRan, !probes.isEmpty else {
            return [Finding(
                "dane.not-probed", .info, subject: subject,
                message: "the TLSA records of \(host) are DNSSEC-secure, but its certificate was not probed, so they were not matched",
                evidence: evidence, remedy: "Run the audit with the MX probe to match them.", reference: "RFC 7672 §3")]
        }
        var findings: [Finding] = []
        for probe in probes {
            let where_ = "\(host) [\(probe.address)]"
            let address = FindingSubject(host: host.description, address: probe.address.description)
            guard let tls = probe.tls else {
                let verdict: Severity = probe.outcome.isInconclusive ? .inconclusive : .failure
                findings.append(Finding(
                    "dane.no-tls", verdict, subject: address,
                    message: verdict == .failure
                        ? "\(where_) publishes TLSA records but did not complete STARTTLS: DANE senders defer mail to it"
                        : "\(where_): the probe did not reach TLS, so the TLSA records could not be matched",
                    evidence: evidence, remedy: "Offer STARTTLS with the certificate the TLSA records describe.",
                    reference: "RFC 7672 §2.2"))
                continue
            }
            let chainLines = tls.peerChain.enumerated().map { index, certificate in
                "certificate \(index): \(certificate.subject); SHA-256 of its public key "
                    + ((DigestAlgorithm.sha256.digest(of: certificate.subjectPublicKeyInfo) ?? []).hexUpper)
            }
            if usable.contains(where: { DANEMatching.matches($0, chain: tls.peerChain) }) {
                findings.append(Finding(
                    "dane.match", .pass, subject: address,
                    message: "the certificate chain of \(where_) matches its TLSA records", evidence: evidence + chainLines,
                    reference: "RFC 7672 §3.1"))
            } else {
                findings.append(Finding(
                    "dane.mismatch", .failure, subject: address,
                    message: "no TLSA record of \(host) matches the certificate chain \(where_) presents: DANE senders defer mail to it",
                    evidence: evidence + chainLines,
                    remedy: "Publish a TLSA record for the certificate in use, e.g. _25._tcp.\(host). IN TLSA 3 1 1 "
                        + "\((DigestAlgorithm.sha256.digest(of: tls.peerChain.first?.subjectPublicKeyInfo ?? []) ?? []).hexUpper), "
                        + "or put back the certificate they describe.",
                    reference: "RFC 7672 §3.1, RFC 6698 §2.1"))
            }
        }
        return findings
    }
}
