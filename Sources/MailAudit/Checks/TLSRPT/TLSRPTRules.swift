import MailAuditCore
import MailAuditRecords

/// TLS-RPT verdicts: pure functions of what ``TLSRPTLookup`` fetched (RFC 8460).
enum TLSRPTRules {
    static func findings(for result: TLSRPTResult) -> [Finding] {
        let domain = result.domain
        let subject = FindingSubject.domain(domain)
        let name = result.recordName
        let evidence = result.answer.evidence
        let selection = result.selection

        if result.answer.outcome.isInconclusive {
            return [Finding(
                "tls-rpt.lookup-failed", .inconclusive, subject: subject,
                message: "could not look up \(name) TXT (\(result.answer.outcome.summary)), so whether \(domain) asks for TLS reports is unknown",
                evidence: evidence,
                remedy: "Run the audit again; if it persists, check the name servers of \(domain).",
                reference: "RFC 8460 §3")]
        }
        switch selection.outcome {
        case .multiple(let texts):
            return [Finding(
                "tls-rpt.multiple-records", .failure, subject: subject,
                message: "\(name) has \(texts.count) TLS-RPT records; senders then assume \(domain) does not implement TLS-RPT and send no reports",
                evidence: evidence,
                remedy: "Keep one record: \(suggestedRecord(domain, uris: nil))",
                reference: "RFC 8460 §3")]
        case .record(let text):
            return recordFindings(text, result: result)
        case .none:
            break
        }
        if let text = selection.nearMisses.first {
            return [Finding(
                "tls-rpt.syntax-error", .failure, subject: subject,
                message: "a TXT record at \(name) mentions TLSRPTv1 but does not start with \"v=TLSRPTv1\", so senders discard it",
                evidence: [text],
                remedy: "Start the record with v=TLSRPTv1: \(suggestedRecord(domain, uris: nil))",
                reference: "RFC 8460 §3")]
        }
        return [noneFinding(result)]
    }

    private static func recordFindings(_ text: String, result: TLSRPTResult) -> [Finding] {
        let domain = result.domain
        let subject = FindingSubject.domain(domain)
        let record: TLSRPTRecord
        do throws(TLSRPTParseError) {
            record = try TLSRPTRecord(parsing: text)
        } catch {
            return [Finding(
                "tls-rpt.syntax-error", .failure, subject: subject,
                message: "the TLS-RPT record at \(result.recordName) is not valid (\(error)), so senders send no reports",
                evidence: [text],
                remedy: "Publish a valid record: \(suggestedRecord(domain, uris: nil))",
                reference: "RFC 8460 §3")]
        }
        var findings: [Finding] = []
        let fixed = fixedURIs(record.reportURIs)
        for uri in record.reportURIs where uri.scheme == "http" {
            findings.append(Finding(
                "tls-rpt.http-uri", .failure, subject: subject,
                message: "the TLS-RPT report address \(uri) uses http:, but reports are posted only over https:",
                evidence: [text],
                remedy: "Publish the address with https: \(suggestedRecord(domain, uris: fixed))",
                reference: "RFC 8460 §3"))
        }
        for uri in record.reportURIs where !["mailto", "https", "http"].contains(uri.scheme) {
            findings.append(Finding(
                "tls-rpt.unsupported-uri-scheme", .failure, subject: subject,
                message: "the TLS-RPT report address \(uri) uses the scheme \(uri.scheme):, but only mailto: and https: are supported",
                evidence: [text],
                remedy: "Use a mailto: or https: address: \(suggestedRecord(domain, uris: fixed))",
                reference: "RFC 8460 §3"))
        }
        if findings.isEmpty {
            findings.append(Finding(
                "tls-rpt.record", .pass, subject: subject,
                message: "\(domain) asks for TLS reports at \(record.reportURIs.map(\.description).joined(separator: ", "))",
                evidence: [text], reference: "RFC 8460 §3",
                facts: ["rua": .list(record.reportURIs.map(\.description))]))
        }
        return findings
    }

    private static func noneFinding(_ result: TLSRPTResult) -> Finding {
        let domain = result.domain
        let deployment = result.deployment
        let presences = [("MTA-STS", deployment?.mtaSTS), ("DANE", deployment?.dane)]
        let deployed = presences.filter { $0.1 == .deployed }.map(\.0)
        let unknown = presences.filter { $0.1 == .unknown }.map(\.0)
        let message: String
        if !deployed.isEmpty {
            message = "\(domain) deploys \(deployed.joined(separator: " and ")) but publishes no TLS-RPT record at \(result.recordName): nobody hears when senders fail to deliver over TLS"
        } else if !unknown.isEmpty {
            message = "\(domain) publishes no TLS-RPT record at \(result.recordName); whether it deploys \(unknown.joined(separator: " or ")) is unknown (a lookup failed)"
        } else {
            message = "\(domain) publishes no TLS-RPT record at \(result.recordName); neither MTA-STS nor DANE is deployed, so there is little to report yet"
        }
        return Finding(
            "tls-rpt.none", deployed.isEmpty ? .info : .warning, subject: .domain(domain),
            message: message,
            evidence: result.answer.evidence + (deployment?.evidence ?? []),
            remedy: "Publish a record to receive daily reports of TLS failures: \(suggestedRecord(domain, uris: nil))",
            reference: "RFC 8460 §3",
            facts: ["mtaSTS": .text(deployment?.mtaSTS.rawValue ?? "unknown"), "dane": .text(deployment?.dane.rawValue ?? "unknown")])
    }

    /// The URIs with http: made https: and other schemes dropped; nil when none is left.
    static func fixedURIs(_ uris: [TLSRPTURI]) -> [TLSRPTURI]? {
        let fixed = uris.compactMap { uri -> TLSRPTURI? in
            switch uri.scheme {
            case "mailto", "https": uri
            case "http": try? TLSRPTURI(parsing: "https" + uri.uri.drop { $0 != ":" })
            default: nil
            }
        }
        return fixed.isEmpty ? nil : fixed
    }

    /// `_smtp._tls.example.com. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@example.com"`, or with `uris`.
    static func suggestedRecord(_ domain: DomainName, uris: [TLSRPTURI]?) -> String {
        let record = TLSRPTRecord(reportURIs: uris ?? [.mailto("tls-reports", at: domain)])
        return "\(TLSRPTLookup.recordName(for: domain).fqdn) IN TXT \"\(record)\""
    }
}
