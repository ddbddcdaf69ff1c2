public import MailAuditCore

/// Why an address is being checked, which decides how much a missing PTR matters.
public enum AddressRole: Hashable, Sendable {
    /// An address of this MX host.
    case mailHost(DomainName)
    /// An address the user says sends mail (`--ip`).
    case sender
}

/// What the reverse lookups found for one address.
public struct ReverseDNSResult: Hashable, Sendable {
    public var address: IPAddress
    public var roles: [AddressRole]
    public var ptrAnswer: DNSAnswer
    /// The forward lookup of each PTR name, in the address's own family.
    public var forward: [DomainName: DNSAnswer]
}

/// Looks up the PTR of each address, then the address of each PTR name, all at once.
struct ReverseDNSLookup {
    /// At most this many PTR names of one address are followed forward.
    static let maxPTRNames = 10
    let resolver: any Resolver

    func run(_ addresses: [(IPAddress, AddressRole)]) async -> [ReverseDNSResult] {
        var roles: [IPAddress: [AddressRole]] = [:]
        var order: [IPAddress] = []
        for (address, role) in addresses {
            if roles[address] == nil { order.append(address) }
            if roles[address, default: []].contains(role) == false { roles[address, default: []].append(role) }
        }
        let results = await withTaskGroup(of: ReverseDNSResult.self) { group in
            for address in order {
                let addressRoles = roles[address] ?? []
                group.addTask { await lookUp(address, roles: addressRoles) }
            }
            var byAddress: [IPAddress: ReverseDNSResult] = [:]
            for await result in group { byAddress[result.address] = result }
            return byAddress
        }
        return order.compactMap { results[$0] }
    }

    private func lookUp(_ address: IPAddress, roles: [AddressRole]) async -> ReverseDNSResult {
        let ptr = await resolver.resolve(address.reverseName, .ptr)
        let names = Array(Set(ptr.records.compactMap { record -> DomainName? in
            if case .ptr(let name) = record.data { name } else { nil }
        }).sorted().prefix(Self.maxPTRNames))
        let type: RRType = address.isIPv6 ? .aaaa : .a
        let forward = await withTaskGroup(of: (DomainName, DNSAnswer).self) { group in
            for name in names { group.addTask { (name, await resolver.resolve(name, type)) } }
            var out: [DomainName: DNSAnswer] = [:]
            for await (name, answer) in group { out[name] = answer }
            return out
        }
        return ReverseDNSResult(address: address, roles: roles, ptrAnswer: ptr, forward: forward)
    }
}

/// Reverse DNS verdicts: PTR present, forward-confirmed (FCrDNS), and matching the MX name.
public enum ReverseDNSRules {
    /// `domain` is the audited domain, used to suggest a PTR name for a sending address.
    public static func findings(for result: ReverseDNSResult, domain: DomainName) -> [Finding] {
        let address = result.address.description
        let isSender = result.roles.contains(.sender)
        let hostNames = result.roles.compactMap { role -> DomainName? in
            if case .mailHost(let name) = role { name } else { nil }
        }
        let what = isSender ? "the sending address \(address)"
            : "\(address) (\(hostNames.map(\.description).joined(separator: ", ")))"
        let ptr = result.ptrAnswer
        if ptr.outcome.isInconclusive {
            return [Finding(
                "rdns.lookup-failed", .inconclusive, subject: FindingSubject(address: address),
                message: "could not look up the PTR record of \(what): \(ptr.outcome.summary)",
                evidence: ptr.evidence,
                remedy: "Run the audit again; if it persists, check the reverse zone's name servers.",
                reference: "RFC 1912 §2.1")]
        }
        let names = result.forward.keys.sorted()
        if names.isEmpty {
            return [Finding(
                "rdns.no-ptr", isSender ? .failure : .warning, subject: FindingSubject(address: address),
                message: "\(what) has no PTR record"
                    + (isSender ? "; many receivers reject or penalise mail from such addresses" : ""),
                evidence: ptr.evidence,
                remedy: "Ask whoever holds the address block (the hosting or network provider) to publish "
                    + "\"\(result.address.reverseName.fqdn) IN PTR \((hostNames.first ?? domain.prepending("mail")).fqdn)\", "
                    + "and an A/AAAA record for that name pointing back at \(address).",
                reference: "RFC 1912 §2.1, RFC 8499 §7")]
        }
        let evidence = ptr.evidence + names.flatMap { result.forward[$0]?.evidence ?? [] }
        let confirmed = names.filter { result.forward[$0]?.records.contains { $0.address == result.address } == true }
        if confirmed.isEmpty {
            if names.contains(where: { result.forward[$0]?.outcome.isInconclusive == true }) {
                return [Finding(
                    "rdns.lookup-failed", .inconclusive, subject: FindingSubject(address: address),
                    message: "could not confirm the PTR name of \(what): the forward lookup failed",
                    evidence: evidence,
                    remedy: "Run the audit again; if it persists, check the name servers of the PTR name.",
                    reference: "RFC 8601 §3")]
            }
            return [Finding(
                "rdns.fcrdns-mismatch", .failure, subject: FindingSubject(address: address),
                message: "\(what) has PTR \(names.map(\.description).joined(separator: ", ")), "
                    + "which does not resolve back to \(address)",
                evidence: evidence,
                remedy: "Make the PTR name resolve to the address: \"\(names[0].fqdn) IN "
                    + "\(result.address.isIPv6 ? "AAAA" : "A") \(address)\", or change the PTR to a name that does.",
                reference: "RFC 8601 §3, RFC 1912 §2.1")]
        }
        var findings = [Finding(
            "rdns.fcrdns", .pass, subject: FindingSubject(address: address),
            message: "\(what) has PTR \(confirmed.map(\.description).joined(separator: ", ")), which resolves back to it",
            evidence: evidence, reference: "RFC 8601 §3")]
        for host in hostNames {
            if confirmed.contains(host) {
                findings.append(Finding(
                    "rdns.ptr-matches-mx", .info, subject: FindingSubject(address: address),
                    message: "the PTR name of \(address) is the MX host name \(host)",
                    evidence: ptr.evidence, reference: "RFC 5321 §4.1.4"))
            } else {
                findings.append(Finding(
                    "rdns.ptr-differs-from-mx", .info, subject: FindingSubject(address: address),
                    message: "the PTR name of \(address) (\(confirmed.map(\.description).joined(separator: ", "))) "
                        + "differs from the MX host name \(host)",
                    evidence: ptr.evidence,
                    remedy: "Not an error; some receivers like the PTR name, the HELO name and the MX name to agree.",
                    reference: "RFC 5321 §4.1.4"))
            }
        }
        return findings
    }
}
