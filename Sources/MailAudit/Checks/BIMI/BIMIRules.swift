public import MailAuditCore
import MailAuditRecords
import MailAuditTLS

/// BIMI verdicts (draft-brand-indicators-for-message-identification-10): pure functions of what
/// ``BIMILookup`` fetched.
public enum BIMIRules {
    static let draft = "draft-brand-indicators-for-message-identification-10"

    /// Every BIMI finding of a domain.
    public static func findings(for result: BIMIResult) -> [Finding] {
        let domain = result.domain
        let subject = FindingSubject.record(recordName(domain))
        let name = recordName(domain)
        var findings: [Finding] = []
        if !result.nearMisses.isEmpty, !isRecord(result.record) {
            findings.append(Finding(
                "bimi.syntax", .failure, subject: subject,
                message: "a TXT record at \(name) mentions BIMI1 but does not start with \"v=BIMI1\", so receivers ignore it",
                evidence: result.nearMisses.map(\.terminalSafe),
                remedy: "Start the record with v=BIMI1: \(suggestedRecord(domain))", reference: "\(draft) §4.3"))
        }
        switch result.record {
        case .none:
            if result.nearMisses.isEmpty {
                findings.append(Finding(
                    "bimi.none", .info, subject: .domain(domain),
                    message: "\(domain) publishes no BIMI record at \(name), so mail clients that support BIMI show no brand logo for its mail",
                    evidence: result.recordAnswer.evidence,
                    remedy: "To show a logo: enforce DMARC (p=quarantine or p=reject), serve the logo as SVG Tiny PS over HTTPS, obtain a mark certificate (VMC or CMC), then publish \(suggestedRecord(domain)).",
                    reference: "\(draft) §4.3"))
            }
        case .lookupFailed(let outcome):
            findings.append(Finding(
                "bimi.lookup-failed", .inconclusive, subject: subject,
                message: "could not look up \(name) TXT (\(outcome.summary)), so whether \(domain) publishes BIMI is unknown",
                evidence: result.recordAnswer.evidence,
                remedy: "Run the audit again; if it persists, check the name servers of \(domain).", reference: "\(draft) §4.3"))
        case .multiple(let texts):
            findings.append(Finding(
                "bimi.multiple-records", .failure, subject: subject,
                message: "\(name) has \(texts.count) BIMI records; receivers treat that as an error and show no logo",
                evidence: texts.map(\.terminalSafe), remedy: "Keep one record: \(suggestedRecord(domain))", reference: "\(draft) §4.3"))
        case .invalid(let error, let text):
            findings.append(invalidFinding(error, text: text, domain: domain))
        case .record(let record, let text):
            findings += recordFindings(record, text: text, result: result)
        }
        return findings
    }

    private static func invalidFinding(_ error: BIMIRecordError, text: String, domain: DomainName) -> Finding {
        let name = recordName(domain)
        let evidence = [text.terminalSafe, String(repeating: " ", count: max(0, error.offset)) + "^"]
        if error.isNotHTTPS {
            // The same record with the URI's scheme made https.
            let scalars = Array(text.unicodeScalars)
            let colon = scalars[error.offset...].firstIndex(of: ":") ?? error.offset
            let fixed = String(String.UnicodeScalarView(scalars[..<error.offset])) + "https" + String(String.UnicodeScalarView(scalars[colon...]))
            let suggestion = (try? BIMIRecord(parsing: fixed)).map { "\(name.fqdn) IN TXT \"\($0)\"" } ?? suggestedRecord(domain)
            return Finding(
                "bimi.not-https", .failure, subject: .record(name),
                message: "the BIMI record at \(name) is invalid: \(error.reason); receivers fetch the logo and evidence over HTTPS only, and ignore the record",
                evidence: evidence, remedy: "Serve the file over HTTPS with a valid certificate and publish \(suggestion)",
                reference: "\(draft) §4.3")
        }
        return Finding(
            "bimi.syntax", .failure, subject: .record(name),
            message: "the BIMI record at \(name) is invalid: \(error); receivers ignore it and show no logo",
            evidence: evidence, remedy: "Publish a valid record: \(suggestedRecord(domain))", reference: "\(draft) §4.3")
    }

