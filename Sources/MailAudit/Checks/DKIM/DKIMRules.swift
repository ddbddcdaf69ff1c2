public import MailAuditCore
import MailAuditRecords
public import MailAuditTLS

/// DKIM verdicts: pure functions of what ``DKIMLookup`` fetched and OpenSSL decoded
/// (RFC 6376, RFC 8301, RFC 8463).
public enum DKIMRules {
    /// RSA keys shorter than this are not valid for verifiers (RFC 8301 §3.2).
    public static let minimumRSABits = 1024
    /// RSA keys should be at least this long (RFC 8301 §3.2).
    public static let recommendedRSABits = 2048

    /// The summary of what was tried and found, any failed lookups, then each selector's findings.
    public static func findings(for result: DKIMResult) -> [Finding] {
        var findings = [summary(result)].compactMap { $0 }
        let failed = result.selectors.filter { if case .lookupFailed = $0.content { true } else { false } }
        if !failed.isEmpty {
            findings.append(Finding(
                "dkim.lookup-failed", .inconclusive, subject: .domain(result.domain),
                message: "could not look up \(failed.count == 1 ? "the DKIM selector" : "\(failed.count) DKIM selectors") \(failed.map(\.selector).joined(separator: ", ")) of \(result.domain): whether keys are published there is unknown",
                evidence: failed.flatMap { $0.answer?.evidence ?? [] },
                remedy: "Run the audit again; if it persists, check the domain's name servers.",
                reference: "RFC 6376 §3.6.2"))
        }
        for selector in result.selectors {
            findings += selectorFindings(selector, explicit: result.explicit)
        }
        if let none = noUsableKey(result) { findings.append(none) }
        return findings
    }

    /// The selectors the user named hold no key a verifier can use (missing, revoked, broken or
    /// unusable), so the domain's mail cannot carry a DKIM signature that passes. A revoked old
    /// selector on its own stays `dkim.key-revoked` (info); this is the domain-wide warning.
    /// Nil under discovery, when a lookup failed, when nothing is published, or when a usable key exists.
    static func noUsableKey(_ result: DKIMResult) -> Finding? {
        // When nothing is published at any of them, dkim.selector-missing already says so.
        guard result.explicit, result.isComplete, result.skipped == nil, result.selectors.contains(where: \.isFound),
              result.usableKeys.isEmpty else { return nil }
        let named = result.selectors.map(\.selector)
        let which = named.count == 1 ? "the selector \(named[0]) of \(result.domain) holds" : "the selectors \(named.joined(separator: ", ")) of \(result.domain) hold"
        return Finding(
            "dkim.no-usable-key", .warning, subject: .domain(result.domain),
            message: "\(which) no DKIM key verifiers can use, so \(result.domain) cannot sign mail with \(named.count == 1 ? "it" : "them"): signatures fail, or none are made",
            evidence: result.selectors.map { "\($0.selector): \(state(of: $0))" },
            remedy: "Generate a 2048-bit key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048), publish its public half at <selector>._domainkey.\(result.domain) and sign with it.",
            reference: "RFC 6376 §3.6.1, RFC 8301 §3.2")
    }

    private static func state(of selector: DKIMSelectorResult) -> String {
        switch selector.content {
        case .key(_, _, .revoked): "revoked (empty p=)"
        case .key(_, _, .undecodable(let error)): "does not decode (\(error))"
        case .key(_, _, .decoded(let facts)): "\(facts.summary), not usable"
        case .notFound, .invalidSelector: "no key record"
        case .invalid: "invalid record"
        case .multiple: "several records"
        case .cnameLoop: "CNAME loop"
        case .lookupFailed(let outcome): outcome.summary
        }
    }

