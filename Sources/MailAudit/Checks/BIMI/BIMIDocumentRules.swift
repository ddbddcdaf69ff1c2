import Foundation
public import MailAuditCore
import MailAuditRecords
import MailAuditTLS

/// Verdicts on the two documents a BIMI record names: the logo at `l=` (an SVG Tiny PS file) and
/// the evidence at `a=` (a mark certificate in PEM). A document that could not be reached is
/// inconclusive; one the server answers wrongly for is a failure.
public enum BIMIDocumentRules {
    /// The ids of one document's fetch verdicts.
    struct FetchIDs {
        var fetchFailed: FindingID
        var unavailable: FindingID
        var what: String
    }

    static let logoIDs = FetchIDs(fetchFailed: "bimi.logo-fetch-failed", unavailable: "bimi.logo-unavailable", what: "BIMI logo")
    static let evidenceIDs = FetchIDs(fetchFailed: "bimi.evidence-fetch-failed", unavailable: "bimi.evidence-unavailable", what: "BIMI evidence document")

    public static func logoFindings(_ fetch: HTTPSDocumentFetch) -> [Finding] {
        let (failures, response) = fetchFindings(fetch, ids: logoIDs, limit: BIMILookup.logoLimits.bodyBytes)
        guard let response else { return failures }
        let subject = FindingSubject.record(fetch.host)
        let draft = BIMIRules.draft
        var findings: [Finding] = []
        let contentType = response.header("content-type")
        let mediaType = contentType.map { String($0.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces).lowercased() }
        if mediaType != "image/svg+xml" {
            findings.append(Finding(
                "bimi.logo-content-type", .failure, subject: subject,
                message: "\(fetch.url) is served as \(contentType.map { "\"\($0.terminalSafe)\"" } ?? "no Content-Type") instead of image/svg+xml, so receivers that check it refuse the logo",
                evidence: fetch.evidence, remedy: "Serve \(fetch.url) with Content-Type: image/svg+xml.", reference: "\(draft) §4.3.2, RFC 6170 §5.2"))
        }
        let logo: SVGLogo
        do throws(SVGLogoError) {
            logo = try SVGLogo(parsing: response.body)
        } catch .compressed {
            return findings + [Finding(
                "bimi.logo-not-checked", .info, subject: subject,
                message: "\(fetch.url) is gzip-compressed (SVGZ), which mailaudit does not decompress, so its SVG profile was not checked",
                evidence: fetch.evidence, remedy: "Most receivers expect an uncompressed .svg; serving one lets this audit check it too.",
                reference: "\(draft) §4.3.2")]
        } catch {
            return findings + [Finding(
                "bimi.logo-not-svg", .failure, subject: subject,
                message: "\(fetch.url) is not an SVG document: \(error.description.terminalSafe); receivers treat the record as a permanent error",
                evidence: fetch.evidence + bodyLines(response.body),
                remedy: "Serve the logo itself at \(fetch.url): an SVG Tiny PS document under 32 KiB.", reference: "\(draft) §4.3.2")]
        }
        if !logo.problems.isEmpty {
            findings.append(Finding(
                "bimi.logo-not-tiny-ps", .warning, subject: subject,
                message: "the logo at \(fetch.url) is SVG but not SVG Tiny PS, which Gmail, Apple Mail and Yahoo require: \(logo.problems.count) problem\(logo.problems.count == 1 ? "" : "s")",
                evidence: fetch.evidence + logo.problems.map { "  - " + $0.description.terminalSafe },
                remedy: "Convert the logo to SVG Tiny PS: baseProfile=\"tiny-ps\" version=\"1.2\" on the root, a <title> with the brand's name, a square viewBox, and no scripts, animation, raster images or external references.",
                reference: "draft-svg-tiny-ps-abrotman", facts: ["problems": .list(logo.problems.map(\.description))]))
        }
        if findings.isEmpty {
            findings.append(Finding(
                "bimi.logo", .pass, subject: subject,
                message: "\(fetch.url) serves an SVG Tiny PS logo (\(response.body.count) bytes)\(logo.title.map { ", titled \"\($0.terminalSafe)\"" } ?? "")",
                evidence: fetch.evidence, reference: "\(draft) §4.3.2", facts: ["bytes": .int(response.body.count)]))
        }
        return findings
    }

    public static func evidenceFindings(_ fetch: HTTPSDocumentFetch) -> [Finding] {
        let (failures, response) = fetchFindings(fetch, ids: evidenceIDs, limit: BIMILookup.evidenceLimits.bodyBytes)
        guard let response else { return failures }
        let subject = FindingSubject.record(fetch.host)
        let note = "the certificates are not validated as a VMC or CMC here (issuer, mark, logotype and the logo's match are not checked)"
        do throws(PEMError) {
            let pem = try PEMCertificates(parsing: response.body)
            return [Finding(
                "bimi.evidence", .pass, subject: subject,
                message: "\(fetch.url) serves \(pem.count) PEM certificate\(pem.count == 1 ? "" : "s"); \(note)",
                evidence: fetch.evidence + ["note: \(note)"], reference: "\(BIMIRules.draft) §4.3",
                facts: ["certificates": .int(pem.count)])]
        } catch {
            return [Finding(
                "bimi.evidence-not-pem", .failure, subject: subject,
                message: "\(fetch.url) is not a PEM certificate chain: \(error); receivers that check evidence show no logo",
                evidence: fetch.evidence + bodyLines(response.body) + ["note: \(note)"],
                remedy: "Serve the mark certificate and its chain as PEM (-----BEGIN CERTIFICATE----- blocks) at \(fetch.url).",
                reference: "\(BIMIRules.draft) §4.3, RFC 7468 §5")]
        }
    }

    /// The verdicts of a fetch that did not bring a 200 response, or the response.
    static func fetchFindings(_ fetch: HTTPSDocumentFetch, ids: FetchIDs, limit: Int) -> ([Finding], HTTPResponse?) {
        let subject = FindingSubject.record(fetch.host)
        let reference = "\(BIMIRules.draft) §4.3"
        func couldNotFetch(_ why: String, remedy: String) -> ([Finding], HTTPResponse?) {
            ([Finding(ids.fetchFailed, .inconclusive, subject: subject, message: "could not fetch the \(ids.what) at \(fetch.url): \(why)",
                      evidence: fetch.evidence, remedy: remedy, reference: reference)], nil)
        }
        func unavailable(_ why: String, reason: String, remedy: String) -> ([Finding], HTTPResponse?) {
            ([Finding(ids.unavailable, .failure, subject: subject,
                      message: "the \(ids.what) at \(fetch.url) cannot be fetched: \(why), so receivers show no logo",
                      evidence: fetch.evidence, remedy: remedy, reference: reference, facts: ["reason": .text(reason)])], nil)
        }
        let again = "Run the audit again; if it persists, check that \(fetch.host) accepts HTTPS connections from the Internet."
        switch fetch.outcome {
        case .noHost:
            return unavailable("\(fetch.host) has no address", reason: "no-host",
                               remedy: "Publish A or AAAA records for \(fetch.host), or point the record at a host that serves the file.")
        case .hostLookupFailed:
            return couldNotFetch("the address lookups of \(fetch.host) failed", remedy: again)
        case .notPublic(let addresses):
            return couldNotFetch("\(fetch.host) has only non-public addresses (\(addresses.map(\.description).joined(separator: ", ")))",
                                 remedy: "For lab and intranet domains, pass --allow-private-addresses to fetch from such addresses.")
        case .failed(let attempts):
            guard let last = attempts.last else { return couldNotFetch("no address was tried", remedy: again) }
            switch last.error {
            case .tls(.verificationFailed(let error)):
                return unavailable("the certificate of \(fetch.host) [\(last.address)] fails verification (\(error.code.text))", reason: "certificate",
                                   remedy: "Install a certificate from a public CA whose subjectAltName includes \(fetch.host), sent with its intermediates.")
            case .tls(.protocolVersionRefused(let why)), .tls(.handshakeFailed(let why)):
                return unavailable("the TLS handshake with \(fetch.host) [\(last.address)] failed (\(why.terminalSafe))", reason: "tls",
                                   remedy: "Serve \(fetch.url) over TLS 1.2 or 1.3 with a certificate for \(fetch.host).")
            case .response(.bodyTooLarge):
                return unavailable("it is larger than \(limit / 1024) KiB", reason: "too-large",
                                   remedy: "Serve a smaller file: receivers refuse larger ones.")
            case .response(.truncated), .connect, .stream, .tls:
                return couldNotFetch("\(last)".terminalSafe, remedy: again)
            case .response(let error):
                return unavailable("the response is malformed (\(error.description.terminalSafe))", reason: "response",
                                   remedy: "Serve the file with status 200 and a well-formed HTTP response.")
            }
        case .response(let response, _):
            let status = "\(response.status) \(response.reason)".terminalSafe
            switch response.status {
            case 200:
                return ([], response)
            case 300..<400:
                let target = response.header("location").map { " to \($0.terminalSafe)" } ?? ""
                return unavailable("it answers \(status)\(target), and receivers do not follow redirects", reason: "redirect",
                                   remedy: "Serve the file itself at \(fetch.url), or publish the final URL in the record.")
            case 408, 429, 500..<600:
                return couldNotFetch("it answered \(status), a temporary condition", remedy: again)
            default:
                return unavailable("it answers \(status)", reason: "http-status", remedy: "Serve the file at \(fetch.url) with status 200.")
            }
        }
    }

    /// The first lines of a body, made safe to print.
    static func bodyLines(_ body: [UInt8]) -> [String] { MTASTSRules.bodyLines(body) }
}
