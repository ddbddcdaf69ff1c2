import Foundation
import MailAuditCore
@testable import MailAuditTesting

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An `openssl s_server` on 127.0.0.1 serving one test certificate and the chain that goes
/// with it, for TLS client tests. It binds port 0 itself and reports the port it got; it
/// serves connections one after another.
///
/// `coreutils timeout` ends it after five minutes should the test process die before `stop()`.
final class OpenSSLServer {
    /// Where the server listens, to hand to other tasks.
    struct Endpoint: Sendable {
        var address: IPAddress
        var port: UInt16
    }

    let address = IPAddress.v4([127, 0, 0, 1])
    let port: UInt16
    var endpoint: Endpoint { Endpoint(address: address, port: port) }
    private let process: Process
    private let directory: URL
    /// Held open so that the server never reads end-of-file on its standard input (which
    /// would make it shut down).
    private let input: Pipe

    private init(process: Process, port: UInt16, directory: URL, input: Pipe) {
        self.process = process
        self.port = port
        self.directory = directory
        self.input = input
    }

    deinit { stop() }

    /// Starts a server for `certificate`, sending the leaf and then the rest of its chain file.
    ///
    /// - Parameter options: extra `s_server` options, for example `["-tls1"]` for a server
    ///   that speaks TLS 1.0 only.
    static func start(_ certificate: TestCA.Certificate, openssl: URL, options: [String] = []) async throws -> OpenSSLServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-s_server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let process = Process()
        do {
            return try await launch(process, certificate, openssl: openssl, options: options, directory: directory)
        } catch {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    private static func launch(
        _ process: Process, _ certificate: TestCA.Certificate, openssl: URL, options: [String], directory: URL
    ) async throws -> OpenSSLServer {
        var arguments = ["300", openssl.path, "s_server", "-accept", "127.0.0.1:0", "-cert", certificate.certificateFile.path,
                         "-key", certificate.chainFile.path]
        let extra = try extraCertificates(in: certificate.chainFile)
        if !extra.isEmpty {
            let chain = directory.appendingPathComponent("chain.pem")
            try Data(extra.joined().utf8).write(to: chain)
            arguments += ["-cert_chain", chain.path]
        }
        let output = directory.appendingPathComponent("stdout")
        let errors = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let input = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments = arguments + options
        process.standardInput = input
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try await launchWithDefaultSignalMask(process)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, process.isRunning {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ACCEPT 127.0.0.1:") }),
               let port = UInt16(line.dropFirst("ACCEPT 127.0.0.1:".count)) {
                return OpenSSLServer(process: process, port: port, directory: directory, input: input)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let log = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        throw HarnessError.launchFailed(path: openssl.path, reason: "s_server did not report its port\n\(log)")
    }

    /// Stops the server and deletes its files. Safe to call more than once.
    func stop() {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The PEM certificates of a chain file after the first (the leaf): what the server sends
    /// besides its own certificate.
    static func extraCertificates(in chainFile: URL) throws -> [String] {
        Array(try pemCertificates(in: chainFile).dropFirst())
    }

    /// Every "CERTIFICATE" PEM block of a file, in order, each with its BEGIN and END lines.
    static func pemCertificates(in file: URL) throws -> [String] {
        let text = try String(contentsOf: file, encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "-----BEGIN CERTIFICATE-----" { current = [] }
            current?.append(line)
            if line == "-----END CERTIFICATE-----", let lines = current {
                blocks.append(lines.joined(separator: "\n") + "\n")
                current = nil
            }
        }
        return blocks
    }
}