    /// What was tried and what was found. Never "no DKIM": selectors cannot be listed from DNS.
    private static func summary(_ result: DKIMResult) -> Finding? {
        let domain = result.domain
        if let skipped = result.skipped {
            return Finding(
                "dkim.no-key-found", .info, subject: .domain(domain),
                message: "no DKIM key can be published for \(domain): \(skipped)",
                evidence: [skipped],
                remedy: "If your mail is DKIM-signed, publish its key at <selector>._domainkey.\(domain) (the s= tag of its DKIM-Signature header names the selector).",
                reference: "RFC 6376 §3.6.2.1, RFC 8020 §2")
        }
        let tried = result.selectors.map(\.selector)
        let found = result.found
        let notFound = result.selectors.filter { if case .notFound = $0.content { true } else { false } }.map(\.selector)
        var evidence = ["tried \(tried.count) selector\(tried.count == 1 ? "" : "s"): \(tried.joined(separator: ", "))"]
        if !found.isEmpty { evidence.append("found: " + found.map(describe).joined(separator: ", ")) }
        if !notFound.isEmpty { evidence.append("not found: " + notFound.joined(separator: ", ")) }
        let wildcard = result.selectors.contains { if case .notFound(let texts) = $0.content { !texts.isEmpty } else { false } }
        if wildcard { evidence.append("some selector names answer with TXT records that are not DKIM keys (a wildcard record?)") }
        if found.isEmpty {
            guard !result.explicit, result.isComplete else { return nil }
            return Finding(
                "dkim.no-key-found", .info, subject: .domain(domain),
                message: "no DKIM key found at any of the \(tried.count) common selectors tried; selectors cannot be listed from DNS, so this does not mean \(domain) does not sign its mail",
                evidence: evidence,
                remedy: "Give the selector your mail is signed with (the s= tag of its DKIM-Signature header) with --selector NAME.",
                reference: "RFC 6376 §3.1")
        }
        return Finding(
            "dkim.selectors", .info, subject: .domain(domain),
            message: "DKIM key records of \(domain) found at \(found.map(describe).joined(separator: ", ")): \(result.usableKeys.count) usable key\(result.usableKeys.count == 1 ? "" : "s") (\(tried.count) selector\(tried.count == 1 ? "" : "s") tried)",
            evidence: evidence, reference: "RFC 6376 §3.1, §3.6.2",
            facts: ["selectors": .list(found.map(\.selector).sorted())])
    }

    private static func describe(_ selector: DKIMSelectorResult) -> String {
        selector.selector + (selector.cnameTarget.map { " (CNAME to \($0))" } ?? "")
    }

    /// The findings for one selector's record.
    public static func selectorFindings(_ selector: DKIMSelectorResult, explicit: Bool) -> [Finding] {
        let subject = FindingSubject(selector: selector.selector, record: selector.name?.description)
        let evidence = selector.answer?.evidence ?? []
        let via = selector.cnameTarget.map { " (published as a CNAME to \($0))" } ?? ""
        switch selector.content {
        case .notFound:
            guard explicit else { return [] }
            return [Finding(
                "dkim.selector-missing", .failure, subject: subject,
                message: "no DKIM key is published for the selector \"\(selector.selector)\" at \(subject)",
                evidence: evidence,
                remedy: "Publish the key at \(subject), or check the selector in the s= tag of your mail's DKIM-Signature header.",
                reference: "RFC 6376 §3.6.2.1")]
        case .invalidSelector:
            return [Finding(
                "dkim.selector-missing", .failure, subject: subject,
                message: "\"\(selector.selector)\" is not a valid DKIM selector: it must be DNS labels (letters, digits, hyphens, underscores) separated by dots",
                remedy: "Check the selector in the s= tag of your mail's DKIM-Signature header.", reference: "RFC 6376 §3.1")]
        case .lookupFailed:
            return []
        case .cnameLoop:
            return [Finding(
                "dkim.selector-cname-loop", .failure, subject: subject,
                message: "the DKIM selector \(subject) is a CNAME that loops, so verifiers find no key",
                evidence: evidence, remedy: "Point the CNAME at the provider's key record, or publish the key itself.",
                reference: "RFC 1034 §3.6.2")]
        case .multiple(let texts):
            return [Finding(
                "dkim.multiple-records", .warning, subject: subject,
                message: "\(subject)\(via) has \(texts.count) DKIM key records; verifiers may use any one of them, so signatures fail at random",
                evidence: texts, remedy: "Keep one key record per selector; use a new selector for a new key.",
                reference: "RFC 6376 §6.1.2")]
        case .invalid(let error, let text):
            let id: FindingID = error.reason == .badBase64 ? "dkim.bad-key" : "dkim.syntax-error"
            return [Finding(
                id, .failure, subject: subject,
                message: "the DKIM key record at \(subject)\(via) is invalid, so signatures made with it fail: \(error)",
                evidence: [text, String(repeating: " ", count: max(0, error.offset)) + "^"],
                remedy: "Publish the record again as v=DKIM1; k=rsa; p=<the base64 public key>, split into strings of at most 255 characters.",
                reference: "RFC 6376 §3.6.1")]
        case .key(let record, let text, let key):
            return keyFindings(record, text: text, key: key, subject: subject, via: via, evidence: evidence)
        }
    }

