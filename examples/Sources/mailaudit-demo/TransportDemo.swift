import Foundation
import MailAuditTesting

/// DNSSEC validated by mailaudit itself from a trust-anchor file, DANE matched against the
/// certificate Postfix presents, MTA-STS and BIMI fetched from nginx, TLS-RPT: zones signed
/// here with ldns-keygen and ldns-signzone (no key is kept) and served by a second NSD.
///
/// - signed.example.test: signed; TLSA 3 1 1 for its MX; an enforcing MTA-STS policy; TLS-RPT;
///   a BIMI logo behind an enforcing DMARC policy. Everything passes.
/// - weak.signed.example.test: an insecure delegation (no DS): TLSA with no effect, a
///   certificate for another name, and an MTA-STS policy in testing mode that does not cover its MX.
/// - expired.example.test: signatures that expired in 2020: bogus, never "unsigned".
func transportDemo(mailaudit: URL, probing: Bool, ca existing: TestCA?) async throws {
    say("\n=== Transport security: DNSSEC, DANE, MTA-STS, TLS-RPT and BIMI ===")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-demo-transport-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let ownCA = existing == nil ? try await TestCA.create() : nil
    defer { ownCA?.remove() }
    guard let ca = existing ?? ownCA else { return }

    let now = Date()
    let validity = (notBefore: now.addingTimeInterval(-86_400), notAfter: now.addingTimeInterval(90 * 86_400))
    let mx = try await ca.issue(.valid, for: "mx.signed.example.test", validity: validity)
    let stsGood = try await ca.issue(.valid, for: "mta-sts.signed.example.test", validity: validity)
    let stsWeak = try await ca.issue(.valid, for: "mta-sts.weak.signed.example.test", validity: validity)
    let bimi = try await ca.issue(.valid, for: "bimi.signed.example.test", validity: validity)
    let logo = """
        <svg version="1.2" baseProfile="tiny-ps" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">\
        <title>Signed Example</title><rect width="100" height="100" fill="#0a5"/></svg>
        """
    let nginx = NginxServer(sites: [
        .init(serverName: "mta-sts.signed.example.test", address: "127.0.10.6", chainFile: stsGood.chainFile,
              directives: NginxServer.respond(200, body: "version: STSv1\r\nmode: enforce\r\nmx: mx.signed.example.test\r\nmax_age: 604800\r\n")),
        .init(serverName: "mta-sts.weak.signed.example.test", address: "127.0.10.8", chainFile: stsWeak.chainFile,
              directives: NginxServer.respond(200, body: "version: STSv1\r\nmode: testing\r\nmx: mail.elsewhere.example.test\r\nmax_age: 86400\r\n")),
        .init(serverName: "bimi.signed.example.test", address: "127.0.10.7", chainFile: bimi.chainFile,
              directives: NginxServer.respond(200, body: logo, contentType: "image/svg+xml", path: "/logo.svg")),
    ])
    try await nginx.start()
    defer { nginx.stop() }
    let httpsPort = try nginx.requirePort()

    var postfix: PostfixServer?
    var probe = ["--no-probe"]
    if probing {
        let server = PostfixServer(listeners: [.starttls("dane", address: "127.0.10.5", hostName: "mx.signed.example.test", chainFile: mx.chainFile)])
        try await server.start()
        postfix = server
        probe = ["--smtp-port", "\(try server.requirePort())", "--connect-timeout", "2", "--greeting-timeout", "5"]
        say("Postfix listens on 127.0.10.5 as mx.signed.example.test, with a certificate from the test CA.")
    } else {
        say("Not root, so no Postfix: the probe is skipped, and DANE says what it could not match.")
    }
    defer { postfix?.stop() }

    let spki = try await shell("openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256 -r", mx.certificateFile.path)
    let tlsa = String(spki.prefix { $0 != " " }).uppercased()
    let signedZone = """
        $ORIGIN signed.example.test.
        $TTL 300
        @ IN SOA ns.signed.example.test. hostmaster.signed.example.test. 1 3600 600 86400 300
        @ IN NS ns
        ns IN A 127.0.0.1
        @ IN MX 10 mx
        mx IN A 127.0.10.5
        _25._tcp.mx IN TLSA 3 1 1 \(tlsa)
        @ IN TXT "v=spf1 ip4:127.0.10.5 -all"
        _dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@signed.example.test"
        _mta-sts IN TXT "v=STSv1; id=20261201"
        mta-sts IN A 127.0.10.6
        _smtp._tls IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@signed.example.test"
        default._bimi IN TXT "v=BIMI1; l=https://bimi.signed.example.test:\(httpsPort)/logo.svg"
        bimi IN A 127.0.10.7
        weak IN NS ns.weak
        ns.weak IN A 127.0.0.1

        """
    let weakZone = """
        $ORIGIN weak.signed.example.test.
        $TTL 300
        @ IN SOA ns.weak.signed.example.test. hostmaster.weak.signed.example.test. 1 3600 600 86400 300
        @ IN NS ns
        ns IN A 127.0.0.1
        @ IN MX 10 mx
        mx IN A 127.0.10.5
        _25._tcp.mx IN TLSA 3 1 1 \(tlsa)
        _mta-sts IN TXT "v=STSv1; id=1"
        mta-sts IN A 127.0.10.8

        """
    let expiredZone = """
        $ORIGIN expired.example.test.
        $TTL 300
        @ IN SOA ns.expired.example.test. hostmaster.expired.example.test. 1 3600 600 86400 300
        @ IN NS ns
        ns IN A 127.0.0.1
        @ IN MX 10 mx.signed.example.test.

        """
    let (signedFile, signedDS) = try await sign("signed.example.test", signedZone, in: directory)
    let (expiredFile, expiredDS) = try await sign("expired.example.test", expiredZone, in: directory, extra: ["-i", "20190101000000", "-e", "20200101000000"])
    let anchors = directory.appendingPathComponent("trust-anchors.ds")
    try "\(signedDS)\n\(expiredDS)\n".write(to: anchors, atomically: true, encoding: .utf8)
    // The parents, unsigned, so that the DMARC tree walk finds no record there rather than a refusal.
    func parent(_ name: String) -> String {
        "$ORIGIN \(name).\n$TTL 300\n@ IN SOA ns.\(name). hostmaster.\(name). 1 3600 600 86400 300\n@ IN NS ns.\(name).\nns.\(name). IN A 127.0.0.1\n"
    }
    let nsd = NSDServer(zones: [
        .text("test", parent("test")), .text("example.test", parent("example.test")), .file("signed.example.test", signedFile), .file("expired.example.test", expiredFile), .text("weak.signed.example.test", weakZone),
    ])
    try await nsd.start()
    defer { nsd.stop() }
    let resolver = "127.0.0.1:\(try nsd.requirePort())"
    say("A second NSD on \(resolver) serves signed.example.test (signed here), its unsigned child weak.signed.example.test")
    say("(no DS: an insecure delegation) and expired.example.test (signatures that expired in 2020). The trust anchors")
    say("are the two zones' DS records, in \(anchors.lastPathComponent); without --trust-anchor, mailaudit starts from the root key.")
    say("nginx serves the MTA-STS policies and the BIMI logo on port \(httpsPort), with certificates from the test CA.")

    let arguments = ["--resolver", resolver, "--trust-anchor", anchors.path, "--https-port", "\(httpsPort)", "--allow-private-addresses",
                     "--ca-file", ca.rootFile.path, "--checks", "mx,dnssec,dane,mta-sts,tls-rpt,bimi,dmarc,probe"]
        + probe
        + ["signed.example.test", "weak.signed.example.test", "expired.example.test"]
    say("\n$ mailaudit \(arguments.joined(separator: " "))")
    let result = try await runProcess(mailaudit, arguments, environment: ["NO_COLOR": ""], timeout: .seconds(120))
    FileHandle.standardOutput.write(Data(result.stdout.utf8))
    if !result.stderr.isEmpty { say(result.stderr) }
    say("(exit code \(result.exitCode))")
}

