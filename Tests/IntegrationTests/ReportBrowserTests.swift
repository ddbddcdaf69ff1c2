import Foundation
import MailAudit
import MailAuditCore
import MailAuditTesting
import Testing

extension Tag {
    /// Tests that render HTML in a headless Chromium.
    @Tag static var browser: Self
}

/// The report mail's HTML in a real browser engine: it renders at a desktop and a phone width,
/// and loading it asks the network for nothing. Chromium runs offline: every host name maps
/// to NOTFOUND, so a request would fail, but the net log still records that it was made.
///
/// `MAILAUDIT_WRITE_REPORT_EXAMPLE=1 swift test --filter ReportBrowser` also copies the wide
/// screenshot to docs/report-example.png.
@Suite(.serialized, .tags(.browser))
struct ReportBrowserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A desktop mail client's width (tall enough for the whole sample report), and a phone's.
    @Test(arguments: [(720, 1800), (375, 1600)])
    func rendersWithoutAnyNetworkRequest(width: Int, height: Int) async throws {
        let shot = try await Chromium.screenshot(RunHTMLRenderer.render(RunReportSample.report()), width: width, height: height)
        #expect(shot.result.exitCode == 0 && !shot.result.timedOut, "\(shot.result)")
        let size = try #require(Chromium.pngSize(shot.png), "not a PNG: \(shot.png.count) bytes")
        #expect(size.width == width)
        #expect(size.height == height)
        // A blank or near-blank page compresses to a few kilobytes; the report is text and badges.
        #expect(shot.png.count > 30_000, "\(shot.png.count) bytes")
        let requests = try Chromium.pageRequests(netLog: shot.netLog)
        #expect(requests.filter { !Chromium.localSchemes.contains(Chromium.scheme($0)) } == [])

        if width == 720, ProcessInfo.processInfo.environment["MAILAUDIT_WRITE_REPORT_EXAMPLE"] == "1" {
            try shot.png.write(to: Self.root.appendingPathComponent("docs/report-example.png"))
        }
    }

    /// The detector is not vacuous: a page that does load remote things shows them in the net log.
    @Test func netLogCatchesARemoteImageAndStylesheet() async throws {
        let page = #"<!DOCTYPE html><html><head><link rel="stylesheet" href="https://canary.invalid/s.css"></head>"#
            + #"<body><p>canary</p><img src="http://canary.invalid/x.png"></body></html>"#
        let shot = try await Chromium.screenshot(page, width: 400, height: 300)
        #expect(shot.result.exitCode == 0, "\(shot.result)")
        let requests = try Chromium.pageRequests(netLog: shot.netLog)
        #expect(requests.contains("http://canary.invalid/x.png"), "\(requests)")
        #expect(requests.contains("https://canary.invalid/s.css"), "\(requests)")
    }
}

