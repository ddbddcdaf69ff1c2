import MailAuditCore
import MailAuditTLS

/// MTA-STS (RFC 8461): the `_mta-sts` record, the policy fetched over verified HTTPS, and the
/// policy against the MX hosts and what the probe saw of their certificates.
struct MTASTSCheck: Check {
    var selection: AuditCheck? { .mtaSTS }

    func findings(in context: AuditContext) async -> [Finding] {
        guard await context.domainExists() else { return [] }
        let options = context.options
        let fetcher = MTASTSPolicyFetcher(https: HTTPSFetcher(context: context), options: options.mtaSTS)
        async let lookup = MTASTSLookup(resolver: context.resolver, fetcher: fetcher).run(for: context.domain)
        let routing = await context.routing()
        let result = await lookup
        let hosts = routing.hosts.map(\.name).filter { $0 != .root }
        var mx = MTASTSMXContext(hosts: hosts, hostsKnown: !routing.mxAnswer.outcome.isInconclusive)
        // The probe is waited for only when a policy asks for TLS to the MX hosts.
        if let policy = result.policy.parsedPolicy, policy.mode != .none, options.probe != nil, options.checks.contains(.probe) {
            let probes = await context.probeResults()
            var tls: [DomainName: MTASTSHostTLS] = [:]
            for host in hosts {
                let addresses = routing.hosts.first { $0.name == host }?.addresses ?? []
                let skipped = addresses.filter { !options.mayProbe($0) }
                tls[host] = skipped.count == addresses.count && !addresses.isEmpty
                    ? .notChecked("not probed: \(skipped.map(\.description).joined(separator: ", ")) not public")
                    : MTASTSMXRules.hostTLS(host, probes: probes)
            }
            mx.tls = tls
        }
        return MTASTSRules.findings(for: result, mx: mx, now: context.now)
    }
}
