import ArgumentParser
import Foundation
import MailAudit

/// ArgumentParser reports usage errors with EX_USAGE (64); mailaudit's contract says 2.
@main
enum Main {
    static func main() async {
        do {
            var command = try MailAuditCommand.parseAsRoot()
            if var async = command as? any AsyncParsableCommand {
                try await async.run()
            } else {
                try command.run()
            }
        } catch {
            let code = MailAuditCommand.exitCode(for: error)
            if code == .success {
                MailAuditCommand.exit(withError: error)
            }
            let message = MailAuditCommand.fullMessage(for: error)
            // Usage errors quote the arguments, which may hold anything: each line is made safe.
            if !message.isEmpty { FileHandle.standardError.write(Data((message.terminalSafeLines + "\n").utf8)) }
            exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}
