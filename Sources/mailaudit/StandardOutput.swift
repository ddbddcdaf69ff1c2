import ArgumentParser
import Foundation

/// Standard output whose write errors are noticed. Reports go through C's `stdout` (Swift's
/// `print` writes there too); a full disk (`> /dev/full`, ENOSPC), a closed pipe with SIGPIPE
/// ignored (EPIPE) or an I/O error must not end in exit 0 with a report nobody got.
enum StandardOutput {
    /// The exit code when the output could not be written (README, "Exit codes").
    static let writeFailedExitCode: Int32 = 5

    /// C's `stdout`. Swift 6 refuses to read the C global (shared mutable state), so its address
    /// is looked up once; the FILE it points at locks itself, and `print` writes to it too.
    private static let stream: Stream = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "stdout"),
              let file = symbol.assumingMemoryBound(to: UnsafeMutablePointer<FILE>?.self).pointee
        else { return Stream(file: nil) }
        return Stream(file: file)
    }()

    private struct Stream: @unchecked Sendable {
        var file: UnsafeMutablePointer<FILE>?
    }

    /// Writes `text` and flushes it at once: for output that streams (`--format jsonl|csv`),
    /// so a failure stops the run at the first line that cannot be written.
    static func write(_ text: String) {
        guard let file = stream.file else { return print(text, terminator: "") }
        // A line longer than the buffer is written at once, and its error is known only here.
        if fputs(text, file) == EOF { fail(errno) }
        flush()
    }

    /// Flushes standard output; when that or any earlier write failed, says so on standard error
    /// and exits with ``writeFailedExitCode``.
    static func flush() {
        // Without the FILE, fflush(NULL) flushes every stream, stdout among them.
        let flushFailed = fflush(stream.file) != 0
        let code = errno
        guard flushFailed || stream.file.map({ ferror($0) != 0 }) == true else { return }
        fail(flushFailed ? code : nil)
    }

    private static func fail(_ code: Int32?) -> Never {
        let reason = code.map { String(cString: strerror($0)) } ?? "a write failed (a full disk, a closed pipe or an I/O error)"
        FileHandle.standardError.write(Data("mailaudit: cannot write to standard output: \(reason)\n".utf8))
        // _exit: exit() would flush stdout once more, into the same error.
        _exit(writeFailedExitCode)
    }
}

/// `mailaudit help TOPIC…`: ArgumentParser shows the root help, with exit 0, for a topic that
/// names no command; a typo should not look like an answer.
enum HelpTopics {
    /// The message for `help` followed by a name that is no (sub)command, or nil.
    static func unknownTopic(in arguments: [String]) -> String? {
        guard arguments.first == "help" else { return nil }
        var commands: [any ParsableCommand.Type] = MailAuditCommand.configuration.subcommands
        var path = "mailaudit"
        for name in arguments.dropFirst() where !name.hasPrefix("-") {
            guard let command = find(name, in: commands) else {
                let known = commands.map { names(of: $0)[0] }.joined(separator: ", ")
                return "mailaudit help: \"\(name)\" is not a command of \(path)" + (known.isEmpty ? "" : " (\(known))")
            }
            path += " " + name
            commands = command.configuration.subcommands
        }
        return nil
    }

    private static func find(_ name: String, in commands: [any ParsableCommand.Type]) -> (any ParsableCommand.Type)? {
        for command in commands where names(of: command).contains(name) { return command }
        return nil
    }

    /// The command's name, then its aliases.
    private static func names(of command: any ParsableCommand.Type) -> [String] {
        let configuration = command.configuration
        return [configuration.commandName ?? command._commandName] + configuration.aliases
    }
}