    private static func keyFindings(
        _ record: DKIMKeyRecord, text: String, key: DKIMKeyOutcome, subject: FindingSubject, via: String, evidence: [String]
    ) -> [Finding] {
        var findings: [Finding] = []
        let newKey = "Generate a 2048-bit key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048), publish it under a new selector, sign with it, then revoke this one by publishing p= empty."
        switch key {
        case .revoked:
            findings.append(Finding(
                "dkim.key-revoked", .info, subject: subject,
                message: "the DKIM key at \(subject)\(via) is revoked (empty p=): signatures with this selector fail",
                evidence: [text], reference: "RFC 6376 §3.6.1"))
        case .undecodable(.oversized(let count)):
            findings.append(Finding(
                "dkim.key-too-long", .failure, subject: subject,
                message: "the DKIM key at \(subject)\(via) is an RSA key of \(count) bytes, far over \(DKIMPublicKey.maximumRSABits) bits: OpenSSL, which most verifiers use, refuses such keys, so every signature made with it fails",
                evidence: [text], remedy: newKey, reference: "RFC 8301 §3.2"))
        case .undecodable(let error):
            if case .unknownKeyType(let type) = error {
                findings.append(Finding(
                    "dkim.unknown-key-type", .failure, subject: subject,
                    message: "the DKIM key at \(subject)\(via) has k=\(type), which verifiers do not know, so they ignore the key",
                    evidence: [text], remedy: "Use k=rsa (the default) or k=ed25519 with a key of that type.",
                    reference: "RFC 6376 §3.6.1, RFC 8463"))
            } else {
                findings.append(Finding(
                    "dkim.bad-key", .failure, subject: subject,
                    message: "the DKIM key at \(subject)\(via) does not decode: \(error); signatures with this selector fail",
                    evidence: [text],
                    remedy: record.effectiveKeyType == "ed25519"
                        ? "Publish the raw 32-byte Ed25519 public key in base64 (RFC 8463 §4.2)."
                        : "Publish the public key in base64 DER (openssl pkey -in key.pem -pubout -outform DER | base64 -w0).",
                    reference: record.effectiveKeyType == "ed25519" ? "RFC 8463 §4.2" : "RFC 6376 §3.6.1"))
            }
        case .decoded(let facts):
            let described = "an \(facts.summary) key" + (facts.encoding == .pkcs1 ? " (a bare PKCS#1 RSAPublicKey)" : "")
            if facts.algorithm == .rsa && facts.bits > DKIMPublicKey.maximumRSABits {
                findings.append(Finding(
                    "dkim.key-too-long", .failure, subject: subject,
                    message: "the DKIM key at \(subject)\(via) is \(described): OpenSSL, which most verifiers use, refuses RSA keys over \(DKIMPublicKey.maximumRSABits) bits, so every signature made with it fails",
                    evidence: [text], remedy: newKey, reference: "RFC 8301 §3.2"))
            } else if let exponent = facts.rsaExponent, let problem = exponentProblem(exponent, modulusBits: facts.bits) {
                findings.append(Finding(
                    "dkim.key-bad-exponent", .failure, subject: subject,
                    message: "the DKIM key at \(subject)\(via) is \(described) with the public exponent e=\(exponent): \(problem)",
                    evidence: [text], remedy: newKey, reference: "RFC 8017 §3.1"))
            } else if facts.algorithm == .rsa && facts.bits < minimumRSABits {
                findings.append(Finding(
                    "dkim.key-too-short", .failure, subject: subject,
                    message: "the DKIM key at \(subject)\(via) is \(described): verifiers must not accept RSA keys under \(minimumRSABits) bits, so its signatures count as invalid",
                    evidence: [text], remedy: newKey, reference: "RFC 8301 §3.2"))
            } else if facts.algorithm == .rsa && facts.bits < recommendedRSABits {
                findings.append(Finding(
                    "dkim.key-weak", .warning, subject: subject,
                    message: "the DKIM key at \(subject)\(via) is \(described); keys should be at least \(recommendedRSABits) bits",
                    evidence: [text], remedy: newKey, reference: "RFC 8301 §3.2"))
            } else {
                findings.append(Finding(
                    "dkim.key", .pass, subject: subject,
                    message: "\(subject)\(via) publishes \(described)",
                    evidence: evidence, reference: facts.algorithm == .ed25519 ? "RFC 8463 §4.2" : "RFC 8301 §3.2",
                    facts: ["key": .text(facts.summary), "keyBits": .int(facts.bits)]))
            }
        }
        if record.isTesting {
            findings.append(Finding(
                "dkim.testing", .warning, subject: subject,
                message: "the DKIM key at \(subject)\(via) has t=y: the domain says it is testing DKIM, and verifiers may treat its signatures as unsigned mail",
                evidence: [text], remedy: "Once signing works, publish the record again without t=y.",
                reference: "RFC 6376 §3.6.1"))
        }
        if !record.allowsSHA256 {
            let listed = record.hashAlgorithms?.joined(separator: ":") ?? ""
            findings.append(Finding(
                "dkim.sha1-only", .failure, subject: subject,
                message: "the DKIM key at \(subject)\(via) allows only h=\(listed): rsa-sha1 must not be used, and verifiers reject it, so no signature with this key can pass",
                evidence: [text], remedy: "Remove the h= tag (or set h=sha256) and sign with rsa-sha256.",
                reference: "RFC 8301 §3.1"))
        }
        if !record.allowsEmail {
            findings.append(Finding(
                "dkim.not-for-email", .failure, subject: subject,
                message: "the DKIM key at \(subject)\(via) has s=\(record.serviceTypes?.joined(separator: ":") ?? ""), which excludes email, so verifiers ignore it for mail",
                evidence: [text], remedy: "Remove the s= tag, or set s=email.", reference: "RFC 6376 §3.6.1"))
        }
        return findings
    }

