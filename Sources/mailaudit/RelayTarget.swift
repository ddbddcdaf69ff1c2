import ArgumentParser
import Foundation
import MailAudit
import MailAuditConfig
import MailAuditCore

/// The relay as typed: `HOST`, `HOST:PORT`, an address, or `[IPv6]:PORT`.
struct RelayTarget {
    var host: String
    var port: UInt16?

    static func parse(_ text: String) -> Result<RelayTarget, RelayTargetError> {
        let shown = "\"\(text.terminalSafe)\""
        guard !text.isEmpty, text.count <= 300, !text.contains(where: { $0.isWhitespace || $0.isNewline }) else {
            return .failure(RelayTargetError("\(shown) is not a host, HOST:PORT or [IPv6]:PORT"))
        }
        var host = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(RelayTargetError("\(shown): no closing ]")) }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return .failure(RelayTargetError("\(shown): expected :PORT after ]")) }
                portText = String(rest.dropFirst())
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        var port: UInt16?
        if let portText {
            guard let number = UInt16(portText), number > 0 else {
                return .failure(RelayTargetError("\(shown): the port must be a number from 1 to 65535"))
            }
            port = number
        }
        if IPAddress(host) == nil {
            do throws(DomainNameError) { _ = try DomainName(parsing: host) } catch {
                return .failure(RelayTargetError("\(shown) is not a host name or address: \(error)"))
            }
        }
        return .success(RelayTarget(host: host, port: port))
    }

    /// A plain `local@domain` (or `<>` / empty for the null sender when allowed), without
    /// characters that would break the SMTP command line.
    static func isMailbox(_ text: String, allowEmpty: Bool) -> Bool {
        if text.isEmpty || text == "<>" { return allowEmpty }
        guard text.count <= 320, !text.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "<" || $0 == ">" }),
              let at = text.lastIndex(of: "@"), at != text.startIndex else { return false }
        return (try? DomainName(parsing: String(text[text.index(after: at)...]))) != nil
    }
}

struct RelayTargetError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Where the password comes from: an environment variable, a file, or a prompt on a terminal.
/// Never the command line.
struct PasswordSource {
    var environment: String?
    var file: String?

    func secret() throws -> Secret {
        // The same reader as the run config's password_env and password_file.
        let source: RunConfiguration.PasswordSource? = environment.map { .environment($0) } ?? file.map { .file($0) }
        if let source {
            let secret: Secret
            do { secret = try source.read() } catch { throw fail(error.description) }
            // Not inherited by anything this process might start.
            if let environment { unsetenv(environment) }
            return secret
        }
        guard let typed = Self.prompt("Password: ") else {
            throw fail("no password: give --password-env VAR or --password-file FILE (no terminal to ask on)")
        }
        return Secret(typed)
    }

    /// Reads a line from the terminal with echo off; nil when there is no terminal.
    private static func prompt(_ text: String) -> String? {
        let tty = open("/dev/tty", O_RDWR | O_CLOEXEC)
        guard tty >= 0 else { return nil }
        defer { close(tty) }
        guard isatty(tty) == 1 else { return nil }
        var saved = termios()
        guard tcgetattr(tty, &saved) == 0 else { return nil }
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        _ = tcsetattr(tty, TCSAFLUSH, &quiet)
        defer {
            _ = tcsetattr(tty, TCSAFLUSH, &saved)
            _ = write(tty, "\n", 1)
        }
        _ = text.withCString { write(tty, $0, strlen($0)) }
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while read(tty, &byte, 1) == 1, byte != 10, byte != 13, bytes.count < 4096 { bytes.append(byte) }
        let line = String(decoding: bytes, as: UTF8.self)
        return line.isEmpty ? nil : line
    }

    private func fail(_ text: String) -> any Error {
        FileHandle.standardError.write(Data("mailaudit: \(text)\n".utf8))
        return ExitCode(2)
    }
}
