import MailAuditCore
import MailAuditRecords

/// DNSBL verdicts: pure functions of what ``DNSBLLookup`` fetched (RFC 5782).
enum DNSBLRules {
    static func findings(for result: DNSBLResult) -> [Finding] {
        guard !result.targets.isEmpty else { return [] }
        let addresses = result.targets.map(\.address.description)
        var findings = result.lists.filter { !$0.health.isWorking }.map { list in
            Finding(
                "dnsbl.list-not-working", .inconclusive, subject: FindingSubject(record: list.zone.description),
                message: "the blocklist \(list.zone) does not answer its test entries correctly (\(list.health.problems.joined(separator: "; "))), so \(addresses.count == 1 ? "1 address was" : "\(addresses.count) addresses were") not checked against it",
                evidence: list.evidence + ["not checked: " + addresses.joined(separator: ", ")],
                remedy: "Check the list's name and its terms of use: many lists refuse queries through public resolvers or above a free volume. Query it through your own resolver, or drop it from --dnsbl.",
                reference: "RFC 5782 §5, §7",
                facts: ["list": .text(list.zone.description), "addresses": .list(addresses)])
        }
        for target in result.targets {
            let listings = result.listings.filter { $0.address == target.address }
            var clean: [DNSBLListing] = []
            var listedOn = 0
            for listing in listings {
                switch listing.response {
                case .listed(let codes):
                    listedOn += 1
                    findings.append(listedFinding(target, listing, codes: codes))
                case .notListed:
                    clean.append(listing)
                case .lookupFailed(let outcome):
                    findings.append(failedFinding(target, listing, why: outcome.summary))
                case .invalidAnswer(_, let reason):
                    findings.append(failedFinding(target, listing, why: reason))
                }
            }
            if listedOn == 0 && !clean.isEmpty {
                let zones = clean.map(\.zone.description)
                findings.append(Finding(
                    "dnsbl.not-listed", .pass, subject: subject(target),
                    message: "\(role(target)) \(target.address) is on none of the working blocklists: \(zones.joined(separator: ", "))",
                    evidence: clean.flatMap(\.answer.evidence), reference: "RFC 5782 §2.1",
                    facts: ["lists": .list(zones)]))
            }
        }
        return findings
    }

    private static func listedFinding(_ target: DNSBLTarget, _ listing: DNSBLListing, codes: [IPAddress]) -> Finding {
        let codeText = codes.map(\.description).joined(separator: ", ")
        let reason = listing.reasons.joined(separator: " ")
        let reasonText = !reason.isEmpty ? reason
            : listing.reasonAnswer.map { "no reason given (TXT: \($0.outcome.summary))" } ?? "no reason given"
        return Finding(
            "dnsbl.listed", .failure, subject: subject(target),
            message: "\(role(target)) \(target.address) is listed on \(listing.zone) (\(codeText)): \(reason.isEmpty ? reasonText : "\"\(reason.terminalSafe)\"")",
            evidence: listing.answer.evidence + (listing.reasonAnswer?.evidence ?? []),
            remedy: "Receivers that use \(listing.zone) refuse or mark mail from this address. Read the list's reason (often a link to its lookup page), fix the cause first (a compromised account or host, an open relay, an address in a dynamic range), then ask the list's operator to delist \(target.address).",
            reference: "RFC 5782 §2.1",
            facts: ["list": .text(listing.zone.description), "address": .text(target.address.description),
                    "codes": .list(codes.map(\.description)), "reason": .text(reasonText)])
    }

    private static func failedFinding(_ target: DNSBLTarget, _ listing: DNSBLListing, why: String) -> Finding {
        Finding(
            "dnsbl.lookup-failed", .inconclusive, subject: subject(target),
            message: "could not check \(target.address) on \(listing.zone): \(why)",
            evidence: listing.answer.evidence,
            remedy: "Run the audit again; if it persists, the list may be refusing this resolver.",
            reference: "RFC 5782 §2.1",
            facts: ["list": .text(listing.zone.description), "address": .text(target.address.description)])
    }

    private static func subject(_ target: DNSBLTarget) -> FindingSubject {
        FindingSubject(
            host: target.mailHosts.isEmpty ? nil : target.mailHosts.map(\.description).joined(separator: ", "),
            address: target.address.description)
    }

    private static func role(_ target: DNSBLTarget) -> String {
        switch (target.mailHosts.isEmpty, target.isSender) {
        case (false, true): "the MX and sending address"
        case (false, false): "the MX address"
        default: "the sending address"
        }
    }
}
