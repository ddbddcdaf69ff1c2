public import Foundation
public import MailAuditCore
import MailAuditRecords
import MailAuditTLS

/// MTA-STS verdicts (RFC 8461): pure functions of what ``MTASTSLookup`` fetched and of the MX
/// hosts and probes of the same audit.
public enum MTASTSRules {
    /// A `max_age` below one week is a warning: RFC 8461 §3.2 expects "weeks or greater".
    public static let shortMaxAge = 604_800

    /// Every MTA-STS finding of a domain.
    ///
    /// - Parameters:
    ///   - mx: the MX hosts the policy must cover and what the probe saw of their TLS.
    ///   - now: the audit's clock, for the `id` suggested in remedies.
    public static func findings(for result: MTASTSResult, mx: MTASTSMXContext, now: Date) -> [Finding] {
        var findings = recordFindings(result, now: now)
        let served = isPolicyServed(result.policy)
        if result.intendsRecord {
            findings += policyFindings(result, mx: mx, now: now)
        } else if case .none = result.record {
            guard served else { return findings + [absentFinding(result, mx: mx, now: now)] }
            findings.append(Finding(
                "mta-sts.record-missing", .warning, subject: recordSubject(result.domain),
                message: "a policy is served at \(result.policy.url), but \(recordName(result.domain)) has no MTA-STS TXT record, so senders never fetch it; those that cached an earlier policy keep applying that one until it expires",
                evidence: result.recordAnswer.evidence + fetchEvidence(result.policy),
                remedy: "Publish \(suggestedRecord(result.domain, now: now)), or, to retire MTA-STS, serve \"mode: none\" first (RFC 8461 §8.3).",
                reference: "RFC 8461 §3.1, §5.1"))
            findings += policyFindings(result, mx: mx, now: now)
        } else if served {
            findings += policyFindings(result, mx: mx, now: now)
        }
        return findings
    }

    // MARK: The TXT record

    static func recordFindings(_ result: MTASTSResult, now: Date) -> [Finding] {
        let domain = result.domain
        let subject = recordSubject(domain)
        let name = recordName(domain)
        var findings: [Finding] = []
        if !result.nearMisses.isEmpty, !isRecord(result.record) {
            findings.append(Finding(
                "mta-sts.record-syntax", .failure, subject: subject,
                message: "a TXT record at \(name) mentions STSv1 but does not start with \"v=STSv1\", so senders ignore it",
                evidence: result.nearMisses.map(\.terminalSafe),
                remedy: "Start the record with v=STSv1: \(suggestedRecord(domain, now: now))", reference: "RFC 8461 §3.1"))
        }
        switch result.record {
        case .none:
            break
        case .lookupFailed(let outcome):
            findings.append(Finding(
                "mta-sts.record-lookup-failed", .inconclusive, subject: subject,
                message: "could not look up \(name) TXT (\(outcome.summary)), so whether \(domain) publishes MTA-STS is unknown",
                evidence: result.recordAnswer.evidence,
                remedy: "Run the audit again; if it persists, check the name servers of \(domain).", reference: "RFC 8461 §3.1"))
        case .multiple(let texts):
            findings.append(Finding(
                "mta-sts.multiple-records", .failure, subject: subject,
                message: "\(name) has \(texts.count) MTA-STS records; senders then assume \(domain) has no policy",
                evidence: texts.map(\.terminalSafe),
                remedy: "Keep one record: \(suggestedRecord(domain, now: now))", reference: "RFC 8461 §3.1"))
        case .invalid(let error, let text):
            findings.append(Finding(
                "mta-sts.record-syntax", .failure, subject: subject,
                message: "the MTA-STS record at \(name) is invalid: \(error); senders ignore it and apply no policy",
                evidence: [text.terminalSafe, String(repeating: " ", count: max(0, error.offset)) + "^"],
                remedy: "Publish a valid record: \(suggestedRecord(domain, now: now))", reference: "RFC 8461 §3.1"))
        case .record(let record, let text):
            findings.append(Finding(
                "mta-sts.record", .pass, subject: subject,
                message: "\(name) announces an MTA-STS policy with id \(record.id)",
                evidence: result.recordAnswer.evidence, reference: "RFC 8461 §3.1", facts: ["id": .text(record.id)]))
            if !record.ignoredDuplicates.isEmpty {
                findings.append(Finding(
                    "mta-sts.duplicate-field", .warning, subject: subject,
                    message: "the MTA-STS record at \(name) repeats \(record.ignoredDuplicates.map(\.name).joined(separator: ", ")); senders use the first and ignore the rest",
                    evidence: [text.terminalSafe], remedy: "Publish each field once: \(name.fqdn) IN TXT \"\(record)\"",
                    reference: "RFC 8461 §3.2"))
            }
        }
        return findings
    }

