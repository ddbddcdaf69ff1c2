public import MailAuditCore
public import MailAuditRecords
public import MailAuditTLS

/// Looks up DKIM key records: the selectors the user named, or else every one of
/// ``DKIMCommonSelectors``, all at once (RFC 6376 §3.6.2). Keys are decoded with OpenSSL.
///
/// ```swift
/// let result = await DKIMLookup(resolver: resolver, selectors: ["s2048"]).run(for: domain)
/// result.usableKeys.map(\.selector)   // ["s2048"]
/// result.findings                     // dkim.key, dkim.selectors, …
/// ```
public struct DKIMLookup: Sendable {
    public let resolver: any Resolver
    /// The selectors from `--selector`; empty means discovery over the common list.
    public let selectors: [String]

    public init(resolver: any Resolver, selectors: [String] = []) {
        self.resolver = resolver
        self.selectors = selectors
    }

    /// Looks up `<selector>._domainkey.<domain>` for every selector at once and decodes the keys.
    /// Never throws: failed lookups are kept in the result and reported inconclusive.
    public func run(for domain: DomainName) async -> DKIMResult {
        let explicit = !selectors.isEmpty
        var seen = Set<String>()
        let names = (explicit ? selectors : DKIMCommonSelectors.selectors).filter { seen.insert($0.lowercased()).inserted }
        if !explicit, let reason = await noSelectorTree(domain) {
            var result = DKIMResult(domain: domain, explicit: false, selectors: [])
            result.skipped = reason
            return result
        }
        let results = await withTaskGroup(of: (Int, DKIMSelectorResult).self) { group in
            for (index, selector) in names.enumerated() {
                group.addTask {
                    guard let name = DKIMSelector.recordName(selector, domain: domain) else {
                        return (index, DKIMSelectorResult(selector: selector, name: nil, answer: nil, content: .invalidSelector))
                    }
                    let answer = await resolver.resolve(name, .txt)
                    return (index, DKIMSelectorResult(selector: selector, name: name, answer: answer, explicit: explicit))
                }
            }
            var results: [(Int, DKIMSelectorResult)] = []
            for await result in group { results.append(result) }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return DKIMResult(domain: domain, explicit: explicit, selectors: results)
    }

    /// Why discovery can stop before asking for the common selectors, or nil to ask for them.
    ///
    /// Under RFC 8020 §2, NXDOMAIN for `_domainkey.<domain>` means no name exists below it, so
    /// no selector does. Some servers wrongly answer NXDOMAIN for names that only have names
    /// below them; the two most common selectors are asked at the same time, and when either
    /// exists the answer was wrong and every common selector is asked after all. Any other
    /// answer (records, NODATA, a failure) also means asking for all of them.
    func noSelectorTree(_ domain: DomainName) async -> String? {
        guard let tree = DKIMSelector.subtree(of: domain) else { return nil }
        let probes = DKIMCommonSelectors.selectors.prefix(2).compactMap { DKIMSelector.recordName($0, domain: domain) }
        async let treeAnswer = resolver.resolve(tree, .txt)
        let probeAnswers = await withTaskGroup(of: DNSAnswer.self) { group in
            for name in probes { group.addTask { await resolver.resolve(name, .txt) } }
            var answers: [DNSAnswer] = []
            for await answer in group { answers.append(answer) }
            return answers
        }
        guard await treeAnswer.outcome == .nxDomain, probeAnswers.allSatisfy({ $0.outcome == .nxDomain }) else { return nil }
        return "\(tree.fqdn) does not exist (NXDOMAIN), so no selector exists below it (RFC 8020); "
            + "\(probes.count) common selectors were asked to confirm, the other \(DKIMCommonSelectors.selectors.count - probes.count) were not"
    }
}

/// What one selector's lookup found.
public struct DKIMSelectorResult: Hashable, Sendable {
    public enum Content: Hashable, Sendable {
        /// A key record; `key` says what OpenSSL made of `p=`.
        case key(DKIMKeyRecord, text: String, key: DKIMKeyOutcome)
        /// Several key records at one name: verifiers may use any of them (RFC 6376 §6.1.2).
        case multiple([String])
        /// A record meant as a key record that does not parse.
        case invalid(DKIMParseError, text: String)
        /// NXDOMAIN or NODATA; or, during discovery, only TXT records that are not DKIM keys
        /// (a wildcard TXT record answers every name, for example).
        case notFound(otherTexts: [String])
        /// The lookup timed out or failed: nothing is known.
        case lookupFailed(DNSOutcome)
        /// The selector's name runs into a CNAME loop.
        case cnameLoop
        /// The selector cannot be part of a DNS name.
        case invalidSelector
    }

    public var selector: String
    /// `<selector>._domainkey.<domain>`; nil for an invalid selector.
    public var name: DomainName?
    public var answer: DNSAnswer?
    public var content: Content