    /// Why verifiers cannot use an RSA key with this public exponent, or nil when they can.
    /// RFC 8017 §3.1 asks for an odd e from 3 up; OpenSSL refuses an e over 64 bits with a
    /// modulus over 3,072 bits (`OPENSSL_RSA_MAX_PUBEXP_BITS`, `OPENSSL_RSA_SMALL_MODULUS_BITS`).
    static func exponentProblem(_ exponent: RSAPublicExponent, modulusBits: Int) -> String? {
        if exponent.value == 1 {
            return "with e=1 a signature is the signed hash itself, so anyone can forge one and no verifier can trust it"
        }
        if !exponent.isOdd || (exponent.value ?? 3) < 3 {
            return "RSA needs an odd exponent of at least 3; no private key belongs to this one, so nothing can be signed for it"
        }
        if exponent.bits > 64 && modulusBits > 3072 {
            return "OpenSSL refuses exponents over 64 bits with moduli over 3072 bits, so every signature made with it fails"
        }
        return nil
    }

    /// True when a verifier can use the key: Ed25519, or RSA of 1,024 to 16,384 bits
    /// (RFC 8301 §3.2; OpenSSL's limit) with a usable public exponent.
    public static func isUsable(_ facts: DKIMKeyFacts) -> Bool {
        guard facts.algorithm == .rsa else { return true }
        guard (minimumRSABits...DKIMPublicKey.maximumRSABits).contains(facts.bits) else { return false }
        return facts.rsaExponent.map { exponentProblem($0, modulusBits: facts.bits) == nil } ?? true
    }