    // MARK: The policy fetch

    /// Findings about fetching the policy, then about the policy itself.
    static func policyFindings(_ result: MTASTSResult, mx: MTASTSMXContext, now: Date) -> [Finding] {
        let fetch = result.policy
        let subject = FindingSubject.record(fetch.host)
        let evidence = fetchEvidence(fetch)
        func fetchFailed(_ why: String, remedy: String) -> [Finding] {
            [Finding("mta-sts.policy-fetch-failed", .inconclusive, subject: subject,
                     message: "could not fetch the MTA-STS policy at \(fetch.url): \(why)",
                     evidence: evidence, remedy: remedy, reference: "RFC 8461 §3.3")]
        }
        switch fetch.outcome {
        case .noHost:
            return [Finding(
                "mta-sts.policy-host-missing", .failure, subject: subject,
                message: "\(fetch.host) has no address, so senders cannot fetch the policy the TXT record announces and apply none",
                evidence: evidence,
                remedy: "Publish A or AAAA records for \(fetch.host) pointing at a web server with a certificate for that name that serves \(fetch.url).",
                reference: "RFC 8461 §3.3")]
        case .hostLookupFailed:
            return fetchFailed("the address lookups of \(fetch.host) failed",
                               remedy: "Run the audit again; if it persists, check the name servers of \(result.domain).")
        case .notPublic(let addresses):
            return fetchFailed("\(fetch.host) has only non-public addresses (\(addresses.map(\.description).joined(separator: ", ")))",
                               remedy: "For lab and intranet domains, pass --allow-private-addresses to fetch from such addresses.")
        case .failed(let attempts):
            return attemptFindings(attempts, fetch: fetch, evidence: evidence, fetchFailed: fetchFailed)
        case .response(let response, _):
            return responseFindings(response, result: result, mx: mx, now: now, evidence: evidence, fetchFailed: fetchFailed)
        }
    }

    private static func attemptFindings(
        _ attempts: [MTASTSFetchAttempt], fetch: MTASTSPolicyFetch, evidence: [String],
        fetchFailed: (String, String) -> [Finding]
    ) -> [Finding] {
        guard let last = attempts.last else { return fetchFailed("no address was tried", "Run the audit again.") }
        let subject = FindingSubject.record(fetch.host)
        switch last.error {
        case .tls(.verificationFailed(let error)):
            return [Finding(
                "mta-sts.policy-certificate", .failure, subject: subject,
                message: "the certificate of \(fetch.host) [\(last.address)] fails verification (\(error.code.text)), so senders will not fetch the policy and apply none",
                evidence: evidence,
                remedy: "Install a certificate from a public CA whose subjectAltName includes \(fetch.host), sent with its intermediates.",
                reference: "RFC 8461 §3.3, RFC 6125 §6.4")]
        case .tls(.protocolVersionRefused(let reason)), .tls(.handshakeFailed(let reason)):
            return [Finding(
                "mta-sts.policy-tls", .failure, subject: subject,
                message: "the TLS handshake with \(fetch.host) [\(last.address)] failed (\(reason.terminalSafe)), so senders cannot fetch the policy",
                evidence: evidence, remedy: "Serve \(fetch.url) over TLS 1.2 or 1.3 with a certificate for \(fetch.host).",
                reference: "RFC 8461 §3.3, RFC 8996")]
        case .response(.truncated), .connect, .stream, .tls:
            return fetchFailed("\(last)".terminalSafe, "Run the audit again; if it persists, check that \(fetch.host) accepts HTTPS connections from the Internet.")
        case .response(let error):
            return [Finding(
                "mta-sts.policy-response", .failure, subject: subject,
                message: "\(fetch.url) sent a response senders cannot use: \(error.description.terminalSafe)",
                evidence: evidence,
                remedy: "Serve the policy as a small text/plain file (at most \(MTASTSPolicyFetcher.limits.bodyBytes / 1024) KiB) with status 200.",
                reference: "RFC 8461 §3.3")]
        }
    }

