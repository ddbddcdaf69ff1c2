import Foundation
import MailAudit
import MailAuditFixtures
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
