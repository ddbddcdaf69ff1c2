import MailAuditCore

/// Limits on following CNAME records.
enum CNAMEPolicy {
    /// The most CNAME hops one lookup follows, whether a server sends the chain in one reply or
    /// hop by hop: a ninth CNAME gives ``DNSOutcome/cnameChainTooLong(_:)``, which is not a
    /// loop (only a name seen twice is). RFC 1034 §3.6.2 gives no number; 8 is what common stub
    /// resolvers allow.
    static let maximumHops = 8
}

extension DecodedReply {
    /// The answer this reply gives to `question`.
    ///
    /// CNAME records in the answer section are followed from the question's name
    /// (RFC 1034 §3.6.2, §4.3.2 step 3a); names compare case-insensitively because
    /// ``DomainName`` is folded to lower case. Then:
    /// - an RCODE other than NOERROR and NXDOMAIN gives ``DNSOutcome/serverFailure(rcode:)``;
    /// - a name visited twice gives ``DNSOutcome/cnameLoop``; more than ``CNAMEPolicy/maximumHops``
    ///   hops without a repeat give ``DNSOutcome/cnameChainTooLong(_:)`` (inconclusive);
    /// - NXDOMAIN gives ``DNSOutcome/nxDomain`` (about the last name of the chain, RFC 6604 §2);
    /// - records of the asked type owned by the last name give ``DNSOutcome/records(_:)``;
    /// - otherwise ``DNSOutcome/noData`` (RFC 2308 §2.2).
    ///
    /// The RRSIGs covering the records come along, and a negative answer keeps its authority
    /// section. The AD bit counts only when the resolver is trusted to validate (`trustingAD`):
    /// then it means secure and its absence insecure; otherwise nothing is known.
    func answer(for question: DNSQuestion, trustingAD: Bool = false) -> DNSAnswer {
        var answer = DNSAnswer(
            question: question, outcome: .noData, dnssec: trustingAD ? (authenticData ? .secure : .insecure) : .indeterminate)
        if rcode != ResponseCode.noError && rcode != ResponseCode.nxDomain {
            answer.outcome = .serverFailure(rcode: rcode)
            answer.dnssec = .indeterminate
            return answer
        }
        var owner = question.name
        if question.type != .cname {
            var visited: Set<DomainName> = [owner]
            while let target = cnameTarget(of: owner) {
                answer.cnameChain.append(target)
                guard visited.insert(target).inserted else {
                    answer.outcome = .cnameLoop
                    return answer
                }
                guard answer.cnameChain.count <= CNAMEPolicy.maximumHops else {
                    answer.outcome = .cnameChainTooLong(CNAMEPolicy.maximumHops)
                    return answer
                }
                owner = target
            }
        }
        if rcode == ResponseCode.nxDomain {
            answer.outcome = .nxDomain
            answer.authority = authority
            return answer
        }
        let records = answers.filter { $0.name == owner && $0.type == question.type }
        answer.outcome = records.isEmpty ? .noData : .records(records)
        if records.isEmpty {
            answer.authority = authority
        } else if question.type != .rrsig {
            answer.signatures = answers.filter { record in
                guard record.name == owner, case .rrsig(let signature) = record.data else { return false }
                return signature.typeCovered == question.type
            }
        }
        return answer
    }

    private func cnameTarget(of owner: DomainName) -> DomainName? {
        for record in answers where record.name == owner {
            if case .cname(let target) = record.data { return target }
        }
        return nil
    }
}
