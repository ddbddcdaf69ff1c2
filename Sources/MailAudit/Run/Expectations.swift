public import MailAuditCore

/// What a config says must not change about a domain: its MX set, its DMARC policy.
public struct DomainExpectations: Hashable, Sendable, Codable {
    /// The MX host names, in any order and case, without preferences.
    public var mx: [String]?
    /// The DMARC policy `p`: none, quarantine or reject.
    public var dmarcPolicy: String?

    public init(mx: [String]? = nil, dmarcPolicy: String? = nil) {
        self.mx = mx
        self.dmarcPolicy = dmarcPolicy
    }

    public var isEmpty: Bool { mx == nil && dmarcPolicy == nil }

    /// Findings for each expectation, judged from the facts of the audit's own findings: a
    /// broken expectation is a failure, one that could not be checked is inconclusive.
    public func findings(for domain: DomainName, in findings: [Finding]) -> [Finding] {
        var results: [Finding] = []
        if let expected = mx {
            let want = Set(expected.map(Self.normalised))
            if let present = findings.first(where: { $0.id == "mx.present" }), case .list(let entries)? = present.facts["mx"] {
                let have = Set(entries.compactMap { $0.split(separator: " ").last.map { Self.normalised(String($0)) } })
                results.append(have == want
                    ? Finding("expect.mx", .pass, subject: .domain(domain), message: "the MX hosts of \(domain) are the expected ones",
                              evidence: entries, reference: "mailaudit.toml expect_mx", facts: ["mx": .list(have.sorted()), "expected": .list(want.sorted())])
                    : Finding("expect.mx-changed", .failure, subject: .domain(domain),
                              message: "the MX hosts of \(domain) are \(have.sorted().joined(separator: ", ")), not the expected \(want.sorted().joined(separator: ", "))",
                              evidence: entries, remedy: "Restore the MX records, or update expect_mx in the config if the change was intended.",
                              reference: "mailaudit.toml expect_mx", facts: ["mx": .list(have.sorted()), "expected": .list(want.sorted())]))
            } else {
                results.append(unchecked(domain, what: "MX hosts", findings: findings, area: "mx"))
            }
        }
        if let expected = dmarcPolicy?.lowercased() {
            if let record = findings.first(where: { $0.id == "dmarc.record" }), case .text(let policy)? = record.facts["p"] {
                results.append(policy == expected
                    ? Finding("expect.dmarc", .pass, subject: .domain(domain), message: "the DMARC policy of \(domain) is p=\(policy), as expected",
                              reference: "mailaudit.toml expect_dmarc", facts: ["p": .text(policy), "expected": .text(expected)])
                    : Finding("expect.dmarc-changed", .failure, subject: .domain(domain),
                              message: "the DMARC policy of \(domain) is p=\(policy), not the expected p=\(expected)",
                              evidence: record.evidence, remedy: "Restore p=\(expected) in the DMARC record, or update expect_dmarc if the change was intended.",
                              reference: "mailaudit.toml expect_dmarc", facts: ["p": .text(policy), "expected": .text(expected)]))
            } else {
                results.append(unchecked(domain, what: "DMARC policy", findings: findings, area: "dmarc"))
            }
        }
        return results
    }

    /// No record to compare: inconclusive when the lookup itself failed, a failure when the
    /// record is gone.
    private func unchecked(_ domain: DomainName, what: String, findings: [Finding], area: String) -> Finding {
        let failedLookup = findings.contains { $0.id.area == area && $0.severity == .inconclusive }
        let ran = findings.contains { $0.id.area == area }
        if failedLookup || !ran {
            return Finding("expect.unchecked", .inconclusive, subject: FindingSubject(domain: domain.description, record: what),
                           message: "the expected \(what) of \(domain) could not be checked: \(ran ? "the lookup failed" : "the check did not run")",
                           reference: "mailaudit.toml")
        }
        let expectedValue = area == "mx" ? (mx ?? []).joined(separator: ", ") : "p=\(dmarcPolicy ?? "")"
        let id: FindingID = area == "mx" ? "expect.mx-changed" : "expect.dmarc-changed"
        return Finding(id, .failure, subject: .domain(domain),
                       message: "\(domain) no longer publishes the expected \(what) (\(expectedValue))",
                       evidence: findings.filter { $0.id.area == area && $0.severity >= .warning }.map { "\($0.id): \($0.message)" },
                       remedy: "Restore the records, or update the expectation in the config if the change was intended.",
                       reference: "mailaudit.toml", facts: ["expected": .text(expectedValue)])
    }

    private static func normalised(_ name: String) -> String {
        var name = name.lowercased()
        while name.hasSuffix(".") { name.removeLast() }
        return name
    }
}
