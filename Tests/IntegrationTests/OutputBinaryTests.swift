import Foundation
import MailAuditCore
import MailAuditTesting
import Testing

/// The built binary: output that cannot be written, help for no command, durations that would be
/// 0 ms, and the EHLO name on the wire (issue 12, items 6 and 7). No DNS server is needed.
@Suite(.serialized, .tags(.harness))
struct OutputBinaryTests {
    func run(_ arguments: [String]) async throws -> ProcessResult {
        try await runProcess(try builtProductPath("mailaudit"), arguments, timeout: .seconds(60))
    }

    /// Runs the binary with its standard output on /dev/full, where every write fails with ENOSPC.
    func runIntoFullDisk(_ arguments: [String]) async throws -> ProcessResult {
        let shell = URL(fileURLWithPath: "/bin/sh")
        return try await runProcess(shell, ["-c", #"exec "$0" "$@" > /dev/full"#, try builtProductPath("mailaudit").path] + arguments,
                                    timeout: .seconds(60))
    }

    /// A resolver that never answers: nothing listens on port 9 of 127.0.0.1.
    static let silentResolver = ["--resolver", "127.0.0.1:9", "--timeout", "0.2", "--attempts", "1"]

    @Test(arguments: [
        ["explain", "550"], ["explain", "--format", "json", "5.7.1"], ["--version"], ["--help"], ["help", "dkim"],
        ["--no-probe", "--deadline", "5"] + silentResolver + ["example.com"],
        ["--no-probe", "--format", "jsonl", "--deadline", "5"] + silentResolver + ["example.com", "example.org"],
        ["spf", "--ip", "192.0.2.1"] + silentResolver + ["example.com"],
    ])
    func aFullDiskIsAnErrorWithItsOwnExitCode(arguments: [String]) async throws {
        let result = try await runIntoFullDisk(arguments)
        #expect(result.exitCode == 5, "\(result)")
        // The reason is errno's when the failing write is the last one; else stdio only knows that one failed.
        #expect(result.stderr.contains("mailaudit: cannot write to standard output: "), "\(result.stderr)")
    }

    @Test func theSameCommandsExitAsBeforeWhenTheOutputIsWritten() async throws {
        #expect(try await run(["explain", "550"]).exitCode == 0)
        #expect(try await run(["--version"]).exitCode == 0)
        let audit = try await run(["--no-probe", "--deadline", "5"] + Self.silentResolver + ["example.com"])
        #expect(audit.exitCode == 3, "no resolver answered: \(audit)")
    }

    @Test(arguments: [(["help", "nosuch"], "\"nosuch\" is not a command of mailaudit"),
                      (["help", "config", "nosuch"], "\"nosuch\" is not a command of mailaudit config")])
    func helpForNoCommandIsAUsageError(arguments: [String], message: String) async throws {
        let result = try await run(arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let known = try await run(["help", "config", "check"])
        #expect(known.exitCode == 0 && known.stdout.contains("USAGE"), "\(known)")
    }

    @Test(arguments: [
        ["--timeout", "0.0001", "example.com"], ["--deadline", "0.0004", "example.com"], ["--connect-timeout", "0.0001", "example.com"],
        ["--greeting-timeout", "1e-9", "example.com"], ["relay", "smtp.example.com", "--command-timeout", "0.0009"],
        ["relay", "smtp.example.com", "--deadline", "0.0001"], ["check-zone", "/dev/null", "--origin", "example.com", "--deadline", "0.0001"],
    ])
    func durationsUnderOneMillisecondAreRefused(arguments: [String]) async throws {
        let result = try await run(arguments)
        #expect(result.exitCode == 2, "\(result)")
        #expect(result.stderr.contains("between 0.001 (1 ms) and"), "\(result.stderr)")
    }

    @Test func theEHLONameIsSentAsItsALabelWithoutTheTrailingDot() async throws {
        let server = ScriptedSMTPListener(address: "127.0.23.7")
        try await server.start()
        defer { Task { await server.stop() } }
        let port = try server.requirePort()
        let result = try await run(["relay", "127.0.23.7:\(port)", "--security", "none", "--ehlo-name", "Bücher.Example.",
                                    "--connect-timeout", "2", "--greeting-timeout", "2", "--command-timeout", "2", "--deadline", "10"])
        let ehlo = server.commandsReceived.filter { $0.uppercased().hasPrefix("EHLO") || $0.uppercased().hasPrefix("HELO") }
        #expect(ehlo.first == "EHLO xn--bcher-kva.example", "\(ehlo); \(result)")
        #expect(!ehlo.contains { $0.hasSuffix(".") || !$0.allSatisfy(\.isASCII) })
    }
}

extension OutputBinaryTests {
    @Test func aShortReportNamesTheReason() async throws {
        let result = try await runIntoFullDisk(["explain", "550"])
        #expect(result.stderr == "mailaudit: cannot write to standard output: No space left on device\n", "\(result)")
    }
}
