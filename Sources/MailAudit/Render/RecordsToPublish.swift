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

    /// Each domain's records to publish, in finding order, without repeats.
    static func byDomain(_ report: AuditReport) -> [(DomainName, [String])] {
        report.domains.compactMap { domain in
            var seen = Set<String>()
            let found = domain.findings.filter { $0.severity >= .warning }
                .flatMap { records(in: $0.remedy ?? "") }
                .filter { seen.insert($0).inserted }
            return found.isEmpty ? nil : (domain.domain, found)
        }
    }
}
