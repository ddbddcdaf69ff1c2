public import MailAuditCore
public import MailAuditRecords

/// SPF verdicts: pure functions of the fetched tree (RFC 7208).
public enum SPFRules {
    /// The limit on terms that cause DNS lookups (RFC 7208 §4.6.4).
    public static let lookupLimit = 10
    /// From this many lookups on, the count is reported as close to the limit.
    public static let nearLimit = 8
    /// The limit on lookups that find nothing (RFC 7208 §4.6.4).
    public static let voidLimit = 2

    /// - Parameter hasMailHosts: whether the domain receives mail, to suggest a record.
    public static func findings(for tree: SPFNode, hasMailHosts: Bool) -> [Finding] {
        let domain = tree.domain.description
        let evidence = tree.answer?.evidence ?? []
        let suggested = "\(tree.domain.fqdn) IN TXT \"\(hasMailHosts ? "v=spf1 mx -all" : "v=spf1 -all")\""
        switch tree.content {
        case .lookupFailed(.cnameLoop):
            return [Finding(
                "spf.cname-loop", .failure, subject: .domain(tree.domain),
                message: "the TXT lookup of \(domain) runs into a CNAME loop, so SPF gives an error",
                evidence: evidence, remedy: "Remove the CNAME records that point back at each other.",
                reference: "RFC 1034 §3.6.2, RFC 7208 §4.4")]
        case .lookupFailed(let outcome):
            return [Finding(
                "spf.lookup-failed", .inconclusive, subject: .domain(tree.domain),
                message: "could not look up the TXT records of \(domain): \(outcome.summary)",
                evidence: evidence, remedy: "Run the audit again; if it persists, check the domain's name servers.",
                reference: "RFC 7208 §4.4")]
        case .none, .notFollowed, .loop:
            return [Finding(
                "spf.none", .warning, subject: .domain(tree.domain),
                message: "\(domain) publishes no SPF record, so receivers cannot tell which hosts may send its mail",
                evidence: evidence, remedy: "Publish one, for example \(suggested)", reference: "RFC 7208 §4.5")]
        case .multiple(let texts):
            return [Finding(
                "spf.multiple-records", .failure, subject: .domain(tree.domain),
                message: "\(domain) publishes \(texts.count) SPF records; with more than one, every check gives permerror",
                evidence: texts, remedy: "Merge them into one TXT record that starts with v=spf1.",
                reference: "RFC 7208 §4.5")]
        case .invalid(let error, let text):
            return [syntaxFinding(error, text: text, subject: .domain(tree.domain), context: "the SPF record of \(domain)")]
        case .record(_, let text):
            var findings = [Finding(
                "spf.record", .pass, subject: .domain(tree.domain), message: "\(domain) publishes an SPF record",
                evidence: [text], reference: "RFC 7208 §4.5",
                facts: ["record": .text(text), "includes": .list(tree.children.map(\.term))])]
            findings += sizeFindings(tree)
            findings += allFindings(tree)
            findings += budgetFindings(tree)
            findings += voidFindings(tree)
            findings += treeProblems(tree)
            findings += rangeFindings(tree)
            return findings
        }
    }

    /// True when check_host() gives permerror whatever the sender: over a limit, a broken
    /// include or redirect, an mx term with too many records (RFC 7208 §4.6.4, §5.2, §6.1).
    public static func givesPermerror(_ tree: SPFNode) -> Bool {
        if tree.totalCost > lookupLimit || tree.voidLookups.count > voidLimit { return true }
        return tree.allNodes.contains { node in
            if node.termLookups.contains(where: { $0.mxCount > SPFLimits().mxNames }) { return true }
            guard node.link != .root else { return false }
            switch node.content {
            case .none, .loop, .multiple, .invalid: return true
            case .record, .lookupFailed, .notFollowed: return false
            }
        }
    }

    // MARK: Record-level rules

