import ArgumentParser
import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS

/// The streamed audit: `--format jsonl` or `csv`, domains from the command line and
/// `--domains-file`, each written as soon as it is done.
extension AuditCommand {
    func stream(options: AuditOptions, nameservers: [Nameserver]) async throws {
        let resolver = dns.resolver(nameservers, validating: options.trustAnchors != nil)
        let auditor = Auditor(resolver: resolver, options: options)
        let output = LineOutput()
        if format == .csv { output.write(CSVRenderer.header) }
        let progress = Progress(total: try countLines())
        let started = ContinuousClock.now
        let format = self.format
        let file = domainsFile
        let shard = self.shard.flatMap(Self.parseShard)
        let lines = DomainInputs(arguments: domains, file: file).filter { line in
            guard case .domain(let domain, _) = line, let shard else { return true }
            return DomainList.shard(of: domain, count: shard.count) == shard.index
        }
        let summary = await StreamingAudit(auditor: auditor, concurrency: concurrency).run(lines, onReport: { report in
            output.write(format == .csv ? CSVRenderer.row(report) : JSONLRenderer.line(report))
            progress.done(report)
        }, onBadLine: { bad in
            let message = "mailaudit: \(file ?? "arguments"):\(bad.line): \"\(bad.text)\": \(bad.reason)".terminalSafe
            FileHandle.standardError.write(Data((message + "\n").utf8))
        })
        progress.finish()
        let code: Int32 = summary.domains > 0 && summary.unanswered == summary.domains ? 3
            : summary.counts.failure > 0 || (threshold <= .warning && summary.counts.warning > 0)
                || (threshold == .inconclusive && summary.counts.inconclusive > 0) ? 1 : 0
        if format == .jsonl {
            let statistics = await resolver.statistics()
            output.write(JSONLRenderer.summary(summary, exitCode: code, duration: .now - started, dns: statistics))
        }
        if code == 3 {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver answered (\(nameservers.map(\.description).joined(separator: ", ")))\n".utf8))
        }
        if code != 0 { throw ExitCode(code) }
    }

    /// Every domain of a file, for the whole-report formats.
    func readAll(_ path: String) async throws -> [DomainName] {
        var names: [DomainName] = []
        for await line in DomainInputs(arguments: [], file: path) {
            switch line {
            case .domain(let name, _): names.append(name)
            case .bad(let bad): FileHandle.standardError.write(Data(("mailaudit: \(path):\(bad.line): \"\(bad.text)\": \(bad.reason)".terminalSafe + "\n").utf8))
            case .skip: break
            }
        }
        return names
    }

    func inShard(_ domain: DomainName) -> Bool {
        guard let shard = shard.flatMap(Self.parseShard) else { return true }
        return DomainList.shard(of: domain, count: shard.count) == shard.index
    }

    /// The number of lines of a regular domains file, for the progress line; nil for a pipe.
    func countLines() throws -> Int? {
        guard isatty(STDERR_FILENO) == 1, let domainsFile, domainsFile != "-",
              let handle = FileHandle(forReadingAtPath: domainsFile) else { return nil }
        defer { try? handle.close() }
        var count = domains.count
        while let data = try? handle.read(upToCount: 1 << 20), !data.isEmpty { count += data.reduce(0) { $1 == 10 ? $0 + 1 : $0 } }
        return count
    }

    static func parseChecks(_ text: String) -> Result<Set<AuditCheck>, CheckListError> {
        var selected = Set<AuditCheck>()
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !word.isEmpty {
            guard let check = AuditCheck(rawValue: word) else {
                return .failure(CheckListError(description: "--checks: \"\(word.terminalSafe)\" is not a check (\(AuditCheck.names))"))
            }
            selected.insert(check)
        }
        return selected.isEmpty ? .failure(CheckListError(description: "--checks names no check")) : .success(selected)
    }

    static func parseShard(_ text: String) -> (index: Int, count: Int)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), (1...100_000).contains(count),
              (0..<count).contains(index) else { return nil }
        return (index, count)
    }
}

struct CheckListError: Error, CustomStringConvertible { var description: String }

/// The command line's domains, then the file's lines.
struct DomainInputs: AsyncSequence, Sendable {
    typealias Element = DomainLine
    let arguments: [String]
    let file: String?

    func makeAsyncIterator() -> Iterator {
        let handle: FileHandle? = switch file {
        case "-": FileHandle.standardInput
        case let path?: FileHandle(forReadingAtPath: path)
        case nil: nil
        }
        return Iterator(arguments: arguments, lines: handle.map { DomainLineReader($0).makeAsyncIterator() })
    }

    struct Iterator: AsyncIteratorProtocol {
        var arguments: [String]
        var index = 0
        var lines: DomainLineReader.Iterator?

        mutating func next() async -> DomainLine? {
            if index < arguments.count {
                index += 1
                return DomainList.parse(Substring(arguments[index - 1]), line: index)
            }
            return await lines?.next()
        }
    }
}

/// Standard output, one whole line at a time, from whichever task finishes.
final class LineOutput: Sendable {
    private let lock = Locked(())
    func write(_ line: String) {
        // Flushed line by line; a line that cannot be written ends the run with exit 5.
        lock.withLock { _ in StandardOutput.write(line + "\n") }
    }
}

/// The progress line on standard error, on a terminal only: done/total, rate, ETA, counts.
final class Progress: Sendable {
    private struct State {
        var done = 0
        var failures = 0
        var warnings = 0
        var lastDraw = ContinuousClock.now
    }

    private let total: Int?
    private let started = ContinuousClock.now
    private let enabled = isatty(STDERR_FILENO) == 1
    private let state = Locked(State())

    init(total: Int?) { self.total = total }

    func done(_ report: DomainReport) {
        guard enabled else { return }
        let line: String? = state.withLock { state in
            state.done += 1
            state.failures += report.counts.failure
            state.warnings += report.counts.warning
            guard ContinuousClock.now - state.lastDraw > .milliseconds(200) else { return nil }
            state.lastDraw = .now
            return render(state)
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data((state.withLock { render($0) } + "\n").utf8))
    }

    private func render(_ state: State) -> String {
        let elapsed = ContinuousClock.now - started
        let seconds = elapsed.inSeconds
        let rate = seconds > 0 ? Double(state.done) / seconds : 0
        var text = "\r\u{1B}[2K\(state.done)"
        if let total {
            text += "/\(total)"
            if rate > 0 { text += " · ETA \(Int(Double(max(0, total - state.done)) / rate)) s" }
        }
        return text + " · \(String(format: "%.0f", rate)) domains/s · \(state.failures) failures, \(state.warnings) warnings"
    }
}
