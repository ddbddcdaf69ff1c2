public import MailAuditCore

/// A DNS blocklist's zone as the user names it (`--dnsbl zen.spamhaus.org`).
public enum DNSBLZone {
    /// The 32 nibble labels of an IPv6 query (RFC 5782 §2.4) take 64 octets of the 255 a name may have.
    static let longestQueryPrefix = 64

    /// Parses a zone name and checks that every query under it fits in a DNS name.
    ///
    /// ```swift
    /// try DNSBLZone.parse("zen.spamhaus.org")   // zen.spamhaus.org
    /// try DNSBLZone.parse("127.0.0.2")          // throws: an IP address, not a zone
    /// ```
    ///
    /// - Throws: ``DNSBLZoneError`` when the text is not a domain name, or too long for the
    ///   reversed nibbles of an IPv6 address to be put in front of it.
    public static func parse(_ text: String) throws(DNSBLZoneError) -> DomainName {
        let zone: DomainName
        do throws(DomainNameError) {
            zone = try DomainName(parsing: text)
        } catch {
            throw DNSBLZoneError(description: "not a zone name: \(error)")
        }
        let wireLength = zone.labels.reduce(1) { $0 + $1.utf8.count + 1 }
        guard wireLength + longestQueryPrefix <= 255 else {
            throw DNSBLZoneError(description: "too long: an IPv6 query under it would exceed the 255 octets of a DNS name")
        }
        return zone
    }
}

/// Why a blocklist zone named by the user cannot be used.
public struct DNSBLZoneError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
}