    /// Whether the private key the user holds belongs to the published key (`mailaudit dkim --private-key`).
    ///
    /// - Parameters:
    ///   - published: the selector's lookup.
    ///   - privateKey: the public half of the private key file, or why it could not be read.
    ///   - path: the file, named in the message; its contents never are.
    /// - Returns: nil when the selector's lookup failed, so nothing can be compared.
    public static func privateKeyFinding(
        published: DKIMSelectorResult, privateKey: Result<DKIMKeyFacts, DKIMKeyError>, path: String
    ) -> Finding? {
        let subject = FindingSubject(selector: published.selector, record: published.name?.description)
        let facts: DKIMKeyFacts
        switch privateKey {
        case .failure(let error):
            return Finding(
                "dkim.private-key-unreadable", .failure, subject: FindingSubject(record: path),
                message: "cannot use the private key file: \(error)",
                remedy: "Give an unencrypted PEM private key (BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY).",
                reference: "RFC 6376 §3.6.1")
        case .success(let success):
            facts = success
        }
        if case .lookupFailed = published.content { return nil }
        guard let key = published.decodedKey else {
            return Finding(
                "dkim.private-key-mismatch", .failure, subject: subject,
                message: "\(path) cannot be matched: no key that decodes is published at \(subject), so mail signed with it fails DKIM",
                evidence: ["private key: \(facts.summary)"] + (published.answer?.evidence ?? []),
                remedy: "Publish the public half of the key at \(subject): openssl pkey -in \(path) -pubout -outform DER | base64 -w0",
                reference: "RFC 6376 §3.6.1")
        }
        if key.isSameKey(as: facts) {
            return Finding(
                "dkim.private-key-match", .pass, subject: subject,
                message: "the private key in \(path) is the one published at \(subject) (\(key.summary))",
                evidence: ["published: \(key.summary)", "private key: \(facts.summary), same public half"],
                reference: "RFC 6376 §3.6.1")
        }
        return Finding(
            "dkim.private-key-mismatch", .failure, subject: subject,
            message: "the private key in \(path) does not match the key published at \(subject): mail signed with it fails DKIM",
            evidence: ["published: \(key.summary)", "private key: \(facts.summary), a different key"],
            remedy: "Publish the public half of this key at \(subject) (openssl pkey -in \(path) -pubout -outform DER | base64 -w0), or sign with the private key that belongs to the published one.",
            reference: "RFC 6376 §3.6.1")
    }
}

extension DKIMLookup {
    /// Checks that the private key in the PEM file at `path` belongs to the key published at
    /// `selector` of `domain` (`mailaudit dkim --private-key`). Returns the selector's lookup
    /// and `dkim.private-key-match`, `dkim.private-key-mismatch` or `dkim.private-key-unreadable`
    /// (nil when the lookup failed). The file is read by OpenSSL and never printed.
    public func matchPrivateKey(atPath path: String, selector: String, domain: DomainName) async -> (result: DKIMResult, match: Finding?) {
        let privateKey = Result { () throws(DKIMKeyError) -> DKIMKeyFacts in try DKIMPrivateKeyFile.publicKey(atPath: path) }
        let result = await DKIMLookup(resolver: resolver, selectors: [selector]).run(for: domain)
        guard let published = result.selectors.first else { return (result, nil) }
        return (result, DKIMRules.privateKeyFinding(published: published, privateKey: privateKey, path: path))
    }
}
