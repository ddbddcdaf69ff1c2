import CLDNS
public import Foundation
public import MailAuditCore

/// The keys validation starts from: DS or DNSKEY records, by owner name, as a trust-anchor
/// file gives them in zone-file syntax (the root key of Debian's dns-root-data, or a lab's own).
///
/// ```swift
/// let anchors = try TrustAnchors(contentsOf: "/usr/share/dns/root.key")
/// anchors.anchor(for: DomainName(labels: []))   // the root's DNSKEY records
/// ```
public struct TrustAnchors: Sendable {
    /// Where Debian's dns-root-data installs the root zone's key-signing keys.
    public static let debianRootKey = "/usr/share/dns/root.key"

    /// The file the anchors came from, for the report.
    public let source: String
    private let byOwner: [DomainName: [DNSRecord]]

    public init(contentsOf path: String) throws(TrustAnchorError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path) }
        try self.init(text: String(decoding: data, as: UTF8.self), source: path)
    }

    public init(text: String, source: String) throws(TrustAnchorError) {
        var byOwner: [DomainName: [DNSRecord]] = [:]
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            // DS and DNSKEY records hold no quoted text, so a ';' always starts a comment.
            let line = raw.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let record = try? LDNSCodec.record(parsing: line), record.type == .ds || record.type == .dnskey else {
                throw .badLine(source, index + 1, String(line).terminalSafe)
            }
            byOwner[record.name, default: []].append(record)
        }
        guard !byOwner.isEmpty else { throw .empty(source) }
        self.source = source
        self.byOwner = byOwner
    }

    /// The anchor records owned by `zone`, if it is a trust point.
    public func anchor(for zone: DomainName) -> [DNSRecord]? { byOwner[zone] }

    /// Whether some anchor is at or above `name`, so its chain can be followed from there.
    public func covers(_ name: DomainName) -> Bool {
        byOwner.keys.contains { name.isSubdomain(of: $0) }
    }

    /// The anchor nearest above `name` (or at it), where its chain of trust starts.
    public func closestAnchor(above name: DomainName) -> DomainName? {
        byOwner.keys.filter { name.isSubdomain(of: $0) }.max { $0.labels.count < $1.labels.count }
    }

    /// The owner names, for the report.
    public var owners: [DomainName] { byOwner.keys.sorted { $0.labels.count < $1.labels.count } }
}

public enum TrustAnchorError: Error, Hashable, Sendable, CustomStringConvertible {
    case unreadable(String)
    case badLine(String, Int, String)
    case empty(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read the trust anchor file \(path.terminalSafe)"
        case .badLine(let path, let line, let text):
            "\(path.terminalSafe) line \(line): not a DS or DNSKEY record in zone-file syntax: \(text)"
        case .empty(let path): "\(path.terminalSafe) holds no DS or DNSKEY record"
        }
    }
}

extension LDNSCodec {
    /// One record in zone-file syntax (absolute owner name), through ldns.
    static func record(parsing line: String) throws(CodecError) -> DNSRecord {
        var rr: UnsafeMutablePointer<ldns_rr>?
        let status = ldns_rr_new_frm_str(&rr, line, 0, nil, nil)
        guard status == LDNS_STATUS_OK, let rr else { throw .malformed("not a record") }
        defer { ldns_rr_free(rr) }
        return try record(rr)
    }
}
