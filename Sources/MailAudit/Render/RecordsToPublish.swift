import MailAuditCore

/// The records to publish, gathered from the remedies of failing and warning findings: every
/// remedy that can name the exact record writes it in zone-file form (`owner. IN TXT "…"`), so
/// the text report can end with the whole set, ready to paste.
enum RecordsToPublish {
    /// The complete records in `remedy`: TXT with its quoted strings, TLSA with its digest, MX.
    /// A record with a placeholder (`<…>`) is not ready to paste and is left out.
    static func records(in remedy: String) -> [String] {
        let owner = #"[A-Za-z0-9_*-]+(?:\.[A-Za-z0-9_*-]+)*\."#
        let quoted = #""(?:[^"\\]|\\.)*""#
        let pattern = "(\(owner)) IN (?:TXT (\(quoted)(?: \(quoted))*)|TLSA ([0-3] [01] [0-2] [0-9A-Fa-f]+)|MX ([0-9]+ \(owner)))"
        guard let regex = try? Regex(pattern) else { return [] }
        return remedy.matches(of: regex).compactMap { match -> String? in
            let text = String(remedy[match.range])
            return text.contains("<") ? nil : text
        }
    }

    /// Each domain's records to publish, in finding order. Where two findings suggest different
    /// versions of one record (a DMARC record with p=quarantine, then with p=none until SPF and
    /// DKIM work), the later, more specific suggestion takes the earlier one's place.
    static func byDomain(_ report: AuditReport) -> [(DomainName, [String])] {
        report.domains.compactMap { domain in
            var order: [String] = []
            var chosen: [String: String] = [:]
            for record in domain.findings.filter({ $0.severity >= .warning }).flatMap({ records(in: $0.remedy ?? "") }) {
                let key = identity(of: record)
                if chosen[key] == nil { order.append(key) }
                chosen[key] = record
            }
            let found = order.compactMap { chosen[$0] }
            return found.isEmpty ? nil : (domain.domain, found)
        }
    }

    /// Owner and type, and for TXT the version tag (`v=DMARC1`, `v=spf1`): one record per identity.
    /// Other types (several MX or TLSA records are normal) are one per whole record.
    private static func identity(of record: String) -> String {
        let parts = record.split(separator: " ", maxSplits: 3)
        guard parts.count == 4, parts[2] == "TXT" else { return record }
        let version = parts[3].dropFirst().prefix { $0 != ";" && $0 != " " && $0 != "\"" }
        return version.hasPrefix("v=") ? "\(parts[0]) TXT \(version)" : record
    }
}
