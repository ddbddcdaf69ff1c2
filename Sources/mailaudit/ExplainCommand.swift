import ArgumentParser
import Foundation
import MailAudit
import MailAuditCore
import MailAuditRecords

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain an SMTP reply: a code (535), an enhanced code (5.7.8), a whole reply, or a Postfix or Exim log line.",
        discussion: """
            Prints the meaning, whether the failure is permanent or transient, the likely causes, what to check and the \
            standard. With no text (or -), reads standard input. Exit codes: 0 explained; 2 the text holds no SMTP reply code.
            """)

    @Argument(help: "The reply or log line; quoting is optional.")
    var text: [String] = []

    @Option(help: "Output format: text or json.")
    var format: OutputFormat = .text

    func run() throws {
        var input = text.joined(separator: " ")
        if input.isEmpty || input == "-" {
            input = String(decoding: FileHandle.standardInput.readData(ofLength: 65_536), as: UTF8.self)
        }
        let query: SMTPExplainQuery
        do { query = try SMTPExplainQuery(parsing: input) } catch {
            FileHandle.standardError.write(Data("mailaudit explain: \(error.description.terminalSafe)\n".utf8))
            throw ExitCode(2)
        }
        switch format {
        case .json: print(ExplainRenderer.json(query))
        case .text: print(ExplainRenderer.text(query), terminator: "")
        }
    }
}