    public init(selector: String, name: DomainName?, answer: DNSAnswer?, content: Content) {
        self.selector = selector
        self.name = name
        self.answer = answer
        self.content = content
    }

    /// Reads an answer. With `explicit` false (discovery), TXT records that do not look like DKIM
    /// key records (no `v=DKIM1`, no `p=`) count as not found.
    public init(selector: String, name: DomainName, answer: DNSAnswer, explicit: Bool) {
        self.init(selector: selector, name: name, answer: answer, content: .notFound(otherTexts: []))
        switch answer.outcome {
        case .records(let records):
            let texts = records.compactMap(\.data.joinedText)
            let keys = texts.filter(Self.looksLikeKey)
            if keys.isEmpty && !explicit {
                content = .notFound(otherTexts: texts)
            } else if keys.count > 1 {
                content = .multiple(keys)
            } else {
                let text = keys.first ?? texts.first ?? ""
                do throws(DKIMParseError) {
                    let record = try DKIMKeyRecord(parsing: text)
                    content = .key(record, text: text, key: DKIMKeyOutcome(record))
                } catch {
                    content = .invalid(error, text: text)
                }
            }
        case .cnameLoop: content = .cnameLoop
        case let outcome where outcome.isInconclusive: content = .lookupFailed(outcome)
        default: content = .notFound(otherTexts: [])
        }
    }

    /// `v=DKIM1` at the start, or a `p=` tag.
    static func looksLikeKey(_ text: String) -> Bool {
        let compact = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != " " && $0 != "\t" }))
        return compact.hasPrefix("v=DKIM1") || compact.hasPrefix("p=") || compact.contains(";p=")
    }

    /// True when something is published at the selector: a key, revoked or not, or a broken record.
    public var isFound: Bool {
        switch content {
        case .key, .multiple, .invalid, .cnameLoop: true
        case .notFound, .lookupFailed, .invalidSelector: false
        }
    }

    /// The key OpenSSL decoded, when it is one a verifier can use for mail: not an RSA key under
    /// 1024 bits (RFC 8301 §3.2) or over OpenSSL's 16,384, nor with an unusable exponent
    /// (``DKIMRules/isUsable(_:)``), sha256 allowed (RFC 8301 §3.1), email among its services.
    public var usableKey: DKIMKeyFacts? {
        guard case .key(let record, _, .decoded(let facts)) = content, record.allowsSHA256, record.allowsEmail,
              DKIMRules.isUsable(facts)
        else { return nil }
        return facts
    }

    /// The key OpenSSL decoded, usable or not.
    public var decodedKey: DKIMKeyFacts? {
        if case .key(_, _, .decoded(let facts)) = content { facts } else { nil }
    }

    /// The CNAME target when the selector is published as an alias (for example to a provider).
    public var cnameTarget: DomainName? { answer?.cnameChain.last }
}

/// What OpenSSL made of a key record's `p=`.
public enum DKIMKeyOutcome: Hashable, Sendable {
    case decoded(DKIMKeyFacts)
    /// An empty `p=` (RFC 6376 §3.6.1).
    case revoked
    /// The bytes are not a key of the record's type, or `k=` names an unknown type.
    case undecodable(DKIMKeyError)

    /// Decodes the record's `p=` for its `k=` with OpenSSL (see ``DKIMPublicKey/decode(keyType:bytes:)``).
    public init(_ record: DKIMKeyRecord) {
        if record.isRevoked {
            self = .revoked
            return
        }
        do throws(DKIMKeyError) {
            self = .decoded(try DKIMPublicKey.decode(keyType: record.effectiveKeyType, bytes: record.publicKey))
        } catch {
            self = .undecodable(error)
        }
    }
}

/// What DKIM discovery found for a domain, with the verdicts as findings.
public struct DKIMResult: Hashable, Sendable {
    public var domain: DomainName
    /// True when the selectors came from the user; false for discovery over the common list.
    public var explicit: Bool
    /// One result per selector tried, in the order tried.
    public var selectors: [DKIMSelectorResult]
    /// Why discovery stopped early (the `_domainkey` name does not exist), or nil.
    public var skipped: String?

    public init(domain: DomainName, explicit: Bool, selectors: [DKIMSelectorResult]) {
        self.domain = domain
        self.explicit = explicit
        self.selectors = selectors
    }

    /// Selectors with a key a verifier can use.
    public var usableKeys: [DKIMSelectorResult] { selectors.filter { $0.usableKey != nil } }
    /// Selectors where something is published.
    public var found: [DKIMSelectorResult] { selectors.filter(\.isFound) }
    /// False when a lookup failed, so "not found" is not known for every selector.
    public var isComplete: Bool {
        !selectors.contains { if case .lookupFailed = $0.content { true } else { false } }
    }

    /// The DKIM findings (``DKIMRules/findings(for:)``).
    public var findings: [Finding] { DKIMRules.findings(for: self) }
}