    private static func recordFindings(_ record: BIMIRecord, text: String, result: BIMIResult) -> [Finding] {
        let domain = result.domain
        let name = recordName(domain)
        if record.isDeclination {
            return [Finding(
                "bimi.declined", .info, subject: .record(name),
                message: "\(name) declines BIMI (empty l= and a=): no logo is shown for \(domain)'s mail, even where its parent domain has one",
                evidence: result.recordAnswer.evidence, reference: "\(draft) §4.3.1")]
        }
        var findings = [Finding(
            "bimi.record", .pass, subject: .record(name),
            message: "\(name) publishes a BIMI record: logo \(record.location?.text.terminalSafe ?? "none (the mark certificate's own)"), evidence \(record.evidence?.text.terminalSafe ?? "none")",
            evidence: result.recordAnswer.evidence, reference: "\(draft) §4.3",
            facts: ["l": .text(record.location?.text ?? ""), "a": .text(record.evidence?.text ?? "")])]
        if let dmarc = result.dmarc { findings.append(dmarcFinding(dmarc, domain: domain)) }
        if let logo = result.logo { findings += BIMIDocumentRules.logoFindings(logo) }
        if let evidence = result.evidence {
            findings += BIMIDocumentRules.evidenceFindings(evidence)
        } else {
            findings.append(Finding(
                "bimi.evidence-missing", .info, subject: .record(name),
                message: "the BIMI record of \(domain) has no a= evidence: most mailbox providers, Gmail and Apple Mail among them, show a logo only with a Verified or Common Mark Certificate",
                evidence: [text.terminalSafe],
                remedy: "Obtain a VMC or CMC for the logo from a mark verifying authority, serve its PEM over HTTPS, and add a=https://<web host>/<certificate>.pem to the record.",
                reference: "\(draft) §4.3"))
        }
        return findings
    }

    private static func dmarcFinding(_ dmarc: DMARCResult, domain: DomainName) -> Finding {
        let walk = dmarc.discovery.steps.map { step in "\(step.name) TXT: \(step.recordText.map { "\"\($0.terminalSafe)\"" } ?? step.answer.outcome.summary)" }
        switch BIMIDMARCRule.judge(dmarc) {
        case .enforced(let summary):
            return Finding(
                "bimi.dmarc-enforced", .pass, subject: .domain(domain),
                message: "DMARC is at enforcement for \(domain) (\(summary)), as BIMI requires", evidence: walk, reference: "\(draft) §1")
        case .notEnforced(let reasons):
            return Finding(
                "bimi.dmarc-not-enforced", .failure, subject: .domain(domain),
                message: "DMARC is not at enforcement for \(domain) (\(reasons.joined(separator: "; "))), so receivers show no BIMI logo for its mail",
                evidence: walk,
                remedy: "Once DMARC reports show all of \(domain)'s mail passing, move the DMARC policy to p=quarantine or p=reject, without pct below 100, t=y or sp=none, at the Organizational Domain too (see the DMARC findings).",
                reference: "\(draft) §1", facts: ["reasons": .list(reasons)])
        case .unknown(let why):
            return Finding(
                "bimi.dmarc-unknown", .inconclusive, subject: .domain(domain),
                message: "whether DMARC is at enforcement for \(domain), as BIMI requires, is unknown: \(why)", evidence: walk,
                remedy: "Run the audit again; if it persists, check the name servers.", reference: "\(draft) §1")
        }
    }

    /// True when some TXT record starts with `v=BIMI1`.
    private static func isRecord(_ status: BIMIRecordStatus) -> Bool {
        switch status {
        case .record, .invalid, .multiple: true
        case .none, .lookupFailed: false
        }
    }

    static func recordName(_ domain: DomainName) -> DomainName { domain.prepending("_bimi").prepending("default") }

    /// A record to publish, with placeholders for the URLs.
    static func suggestedRecord(_ domain: DomainName) -> String {
        "\(recordName(domain).fqdn) IN TXT \"v=BIMI1; l=https://<web host>/logo.svg; a=https://<web host>/vmc.pem\""
    }
}
