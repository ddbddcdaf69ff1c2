import Foundation

/// Why the run history could not do what was asked. Each description is one line for the CLI,
/// and none ever holds a password: URLs are shown with `***` in its place and every message
/// from a server or library is scrubbed of it (see ``Redaction``).
public enum HistoryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The store could not be opened or reached: the path or the redacted URL, and why.
    /// Example: `/var/lib/mailaudit/history.db: the directory /var/lib/mailaudit does not exist`.
    case cannotOpen(String)
    /// Another run holds the run lock; `holder` says who and since when, as far as known.
    /// Example: `pid 4242 on host mx-audit-1 since 2025-03-01T04:00:00Z`.
    case locked(holder: String)
    /// The schema could not be created or upgraded, is missing, or is newer than this program.
    case migration(String)
    /// A read or a write failed, or the run given to `save` is not storable.
    case storage(String)
    /// Something asked for by name does not exist. The stores return nil for an unknown run;
    /// this case is for callers that must turn that nil into an error (`mailaudit history show ID`).
    case notFound(String)

    public var description: String {
        switch self {
        case .cannotOpen(let reason): "cannot open the run history: \(reason)"
        case .locked(let holder): "another run holds the run-history lock: \(holder)"
        case .migration(let reason): "run-history schema: \(reason)"
        case .storage(let reason): "run history: \(reason)"
        case .notFound(let what): "run history: \(what) not found"
        }
    }
}

/// Keeps passwords out of messages.
enum Redaction {
    /// `text` with every occurrence of each non-empty secret replaced by `***`.
    static func scrub(_ text: String, secrets: [String?]) -> String {
        var text = text
        for case let secret? in secrets where !secret.isEmpty {
            text = text.replacingOccurrences(of: secret, with: "***")
            // A URL may carry it percent-encoded.
            if let encoded = secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics), encoded != secret {
                text = text.replacingOccurrences(of: encoded, with: "***")
            }
        }
        return text
    }

    /// A connection URL as text that may be shown: the password in its user info, if any,
    /// becomes `***`. Works on text that does not parse as a URL, too: everything between the
    /// user name's `:` and the last `@` before the path is hidden.
    ///
    /// `postgres://audit:s3cret@db.example:5432/history` → `postgres://audit:***@db.example:5432/history`
    static func url(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else {
            // Not a URL: it may still hold "user:password@host"; hide all before the last "@".
            guard let at = text.lastIndex(of: "@") else { return text }
            return "***" + text[at...]
        }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<schemeEnd.upperBound]) + userInfo[..<colon] + ":***" + rest[at...]
    }
}
