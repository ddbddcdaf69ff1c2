import ArgumentParser
import Foundation
import MailAudit

/// ArgumentParser reports usage errors with EX_USAGE (64); mailaudit's contract says 2.
@main
enum Main {
    static func main() async {
        if let unknown = HelpTopics.unknownTopic(in: Array(CommandLine.arguments.dropFirst())) {
            FileHandle.standardError.write(Data((unknown.terminalSafe + "\nSee 'mailaudit --help'.\n").utf8))
            exit(2)
        }
        do {
            var command = try MailAuditCommand.parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
            StandardOutput.flush()
        } catch {
            // Whatever the outcome, a report that could not be written wins: exit 5.
            StandardOutput.flush()
            let code = MailAuditCommand.exitCode(for: error)
            if code == .success {
                // --help and --version: printed here, so a failed write is noticed too.
                print(MailAuditCommand.fullMessage(for: error))
                StandardOutput.flush()
                exit(0)
            }
            let message = MailAuditCommand.fullMessage(for: error)
            // Usage errors quote the arguments, which may hold anything: each line is made safe.
            if !message.isEmpty { FileHandle.standardError.write(Data((message.terminalSafeLines + "\n").utf8)) }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