    private static func responseFindings(
        _ response: HTTPResponse, result: MTASTSResult, mx: MTASTSMXContext, now: Date, evidence: [String],
        fetchFailed: (String, String) -> [Finding]
    ) -> [Finding] {
        let fetch = result.policy
        let subject = FindingSubject.record(fetch.host)
        let status = "\(response.status) \(response.reason)".terminalSafe
        switch response.status {
        case 200:
            break
        case 300..<400:
            let target = response.header("location").map { " to \($0.terminalSafe)" } ?? ""
            return [Finding(
                "mta-sts.redirect", .failure, subject: subject,
                message: "\(fetch.url) answers \(status)\(target); senders do not follow redirects, so they get no policy",
                evidence: evidence, remedy: "Serve the policy itself at \(fetch.url) with status 200, on \(fetch.host) itself.",
                reference: "RFC 8461 §3.3")]
        case 408, 429, 500..<600:
            return fetchFailed("it answered \(status), a temporary condition", "Run the audit again; if it persists, check the web server of \(fetch.host).")
        default:
            return [Finding(
                "mta-sts.policy-http-status", .failure, subject: subject,
                message: "\(fetch.url) answers \(status) instead of 200 with the policy, so senders apply none",
                evidence: evidence, remedy: "Serve the policy at \(fetch.url): \(suggestedPolicyLines(nil, mx: mx))",
                reference: "RFC 8461 §3.3")]
        }
        var findings: [Finding] = []
        let contentType = response.header("content-type")
        let mediaType = contentType.map { String($0.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces).lowercased() }
        if mediaType != "text/plain" {
            findings.append(Finding(
                "mta-sts.content-type", .failure, subject: subject,
                message: "\(fetch.url) is served as \(contentType.map { "\"\($0.terminalSafe)\"" } ?? "no Content-Type") instead of text/plain, so senders that check it ignore the policy",
                evidence: evidence, remedy: "Serve \(fetch.url) with Content-Type: text/plain (a charset parameter may follow).",
                reference: "RFC 8461 §3.2"))
        }
        let policyEvidence = evidence + bodyLines(response.body)
        let policy: MTASTSPolicy
        do throws(MTASTSPolicyError) {
            policy = try MTASTSPolicy(parsing: response.body)
        } catch {
            return findings + [Finding(
                "mta-sts.policy-syntax", .failure, subject: subject,
                message: "the MTA-STS policy at \(fetch.url) is invalid: \(error.description.terminalSafe); senders apply no policy",
                evidence: policyEvidence,
                remedy: "Serve a valid policy: \(suggestedPolicyLines(nil, mx: mx)), then publish a new id: \(suggestedRecord(result.domain, now: now))",
                reference: "RFC 8461 §3.2")]
        }
        if findings.isEmpty {
            let days = policy.maxAge / 86_400
            findings.append(Finding(
                "mta-sts.policy", .pass, subject: subject,
                message: "\(fetch.url) serves a valid policy: mode \(policy.mode.rawValue), mx \(policy.mx.isEmpty ? "(none)" : policy.mx.map(\.description).joined(separator: ", ")), max_age \(policy.maxAge) (\(days) day\(days == 1 ? "" : "s"))"
                    + (MTASTSMXRules.coverageSummary(policy, mx: mx).map { "; \($0)" } ?? ""),
                evidence: policyEvidence, reference: "RFC 8461 §3.2",
                facts: ["mode": .text(policy.mode.rawValue), "maxAge": .int(policy.maxAge), "mx": .list(policy.mx.map(\.description))]))
        }
        findings += settingFindings(policy, result: result, mx: mx, now: now, evidence: policyEvidence)
        findings += MTASTSMXRules.findings(policy: policy, mx: mx, fetch: fetch, newRecord: suggestedRecord(result.domain, now: now))
        return findings
    }

    /// Mode, max_age and repeated fields.
    private static func settingFindings(
        _ policy: MTASTSPolicy, result: MTASTSResult, mx: MTASTSMXContext, now: Date, evidence: [String]
    ) -> [Finding] {
        let fetch = result.policy
        let subject = FindingSubject.record(fetch.host)
        let newID = "then publish a new id: \(suggestedRecord(result.domain, now: now))"
        var findings: [Finding] = []
        if !policy.ignoredDuplicates.isEmpty {
            findings.append(Finding(
                "mta-sts.duplicate-field", .warning, subject: subject,
                message: "the policy at \(fetch.url) repeats \(policy.ignoredDuplicates.map(\.key).joined(separator: ", ")); senders use the first and ignore \(policy.ignoredDuplicates.map { "\"\($0.description.terminalSafe)\"" }.joined(separator: ", "))",
                evidence: evidence, remedy: "Write each field once: \(suggestedPolicyLines(policy, mx: mx)), \(newID)", reference: "RFC 8461 §3.2"))
        }
        var enforced = policy
        enforced.mode = .enforce
        switch policy.mode {
        case .testing:
            findings.append(Finding(
                "mta-sts.mode-testing", .warning, subject: subject,
                message: "the MTA-STS policy of \(result.domain) is in testing mode: senders deliver even when TLS fails or the MX host is not listed, and only report it",
                evidence: evidence,
                remedy: "Once TLS-RPT reports show no failures, enforce: \(suggestedPolicyLines(enforced, mx: mx)), \(newID)",
                reference: "RFC 8461 §5"))
        case .none:
            findings.append(Finding(
                "mta-sts.mode-none", .warning, subject: subject,
                message: "the MTA-STS policy of \(result.domain) has mode none: the policy is withdrawn and senders stop applying MTA-STS",
                evidence: evidence,
                remedy: "To keep MTA-STS, serve \(suggestedPolicyLines(enforced, mx: mx)), \(newID). To retire it, keep this policy for max_age seconds, then remove \(recordName(result.domain)) and the policy.",
                reference: "RFC 8461 §5, §8.3"))
        case .enforce:
            break
        }
        if policy.maxAge < shortMaxAge && policy.mode != .none {
            var longer = policy
            longer.maxAge = shortMaxAge
            findings.append(Finding(
                "mta-sts.max-age-short", .warning, subject: subject,
                message: "the policy at \(fetch.url) has max_age \(policy.maxAge), under a week: senders forget it soon, and a downgrade attack at refresh time works sooner",
                evidence: evidence, remedy: "Cache for weeks: \(suggestedPolicyLines(longer, mx: mx)), \(newID)",
                reference: "RFC 8461 §3.2", facts: ["maxAge": .int(policy.maxAge)]))
        }
        return findings
    }

    // MARK: Helpers

    private static func absentFinding(_ result: MTASTSResult, mx: MTASTSMXContext, now: Date) -> Finding {
        var start = MTASTSPolicy(mode: .testing, mx: [], maxAge: shortMaxAge)
        start.mx = mx.hosts.map { MTASTSMXPattern(domain: $0) }
        return Finding(
            "mta-sts.absent", .info, subject: .domain(result.domain),
            message: "\(result.domain) does not publish MTA-STS: no TXT record at \(recordName(result.domain)) and no policy at \(result.policy.url), so senders cannot be told to insist on verified TLS",
            evidence: result.recordAnswer.evidence + fetchEvidence(result.policy),
            remedy: "To deploy it, serve \(suggestedPolicyLines(start, mx: mx)), then publish \(suggestedRecord(result.domain, now: now)); move to mode: enforce once TLS-RPT reports are clean.",
            reference: "RFC 8461 §3")
    }

    /// A 200 response that looks like a policy: worth judging even without a TXT record.
    static func isPolicyServed(_ fetch: MTASTSPolicyFetch) -> Bool {
        guard let body = fetch.okBody else { return false }
        return String(decoding: body, as: UTF8.self).contains("STSv1")
    }

    /// True when some TXT record starts with `v=STSv1`.
    private static func isRecord(_ status: MTASTSRecordStatus) -> Bool {
        switch status {
        case .record, .invalid, .multiple: true
        case .none, .lookupFailed: false
        }
    }

    static func recordName(_ domain: DomainName) -> DomainName { domain.prepending("_mta-sts") }
    static func recordSubject(_ domain: DomainName) -> FindingSubject { .record(recordName(domain)) }

    /// The record to publish, with an id made from the audit's clock (UTC, yyyyMMddHHmmss).
    static func suggestedRecord(_ domain: DomainName, now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        return "\(recordName(domain).fqdn) IN TXT \"v=STSv1; id=\(formatter.string(from: now))\""
    }

    /// A policy to serve, as its lines: `policy` (enforce and a week when nil) with an `mx` line
    /// added for each MX host it does not cover.
    static func suggestedPolicyLines(_ policy: MTASTSPolicy?, mx: MTASTSMXContext) -> String {
        var suggestion = policy ?? MTASTSPolicy(mode: .enforce, mx: [], maxAge: shortMaxAge)
        suggestion.ignoredDuplicates = []
        for host in mx.hosts where !suggestion.covers(host) { suggestion.mx.append(MTASTSMXPattern(domain: host)) }
        var lines = suggestion.lines
        // With no MX host known, the reader fills in their own.
        if suggestion.mx.isEmpty && suggestion.mode != .none { lines.insert("mx: YOUR-MX-HOST", at: 2) }
        return "text/plain with the lines " + lines.map { "\"\($0.terminalSafe)\"" }.joined(separator: ", ")
    }

    /// The request and what came back, for evidence.
    static func fetchEvidence(_ fetch: MTASTSPolicyFetch) -> [String] { fetch.evidence }

    /// The first lines of a body, made safe to print.
    static func bodyLines(_ body: [UInt8]) -> [String] {
        var lines = String(decoding: body, as: UTF8.self)
            .split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        if lines.last?.isEmpty == true { lines.removeLast() }
        let shown = lines.prefix(30).map { "  | " + String($0).terminalSafe }
        return ["body (\(body.count) bytes):"] + shown + (lines.count > 30 ? ["  … \(lines.count - 30) more lines"] : [])
    }
}
