public import MailAuditCore

/// A DNS server to send queries to: an IP address and a port.
///
/// Written `192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53` or `[2001:db8::53]:5353`;
/// the port defaults to 53 (RFC 1035 §4.2). ``description`` gives the same form back.
public struct Nameserver: Hashable, Sendable, CustomStringConvertible {
    /// The server's IP address (never a host name: resolving one would need DNS).
    public var address: IPAddress
    /// The UDP and TCP port, 53 unless given.
    public var port: Int

    public init(address: IPAddress, port: Int = 53) {
        self.address = address
        self.port = port
    }

    /// Parses an IP literal with an optional port: `127.0.0.1`, `127.0.0.1:5353`, `::1`, `[::1]:5353`.
    ///
    /// An IPv6 address with a port must be in brackets (`::1:53` is the address ::1:53).
    ///
    /// - Throws: ``NameserverError`` when the text is empty, names a host instead of an IP
    ///   address, or has a port outside 1–65535.
    public init(parsing input: String) throws(NameserverError) {
        let text = input.trimmingASCIISpaces
        guard !text.isEmpty else { throw .empty }
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .unclosedBracket(input) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw .notAnAddress(input) }
                portText = rest.dropFirst()
            }
            guard host.contains(":") else { throw .notAnAddress(input) }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let address = IPAddress(String(host)) else { throw .notAnAddress(input) }
        var port = 53
        if let portText {
            guard portText.allSatisfy({ $0 >= "0" && $0 <= "9" }), let number = Int(portText), (1...65535).contains(number) else {
                throw .badPort(input)
            }
            port = number
        }
        self.init(address: address, port: port)
    }

    /// `127.0.0.1`, `127.0.0.1:5353`, `::1` or `[::1]:5353`.
    public var description: String {
        switch (address.isIPv6, port) {
        case (_, 53): address.description
        case (false, _): "\(address):\(port)"
        case (true, _): "[\(address)]:\(port)"
        }
    }
}

/// Why a nameserver could not be parsed. Each case renders a message naming the problem.
public enum NameserverError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    case unclosedBracket(String)
    case notAnAddress(String)
    case badPort(String)

    public var description: String {
        switch self {
        case .empty: "the nameserver is empty; give an IP address such as 127.0.0.1 or [::1]:5353"
        case .unclosedBracket(let text): "\"\(text)\" opens a bracket it does not close; write [::1]:5353"
        case .notAnAddress(let text):
            "\"\(text)\" is not an IP address; a nameserver must be an IP literal such as 127.0.0.1, "
                + "127.0.0.1:5353, ::1 or [::1]:5353 (host names are not accepted)"
        case .badPort(let text): "\"\(text)\" has a bad port; a port is a number from 1 to 65535"
        }
    }
}

extension StringProtocol {
    var trimmingASCIISpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return Substring(self[first...last])
    }
}