/// Signs `zone` with a fresh key-signing and zone-signing key; returns the signed file and the DS.
private func sign(_ origin: String, _ zone: String, in directory: URL, extra: [String] = []) async throws -> (URL, String) {
    let place = directory.appendingPathComponent(origin, isDirectory: true)
    try FileManager.default.createDirectory(at: place, withIntermediateDirectories: true)
    let file = place.appendingPathComponent(origin)
    try zone.write(to: file, atomically: true, encoding: .utf8)
    let keygen = URL(fileURLWithPath: "/usr/bin/ldns-keygen")
    let ksk = try await runProcess(keygen, ["-a", "ECDSAP256SHA256", "-k", origin], currentDirectory: place).stdout
    let zsk = try await runProcess(keygen, ["-a", "ECDSAP256SHA256", origin], currentDirectory: place).stdout
    let kskBase = ksk.trimmingCharacters(in: .whitespacesAndNewlines)
    let signed = try await runProcess(URL(fileURLWithPath: "/usr/bin/ldns-signzone"),
                                      extra + [file.path, zsk.trimmingCharacters(in: .whitespacesAndNewlines), kskBase], currentDirectory: place)
    guard signed.exitCode == 0 else { fail("ldns-signzone: \(signed.stderr)") }
    let ds = try String(contentsOf: place.appendingPathComponent(kskBase + ".ds"), encoding: .utf8)
    return (place.appendingPathComponent(origin + ".signed"), ds.trimmingCharacters(in: .whitespacesAndNewlines))
}

private func shell(_ script: String, _ argument: String) async throws -> String {
    let result = try await runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", script, "sh", argument])
    guard result.exitCode == 0 else { fail("\(script): \(result.stderr)") }
    return result.stdout
}
