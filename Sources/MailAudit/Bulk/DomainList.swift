public import MailAuditCore

/// One line of a domains file, read: a domain, or why the line is not one.
public enum DomainLine: Hashable, Sendable {
    case domain(DomainName, line: Int)
    case bad(BadDomainLine)
    /// A blank line or a `#` comment.
    case skip
}

/// A line of a domains file that is no domain name: reported with its number, then skipped.
public struct BadDomainLine: Hashable, Sendable, Codable, CustomStringConvertible {
    public var line: Int
    public var text: String
    public var reason: String

    public var description: String { "line \(line): \"\(text)\": \(reason)".terminalSafe }
}

/// Reading domain lists: one domain a line; `#` starts a comment; blank lines are skipped.
public enum DomainList {
    /// The longest line kept as evidence of a bad line.
    static let excerptLength = 120

    public static func parse(_ text: Substring, line: Int) -> DomainLine {
        let content = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = String(content.drop { $0.isWhitespace || $0 == "\u{FEFF}" }.reversed().drop { $0.isWhitespace }.reversed())
        guard !trimmed.isEmpty else { return .skip }
        do throws(DomainNameError) {
            return .domain(try DomainName(parsing: trimmed), line: line)
        } catch {
            let excerpt = trimmed.count > excerptLength ? String(trimmed.prefix(excerptLength)) + "…" : trimmed
            return .bad(BadDomainLine(line: line, text: excerpt, reason: "\(error)"))
        }
    }

    /// A stable shard of `domain` among `count` (FNV-1a over the lower-case name): the same
    /// domain always lands in the same shard, on every machine and every run.
    public static func shard(of domain: DomainName, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in domain.description.lowercased().utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(max(1, count)))
    }
}
