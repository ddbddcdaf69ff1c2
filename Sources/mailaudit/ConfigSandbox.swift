import ArgumentParser
import Foundation
import MailAudit

/// Reads a config in a child process before the real read. TOMLKit's bundled toml++ aborts the
/// whole process on some invalid TOML (an assertion, for example on `a = [1, }]`; see
/// docs/fuzzing.md); in a child, that abort becomes a clear message and exit 2.
enum ConfigSandbox {
    /// The hidden command the child runs.
    static let commandName = "__read-config"

    /// A message when reading `path` kills the reader; nil when it reads (well or with errors),
    /// or when no child can be started (the real read then goes ahead).
    static func problem(_ path: String) -> String? {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = [commandName, path]
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        do { try child.run() } catch { return nil }
        let deadline = Date().addingTimeInterval(20)
        while child.isRunning && Date() < deadline { usleep(5_000) }
        if child.isRunning {
            child.terminate()
            return "\(path): reading the file did not finish within 20 seconds; it is not a usable configuration"
        }
        guard child.terminationReason == .uncaughtSignal else { return nil }
        return "\(path): the TOML parser stopped on this file (signal \(child.terminationStatus)): it is not valid TOML; "
            + "check its brackets, braces and quotes, for example a \"}\" inside an array"
    }
}

/// The child side of ``ConfigSandbox``: reads the config and exits 0, whatever it holds.
struct ReadConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ConfigSandbox.commandName, shouldDisplay: false)

    @Argument var file: String

    func run() {
        _ = try? RunConfiguration.load(path: file)
    }
}
