import ArgumentParser
import Foundation
import MailAudit
import MailAuditDNS

/// The DNS options every command shares.
struct DNSOptions: ParsableArguments {
    @Option(name: .customLong("resolver"), help: "A DNS server to ask, as IP[:PORT] or [IPv6]:PORT. Repeatable. Default: /etc/resolv.conf.")
    var resolvers: [String] = []

    @Option(help: "Seconds to wait for each DNS answer before retrying (default 2, or resolv.conf's timeout:).")
    var timeout: Double?

    @Option(help: "Attempts per DNS question, rotating through the resolvers (default 3, or resolv.conf's attempts:).")
    var attempts: Int?

    @Flag(name: .customLong("trust-resolver-ad"),
          help: "The resolvers validate DNSSEC: ask for DNSSEC records and take their AD bit as proof (needed for DANE).")
    var trustResolverAD = false

    @Option(name: .customLong("trust-anchor"),
            help: "A file of DS or DNSKEY records in zone-file syntax to validate DNSSEC from (default: the root key of dns-root-data, \(TrustAnchors.debianRootKey)).")
    var trustAnchorFile: String?

    /// Every problem with these options, for the command's validate().
    var problems: [String] {
        var problems: [String] = []
        if let timeout, let problem = SecondsOption.problem("--timeout", timeout, atMost: 60) { problems.append(problem) }
        if let attempts, !(1...10).contains(attempts) { problems.append("--attempts must be between 1 and 10") }
        if trustAnchorFile != nil && trustResolverAD { problems.append("give either --trust-anchor or --trust-resolver-ad, not both") }
        if let trustAnchorFile {
            do throws(TrustAnchorError) { _ = try TrustAnchors(contentsOf: trustAnchorFile) } catch { problems.append("--trust-anchor: \(error)") }
        }
        for text in resolvers {
            do { _ = try Nameserver(parsing: text) } catch { problems.append("--resolver \"\(text)\": \(error)") }
        }
        return problems
    }

    /// The servers to ask; exits 3 when none is configured.
    func nameservers() throws -> [Nameserver] {
        do {
            return resolvers.isEmpty ? try ResolvConf.load().nameservers : try resolvers.map(Nameserver.init(parsing:))
        } catch {
            FileHandle.standardError.write(Data("mailaudit: no DNS resolver to ask: \(error)\n".utf8))
            throw ExitCode(3)
        }
    }

    /// The anchors mailaudit validates DNSSEC from: `--trust-anchor`, or else the root key when
    /// dns-root-data is installed; nil with `--trust-resolver-ad`, or when there is none.
    func trustAnchors() -> TrustAnchors? {
        guard !trustResolverAD else { return nil }
        if let trustAnchorFile { return try? TrustAnchors(contentsOf: trustAnchorFile) }
        return try? TrustAnchors(contentsOf: TrustAnchors.debianRootKey)
    }

    /// The run's resolver: one cache in front of the network client. With `validating`, it asks
    /// for the DNSSEC records that mailaudit's own validator needs.
    func resolver(_ nameservers: [Nameserver], validating: Bool = false) -> CachingResolver {
        // With the system's servers, the system's own timeout and attempts apply unless overridden.
        let system = resolvers.isEmpty ? try? ResolvConf.load() : nil
        let wait = timeout.map { Duration.milliseconds(Int($0 * 1000)) } ?? system?.timeout ?? .seconds(2)
        return DNSClient.make(nameservers: nameservers, timeout: wait, attempts: min(10, max(1, attempts ?? system?.attempts ?? 3)),
                              dnssec: trustResolverAD ? .trustResolverAD : validating ? .validate : .off)
    }
}