    static func syntaxFinding(_ error: SPFParseError, text: String, subject: FindingSubject, context: String) -> Finding {
        let id: FindingID = switch error.reason {
        case .unknownMechanism: "spf.unknown-mechanism"
        case .badCIDR, .cidrLeadingZero, .cidrTooLong, .dualCIDRNotAllowed: "spf.bad-cidr"
        case .badMacro: "spf.bad-macro"
        default: "spf.syntax-error"
        }
        return Finding(
            id, .failure, subject: subject,
            message: "\(context) is invalid, so every check of it gives permerror: \(error)",
            evidence: [text, String(repeating: " ", count: max(0, error.offset)) + "^"],
            remedy: "Correct \(error.termIndex == 0 ? "the version tag" : "term \(error.termIndex), \"\(error.term)\"").",
            reference: "RFC 7208 §4.6, §12")
    }

    private static func sizeFindings(_ tree: SPFNode) -> [Finding] {
        let strings: [[[UInt8]]] = (tree.answer?.records ?? []).compactMap {
            if case .txt(let strings) = $0.data { strings } else { nil }
        }
        guard SPFAnswerSize.exceedsUDPLimit(name: tree.domain, txtStrings: strings) else { return [] }
        let size = SPFAnswerSize.estimate(name: tree.domain, txtStrings: strings)
        return [Finding(
            "spf.record-too-long", .warning, subject: .domain(tree.domain),
            message: "the TXT answer for \(tree.domain) is about \(size) octets, more than fits a 512-octet UDP answer; some receivers will not retry over TCP",
            evidence: tree.answer?.evidence ?? [],
            remedy: "Shorten the record: move address ranges into an included record, or remove TXT records nobody uses.",
            reference: "RFC 7208 §3.4")]
    }

    /// The `all` that ends evaluation: the record's own, or that of its redirect target.
    private static func finalAll(_ node: SPFNode) -> (SPFQualifier, SPFNode)? {
        if let all = node.record?.directives.first(where: { $0.mechanism == .all }) { return (all.qualifier, node) }
        if let redirect = node.children.first(where: { $0.link == .redirect }) { return finalAll(redirect) }
        return nil
    }

    private static func allFindings(_ tree: SPFNode) -> [Finding] {
        let domain = tree.domain.description
        let text = recordText(tree)
        guard let (qualifier, owner) = finalAll(tree) else {
            if tree.effectiveRedirect != nil { return [] }  // the redirect target is reported on its own
            return [Finding(
                "spf.no-all", .warning, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) ends without \"all\" or \"redirect\", so unlisted senders get neutral",
                evidence: [text], remedy: "End the record with \"-all\" (or \"~all\" while you check your senders).",
                reference: "RFC 7208 §4.7, §5.1")]
        }
        let via = owner.domain == tree.domain ? "" : " (through redirect to \(owner.domain))"
        switch qualifier {
        case .pass:
            return [Finding(
                "spf.all-pass", .failure, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) ends in \"+all\"\(via): it authorises every host on the Internet",
                evidence: [recordText(owner)], remedy: "Replace \"+all\" with \"-all\" (or \"~all\").",
                reference: "RFC 7208 §5.1")]
        case .neutral:
            return [Finding(
                "spf.all-neutral", .warning, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) ends in \"?all\"\(via): it says nothing about other senders",
                evidence: [recordText(owner)], remedy: "Replace \"?all\" with \"-all\" (or \"~all\").",
                reference: "RFC 7208 §8.2")]
        case .softfail:
            return [Finding(
                "spf.all-softfail", .info, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) ends in \"~all\"\(via): other senders soft-fail",
                evidence: [recordText(owner)],
                remedy: "Once every legitimate sender is listed, \"-all\" is the stronger statement.",
                reference: "RFC 7208 §8.5")]
        case .fail:
            return [Finding(
                "spf.all-fail", .pass, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) ends in \"-all\"\(via): other senders fail",
                evidence: [recordText(owner)], reference: "RFC 7208 §8.4")]
        }
    }

    private static func recordText(_ node: SPFNode) -> String {
        if case .record(_, let text) = node.content { text } else { node.term }
    }

    // MARK: The lookup budget

    private static func budgetFindings(_ tree: SPFNode) -> [Finding] {
        let total = tree.totalCost
        let domain = tree.domain.description
        let lines = treeLines(tree)
        // Past the audit's caps the rest of the tree is unknown: the count is a lower bound.
        let atLeast = tree.isComplete ? "" : "at least "
        if total > lookupLimit {
            return [Finding(
                "spf.too-many-lookups", .failure, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) needs \(atLeast)\(total) DNS lookups; more than \(lookupLimit) gives permerror, so SPF fails for all its mail",
                evidence: lines + suggestionLines(tree),
                remedy: "Drop or flatten includes (replace them by the ip4/ip6 ranges they publish) until at most \(lookupLimit) lookups remain: "
                    + suggestions(tree).map { "\($0.term) (saves \($0.cost))" }.joined(separator: ", ") + ".",
                reference: "RFC 7208 §4.6.4", facts: ["lookups": .int(total)])]
        }
        if total >= nearLimit {
            return [Finding(
                "spf.lookups-near-limit", .info, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) needs \(atLeast)\(total) of the \(lookupLimit) DNS lookups allowed; one more include could break it",
                evidence: lines, remedy: "Keep an eye on the includes; flatten one before adding another.",
                reference: "RFC 7208 §4.6.4", facts: ["lookups": .int(total)])]
        }
        return [Finding(
            "spf.lookup-count", .pass, subject: .domain(tree.domain),
            message: "the SPF record of \(domain) needs \(atLeast)\(total) of the \(lookupLimit) DNS lookups allowed",
            evidence: lines, reference: "RFC 7208 §4.6.4", facts: ["lookups": .int(total)])]
    }

    /// The tree, one line a lookup term, in evaluation order: each include with its cost (itself
    /// and everything below it) and the running total as each term is reached.
    public static func treeLines(_ tree: SPFNode) -> [String] {
        var lines = ["\(tree.domain): \(tree.totalCost) lookups in all (limit \(lookupLimit)); its own record costs \(tree.ownCost)"]
        var running = 0
        func walk(_ node: SPFNode, indent: String) {
            guard let record = node.record else { return }
            var childIndex = 0
            func child(_ term: String) -> SPFNode? {
                guard childIndex < node.children.count, node.children[childIndex].term == term else { return nil }
                defer { childIndex += 1 }
                return node.children[childIndex]
            }
            for directive in record.directives where directive.mechanism.causesLookup {
                running += 1
                if case .include = directive.mechanism, let sub = child(directive.description) {
                    let cost = 1 + sub.totalCost
                    lines.append("\(indent)\(directive) costs \(cost), running total \(running)\(note(sub))\(over(running))")
                    walk(sub, indent: indent + "  ")
                } else {
                    lines.append("\(indent)\(directive) costs 1, running total \(running)\(over(running))")
                }
            }
            if node.effectiveRedirect != nil {
                running += 1
                let term = "redirect=\(node.effectiveRedirect?.description ?? "")"
                if let sub = child(term) {
                    lines.append("\(indent)\(term) costs \(1 + sub.totalCost), running total \(running)\(note(sub))\(over(running))")
                    walk(sub, indent: indent + "  ")
                }
            }
        }
        func note(_ node: SPFNode) -> String {
            switch node.content {
            case .record: ""
            case .none: " (no SPF record there)"
            case .loop: " (loop)"
            case .lookupFailed(let outcome): " (lookup failed: \(outcome.summary))"
            case .notFollowed(let reason): " (not followed: \(reason))"
            case .multiple: " (several SPF records there)"
            case .invalid: " (invalid record there)"
            }
        }
        func over(_ total: Int) -> String { total > lookupLimit ? "  ← over the limit" : "" }
        walk(tree, indent: "  ")
        return lines
    }

    /// The includes of the top-level record (and of its redirect chain), costliest first, that
    /// must go to get under the limit.
    public static func suggestions(_ tree: SPFNode) -> [(term: String, cost: Int)] {
        var candidates: [(term: String, cost: Int)] = []
        var node: SPFNode? = tree
        while let current = node {
            candidates += current.children.filter { if case .include = $0.link { true } else { false } }
                .map { ($0.term + (current.domain == tree.domain ? "" : " (in \(current.domain))"), 1 + $0.totalCost) }
            node = current.children.first { $0.link == .redirect }
        }
        var excess = tree.totalCost - lookupLimit
        var chosen: [(term: String, cost: Int)] = []
        for candidate in candidates.sorted(by: { $0.cost > $1.cost }) where excess > 0 {
            chosen.append(candidate)
            excess -= candidate.cost
        }
        return chosen
    }

    private static func suggestionLines(_ tree: SPFNode) -> [String] {
        let chosen = suggestions(tree)
        guard !chosen.isEmpty else { return ["no single include accounts for the excess: reduce the a, mx, ptr and exists terms"] }
        let saved = chosen.reduce(0) { $0 + $1.cost }
        return ["to get under the limit, drop or flatten: " + chosen.map { "\($0.term) (−\($0.cost))" }.joined(separator: ", ")
                + " → \(tree.totalCost - saved) lookups"]
    }

    // MARK: Void lookups, mx, ptr

    private static func voidFindings(_ tree: SPFNode) -> [Finding] {
        let voids = tree.voidLookups
        let domain = tree.domain.description
        var findings: [Finding] = []
        if voids.count > voidLimit {
            findings.append(Finding(
                "spf.too-many-void-lookups", .failure, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) makes \(voids.count) lookups that find nothing; more than \(voidLimit) gives permerror",
                evidence: voids, remedy: "Remove the terms that name domains without records.",
                reference: "RFC 7208 §4.6.4"))
        } else if !voids.isEmpty {
            findings.append(Finding(
                "spf.void-lookups", .info, subject: .domain(tree.domain),
                message: "the SPF record of \(domain) makes \(voids.count) lookup\(voids.count == 1 ? "" : "s") that find nothing (at most \(voidLimit) allowed)",
                evidence: voids, remedy: "Remove terms that name domains without records.", reference: "RFC 7208 §4.6.4"))
        }
        for node in tree.allNodes {
            for lookup in node.termLookups where lookup.mxCount > SPFLimits().mxNames {
                findings.append(Finding(
                    "spf.mx-too-many-records", .failure, subject: FindingSubject(record: node.domain.description),
                    message: "\"\(lookup.term)\" in the SPF record of \(node.domain) names a domain with \(lookup.mxCount) MX records; more than 10 gives permerror",
                    evidence: lookup.answers.flatMap(\.evidence),
                    remedy: "Replace \"\(lookup.term)\" by ip4/ip6 terms, or an a: term per host that sends mail.",
                    reference: "RFC 7208 §4.6.4"))
            }
            for directive in node.record?.directives ?? [] {
                if case .ptr = directive.mechanism {
                    findings.append(Finding(
                        "spf.ptr-mechanism", .warning, subject: FindingSubject(record: node.domain.description),
                        message: "the SPF record of \(node.domain) uses \"\(directive)\", which is slow, unreliable and should not be used",
                        evidence: [recordText(node)], remedy: "Replace \"\(directive)\" by ip4/ip6 or a: terms.",
                        reference: "RFC 7208 §5.5"))
                }
            }
        }
        return findings
    }

    // MARK: Includes and redirects

    private static func treeProblems(_ tree: SPFNode) -> [Finding] {
        var findings: [Finding] = []
        var notFollowed = 0
        func visit(_ parent: SPFNode) {
            for child in parent.children {
                let what = child.link == .redirect ? "the redirect" : "\"\(child.term)\""
                let place = "\(what) in the SPF record of \(parent.domain)"
                let subject = FindingSubject(record: child.domain.description)
                switch child.content {
                case .record: visit(child)
                case .none:
                    findings.append(Finding(
                        child.link == .redirect ? "spf.redirect-missing" : "spf.include-missing", .failure, subject: subject,
                        message: "\(place) names \(child.domain), which has no SPF record: checks give permerror",
                        evidence: child.answer?.evidence ?? [],
                        remedy: "Remove \(what), or correct the domain it names.",
                        reference: child.link == .redirect ? "RFC 7208 §6.1" : "RFC 7208 §5.2"))
                case .lookupFailed(.cnameLoop):
                    findings.append(Finding(
                        "spf.cname-loop", .failure, subject: subject,
                        message: "the TXT lookup of \(child.domain), named by \(place), runs into a CNAME loop",
                        evidence: child.answer?.evidence ?? [], remedy: "Remove \(what), or fix the CNAME records of \(child.domain).",
                        reference: "RFC 1034 §3.6.2, RFC 7208 §4.4"))
                case .lookupFailed(let outcome):
                    findings.append(Finding(
                        "spf.target-lookup-failed", .inconclusive, subject: subject,
                        message: "could not fetch the SPF record of \(child.domain), named by \(place): \(outcome.summary)",
                        evidence: child.answer?.evidence ?? [],
                        remedy: "Run the audit again; if it persists, check the name servers of \(child.domain).",
                        reference: "RFC 7208 §5.2"))
                case .loop:
                    findings.append(Finding(
                        "spf.include-loop", .failure, subject: subject,
                        message: "\(place) leads back to \(child.domain), which is already being evaluated: a loop",
                        evidence: [child.term], remedy: "Remove the include or redirect that closes the loop.",
                        reference: "RFC 7208 §4.6.4, §5.2"))
                case .multiple(let texts):
                    findings.append(Finding(
                        "spf.target-invalid", .failure, subject: subject,
                        message: "\(child.domain), named by \(place), publishes \(texts.count) SPF records: permerror",
                        evidence: texts, remedy: "Ask the owner of \(child.domain) to merge them.", reference: "RFC 7208 §4.5"))
                case .invalid(let error, let text):
                    var finding = syntaxFinding(error, text: text, subject: subject, context: "the SPF record of \(child.domain), named by \(place),")
                    finding.id = "spf.target-invalid"
                    findings.append(finding)
                case .notFollowed(let reason):
                    // A hostile tree can hold thousands: the first few are named, the rest counted.
                    notFollowed += 1
                    guard notFollowed <= maximumNotFollowedFindings else { continue }
                    findings.append(Finding(
                        "spf.target-not-followed", .info, subject: subject,
                        message: "\(place) was not followed: \(reason); its cost below is unknown",
                        evidence: [child.term], reference: "RFC 7208 §7"))
                }
            }
        }
        visit(tree)
        let skippedTerms = tree.allNodes.flatMap { node in node.termsNotLookedUp.map { "\($0) (in \(node.domain))" } }
        if notFollowed > maximumNotFollowedFindings || !skippedTerms.isEmpty || !tree.isComplete {
            findings.append(Finding(
                "spf.tree-not-followed", .info, subject: .domain(tree.domain),
                message: "the audit stopped following the SPF tree of \(tree.domain) at its caps (\(SPFTreeLookup.maximumRecords) records, "
                    + "\(SPFTreeLookup.maximumTermsPerRecord) DNS terms per record, \(SPFTreeLookup.maximumTermLookups) in all): "
                    + "\(notFollowed) include\(notFollowed == 1 ? "" : "s") or redirect\(notFollowed == 1 ? "" : "s") and \(skippedTerms.count) term\(skippedTerms.count == 1 ? "" : "s") "
                    + "were not looked up, so its lookup counts are lower bounds",
                evidence: MXRules.sample(skippedTerms),
                remedy: "Keep the SPF tree within the limits of RFC 7208 §4.6.4: at most 10 DNS-querying terms in all.",
                reference: "RFC 7208 §4.6.4, §11.1"))
        }
        return findings
    }

    /// At most this many `spf.target-not-followed` findings per tree; the rest are counted in
    /// `spf.tree-not-followed`.
    static let maximumNotFollowedFindings = 10

    // MARK: What the record authorises

    private static func rangeFindings(_ tree: SPFNode) -> [Finding] {
        var lines: [String] = []
        func collect(_ node: SPFNode, via: String, outer: SPFQualifier?) {
            guard let record = node.record else { return }
            var lookups = node.termLookups.makeIterator()
            var nextLookup = lookups.next()
            for directive in record.directives {
                // Inside an include only "pass" terms make the include match; the include's
                // own qualifier then decides (RFC 7208 §5.2).
                let effective = outer == nil ? directive.qualifier : (directive.qualifier == .pass ? outer : nil)
                var lookup: SPFTermLookup?
                if let candidate = nextLookup, candidate.term == directive.description {
                    lookup = candidate
                    nextLookup = lookups.next()
                }
                guard effective == .pass else { continue }
                switch directive.mechanism {
                case .ip4(let address, let length): lines.append("\(address)/\(length ?? 32)  \(via)")
                case .ip6(let address, let length): lines.append("\(address)/\(length ?? 128)  \(via)")
                case .a(_, let cidr):
                    for address in (lookup?.answers ?? []).flatMap(\.records).compactMap(\.address) {
                        lines.append("\(address)/\(cidr.length(for: address))  \(via) (\(directive))")
                    }
                case .mx(_, let cidr):
                    for address in (lookup?.hostAnswers ?? []).flatMap(\.records).compactMap(\.address) {
                        lines.append("\(address)/\(cidr.length(for: address))  \(via) (\(directive))")
                    }
                default: break
                }
            }
            for child in node.children where child.record != nil {
                switch child.link {
                case .include(let qualifier):
                    let childOuter = outer == nil ? qualifier : (qualifier == .pass ? outer : nil)
                    if childOuter == .pass { collect(child, via: "via \(child.term)", outer: .pass) }
                case .redirect: collect(child, via: "via redirect to \(child.domain)", outer: outer)
                case .root: break
                }
            }
        }
        collect(tree, via: "in the record itself", outer: nil)
        guard !lines.isEmpty else { return [] }
        return [Finding(
            "spf.authorised-ranges", .info, subject: .domain(tree.domain),
            message: "the SPF record of \(tree.domain) authorises \(lines.count) address range\(lines.count == 1 ? "" : "s")",
            evidence: lines, reference: "RFC 7208 §5")]
    }

    // MARK: Sending addresses

    /// The verdict for one sending address (`--ip`), from a real check_host() evaluation.
    public static func senderFinding(_ evaluation: SPFEvaluation, ip: IPAddress) -> Finding {
        let domain = evaluation.domain.description
        let evidence = evaluation.decidingSteps.map(\.description)
            + (evaluation.explanation.map { ["explanation: \($0)"] } ?? [])
        let base = "check_host(\(ip), \(domain)) = \(evaluation.result)"
        switch evaluation.result {
        case .pass:
            return Finding("spf.sender-pass", .pass, subject: FindingSubject(address: ip.description),
                           message: "\(base): \(ip) may send mail for \(domain)", evidence: evidence, reference: "RFC 7208 §8.3")
        case .temperror:
            return Finding("spf.sender-temperror", .inconclusive, subject: FindingSubject(address: ip.description),
                           message: "\(base): a DNS lookup failed, so the check could not be done"
                               + (evaluation.problem.map { " (\($0))" } ?? ""),
                           evidence: evidence, remedy: "Run the audit again.", reference: "RFC 7208 §8.6")
        case .fail, .permerror, .softfail, .neutral, .none:
            let severe = evaluation.result == .fail || evaluation.result == .permerror
            return Finding("spf.sender-not-authorised", severe ? .failure : .warning, subject: FindingSubject(address: ip.description),
                           message: "\(base): \(ip) is not authorised to send mail for \(domain)"
                               + (evaluation.problem.map { " (\($0))" } ?? ""),
                           evidence: evidence,
                           remedy: ip.isIPv6 ? "If \(ip) sends for \(domain), add \"ip6:\(ip)\" to its SPF record."
                               : "If \(ip) sends for \(domain), add \"ip4:\(ip)\" to its SPF record.",
                           reference: "RFC 7208 §8")
        }
    }
}
