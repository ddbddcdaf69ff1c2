#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The parts of a resolv.conf(5) file that mailaudit uses: nameservers and the
/// `timeout:` and `attempts:` options.
///
/// ```
/// nameserver 127.0.0.1
/// nameserver ::1
/// options timeout:1 attempts:2
/// ```
public struct ResolvConf: Hashable, Sendable {
    /// The nameservers in file order (resolv.conf(5) uses at most three; all are kept).
    public var nameservers: [Nameserver]
    /// `options timeout:N`, in seconds, if given.
    public var timeout: Duration?
    /// `options attempts:N`, if given.
    public var attempts: Int?
    /// `nameserver` lines whose address could not be used (host names, zone ids), as written.
    public var skipped: [String]

    /// Parses resolv.conf text. Comments start with `#` or `;`; unknown keywords are ignored.
    ///
    /// - Throws: ``ResolvConfError/noNameserver(skipped:)`` when no usable `nameserver` line is present.
    public init(parsing text: String) throws(ResolvConfError) {
        nameservers = []
        skipped = []
        for rawLine in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.prefix { $0 != "#" && $0 != ";" }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first else { continue }
            switch keyword {
            case "nameserver":
                guard words.count >= 2 else { continue }
                if let server = try? Nameserver(parsing: String(words[1])) {
                    nameservers.append(server)
                } else {
                    skipped.append(String(words[1]))
                }
            case "options":
                for option in words.dropFirst() {
                    if option.hasPrefix("timeout:"), let seconds = Int(option.dropFirst(8)), seconds > 0 {
                        timeout = .seconds(seconds)
                    } else if option.hasPrefix("attempts:"), let count = Int(option.dropFirst(9)), count > 0 {
                        attempts = count
                    }
                }
            default:
                continue
            }
        }
        if nameservers.isEmpty { throw .noNameserver(skipped: skipped) }
    }

    /// Reads and parses a resolv.conf file.
    ///
    /// - Throws: ``ResolvConfError/unreadable(path:)`` or ``ResolvConfError/noNameserver(skipped:)``.
    public static func load(path: String = "/etc/resolv.conf") throws(ResolvConfError) -> ResolvConf {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path) }
        return try ResolvConf(parsing: String(decoding: data, as: UTF8.self))
    }

    /// The system's nameservers from /etc/resolv.conf.
    public static func system() throws(ResolvConfError) -> [Nameserver] {
        try load().nameservers
    }
}

/// Why resolv.conf gave no nameserver.
public enum ResolvConfError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(path: String)
    case noNameserver(skipped: [String])

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path)"
        case .noNameserver(let skipped) where skipped.isEmpty:
            "resolv.conf has no nameserver line; pass a nameserver such as 127.0.0.1 explicitly"
        case .noNameserver(let skipped):
            "resolv.conf has no usable nameserver (not IP literals: \(skipped.joined(separator: ", "))); "
                + "pass a nameserver such as 127.0.0.1 explicitly"
        }
    }
}