/// A headless Chromium with a throwaway home and profile.
enum Chromium {
    static let executable: URL? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }.map { URL(fileURLWithPath: $0) }

    /// Schemes a page may load from without touching the network.
    static let localSchemes: Set<String> = ["file", "data", "chrome", "about", "blob"]

    struct Shot {
        var result: ProcessResult
        var png: Data
        var netLog: Data
    }

    /// Renders `html` from a file: URL and returns the screenshot and the net log.
    static func screenshot(_ html: String, width: Int, height: Int) async throws -> Shot {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-browser-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("home"), withIntermediateDirectories: true)
        let page = directory.appendingPathComponent("report.html")
        let png = directory.appendingPathComponent("shot.png")
        let netLog = directory.appendingPathComponent("net-log.json")
        try Data(html.utf8).write(to: page)
        let result = try await runProcess(try #require(executable), [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-device-scale-factor=1",
            "--window-size=\(width),\(height)", "--screenshot=\(png.path)", "--log-net-log=\(netLog.path)",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=\(directory.appendingPathComponent("profile").path)",
            "--no-first-run", "--no-default-browser-check", "--disable-component-update", "--disable-sync",
            page.absoluteString,
        ], environment: ["HOME": directory.appendingPathComponent("home").path], timeout: .seconds(90))
        return Shot(result: result, png: (try? Data(contentsOf: png)) ?? Data(), netLog: (try? Data(contentsOf: netLog)) ?? Data())
    }

    /// The width and height in a PNG's IHDR chunk, or nil when `data` is not a PNG.
    static func pngSize(_ data: Data) -> (width: Int, height: Int)? {
        let bytes = [UInt8](data.prefix(24))
        guard bytes.count == 24, bytes[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              bytes[12..<16] == [0x49, 0x48, 0x44, 0x52] /* IHDR */ else { return nil }
        let number = { (start: Int) in bytes[start..<start + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (number(16), number(20))
    }

    /// The URLs of the requests a page made, from Chromium's JSON net log.
    ///
    /// The browser makes requests of its own (update checks, network time, account lists) even
    /// with background networking off; those have no initiating origin ("not an origin") and are
    /// not isolated under the page's file: site. Every other URL request counts as the page's.
    static func pageRequests(netLog: Data) throws -> [String] {
        let log = try #require(try JSONSerialization.jsonObject(with: netLog) as? [String: Any], "no net log")
        let constants = try #require(log["constants"] as? [String: Any])
        let types = try #require(constants["logEventTypes"] as? [String: Int])
        let startJob = try #require(types["URL_REQUEST_START_JOB"])
        let events = try #require(log["events"] as? [[String: Any]])
        var urls: [String] = []
        for event in events where event["type"] as? Int == startJob {
            guard let params = event["params"] as? [String: Any], let url = params["url"] as? String else { continue }
            let initiator = params["initiator"] as? String ?? ""
            let isolation = (params["network_isolation_key"] as? String ?? "") + (params["site_for_cookies"] as? String ?? "")
            if initiator == "not an origin" && !isolation.contains("file://") { continue }
            if !urls.contains(url) { urls.append(url) }
        }
        return urls
    }

    static func scheme(_ url: String) -> String { String(url.prefix { $0 != ":" }).lowercased() }
}

// MARK: The sample run (the same as in MailAuditTests/Render/RunHTMLRendererTests.swift)

/// A run over two domains with every kind of change, hostile server text, passing checks whose
/// messages must not show, and a fixed clock. A copy of the builder in MailAuditTests/Render/RunHTMLRendererTests.swift.
enum RunReportSample {
    static let script = "<script>alert(1)</script>"
    static let attribute = #""><img src=x onerror=alert(2)>"#
    static let passMarker = "PASS-MARKER"
    static let infoMarker = "INFO-MARKER"
    /// 2025-03-14 06:00:00 UTC.
    static let startedAt = Date(timeIntervalSince1970: 1_741_932_000)

    static func report(withChanges: Bool = true) -> RunReport {
        let com = "example.com", org = "example.org"
        let mx1 = FindingSubject(domain: com, host: "mx1.example.com", address: "192.0.2.25")
        let orgMX = FindingSubject(domain: org, host: "mx.example.org")
        let comNow = [
            Finding("spf.too-many-lookups", .failure, subject: .init(domain: com),
                    message: "The SPF record needs 11 DNS lookups; at most 10 are allowed",
                    evidence: ["v=spf1 include:_spf-eu-west-1.outbound-relay.mail-provider-with-a-long-name.example.net include:_spf.crm.example include:spf.helpdesk.example mx a ~all"],
                    remedy: "Flatten or remove includes until at most 10 lookups remain", reference: "RFC 7208 §4.6.4",
                    facts: ["lookups": .int(11)]),
            Finding("dmarc.policy-none", .warning, subject: .init(domain: com), message: "The DMARC policy is p=none: failing mail is delivered",
                    remedy: "Publish 'v=DMARC1; p=quarantine' & wait a week", reference: "RFC 7489 §6.3", facts: ["p": .text("none")]),
            Finding("smtp.greeting-name-differs", .warning, subject: mx1,
                    message: "The greeting names \(script)\u{1B}[31m\u{202E} instead of mx1.example.com",
                    evidence: ["220 \(script) ESMTP"], remedy: "Set the server's host name to mx1.example.com", reference: "RFC 5321 §4.3.1"),
            Finding("mx.present", .pass, subject: .init(domain: com), message: "\(passMarker): 1 MX host"),
            Finding("rdns.fcrdns", .pass, subject: mx1, message: "\(passMarker): 192.0.2.25 points back to mx1.example.com"),
            Finding("spf.record", .info, subject: .init(domain: com), message: "\(infoMarker): v=spf1 include:… ~all"),
        ]
        let comBefore = [
            Finding("spf.lookups-near-limit", .warning, subject: .init(domain: com), message: "The SPF record needs 9 DNS lookups",
                    facts: ["lookups": .int(9)]),
            Finding("dmarc.policy-none", .info, subject: .init(domain: com), message: "The DMARC policy is p=none", facts: ["p": .text("none")]),
            comNow[3], comNow[4], comNow[5],
        ]
        let fingerprint = "DD:EE:FF:" + (0..<29).map { String(format: "%02X", $0 * 7 % 256) }.joined(separator: ":")
        let orgNow = [
            Finding("mx.target-unresolvable", .failure, subject: FindingSubject(domain: org, host: attribute),
                    message: "The MX host \(attribute) has no address", evidence: ["example.org. MX 10 \(attribute)"],
                    remedy: "Point the MX record at a host name with an A or AAAA record", reference: "RFC 5321 §5.1"),
            Finding("smtp.certificate-expiring", .warning, subject: orgMX, message: "The certificate of mx.example.org expires in 12 days",
                    evidence: ["SHA-256 \(fingerprint)"], remedy: "Renew the certificate", reference: "RFC 5280 §4.1.2.5",
                    facts: ["fingerprint": .text("DD:EE:FF"), "notAfter": .date(startedAt + 12 * 86_400)]),
            Finding("dkim.lookup-failed", .inconclusive, subject: FindingSubject(domain: org, selector: "s1"),
                    message: "The DKIM key of selector s1 could not be looked up: the query timed out", reference: "RFC 6376 §3.6.2.2"),
            Finding("mx.present", .pass, subject: .init(domain: org), message: "\(passMarker): 1 MX host"),
        ]
        let orgBefore = [
            Finding("dmarc.no-rua", .warning, subject: .init(domain: org), message: "The DMARC record asks for no aggregate reports"),
            Finding("smtp.certificate-expiring", .warning, subject: orgMX, message: "The certificate of mx.example.org expires in 6 days",
                    facts: ["fingerprint": .text("AA:BB:CC"), "notAfter": .date(startedAt + 5 * 86_400)]),
            orgNow[2], orgNow[3],
        ]
        var changes = RunDiff.changes(from: withChanges ? comBefore : comNow, to: comNow, domain: com)
        if withChanges { changes += RunDiff.changes(from: orgBefore + [orgNow[0]], to: orgNow, domain: org) }
        let audit = AuditReport(
            toolVersion: "1.4.0", startedAt: startedAt, duration: .milliseconds(4_230), resolvers: ["192.0.2.53"],
            domains: [DomainReport(domain: DomainName(labels: ["example", "com"]), findings: comNow),
                      DomainReport(domain: DomainName(labels: ["example", "org"]), findings: orgNow)],
            dns: ResolverStatistics())
        return RunReport(
            runID: "20250314-0600-7f3a", host: "audit1.example.net", audit: audit, changes: changes,
            firstRun: withChanges ? [] : [org],
            previousRuns: withChanges ? [com: "20250313-0600-ab12", org: "20250313-0600-ab12"] : [com: "20250313-0600-ab12"])
    }
}
