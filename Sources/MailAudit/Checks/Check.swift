public import Foundation
public import MailAuditCore
public import MailAuditSMTP
import MailAuditDNS

/// One area of the audit: a small type that reads what it needs from the ``AuditContext`` and
/// returns findings. The auditor runs the enabled checks at once and keeps their findings in
/// the order of ``Auditor/checks``.
///
/// ```swift
/// struct MXCheck: Check {
///     let selection = AuditCheck.mx
///     func findings(in context: AuditContext) async -> [Finding] {
///         MXRules.findings(for: await context.routing(), allowPrivateAddresses: context.options.allowPrivateAddresses)
///     }
/// }
/// ```
public protocol Check: Sendable {
    /// The `--checks` name that turns this check on; nil for checks that always run.
    var selection: AuditCheck? { get }
    func findings(in context: AuditContext) async -> [Finding]
}

/// What the checks of one domain share: the resolver, the options, the clock, the deadline and
/// the trust store, and the results more than one check reads (MX routing, reverse DNS of the
/// mail hosts, the SPF tree, the DKIM and DMARC results, the probe results). Each shared result is looked
/// up once, when a check first asks for it; a check never reads another check's internals.
public final class AuditContext: Sendable {
    public let domain: DomainName
    public let resolver: any Resolver
    public let options: AuditOptions
    /// The instant certificates are judged at.
    public let now: Date
    let prober: ProbeRunner?
    let validator: DNSSECValidator?

    private let routingResult: Shared<MailRouting>
    private let exists: Shared<Bool>
    private let hostReverse: Shared<[ReverseDNSResult]>
    private let spf: Shared<SPFNode>
    private let dkimResult: Shared<DKIMResult?>
    private let dmarcResult: Shared<DMARCResult?>
    private let probed: Shared<[(ProbeTarget, ProbeResult)]>

    init(domain: DomainName, resolver: any Resolver, options: AuditOptions, prober: ProbeRunner?, validator: DNSSECValidator? = nil) {
        self.domain = domain
        self.resolver = resolver
        self.options = options
        self.prober = prober
        self.validator = validator
        now = options.probe?.verificationTime ?? options.now ?? Date()
        routingResult = Shared { await MailRoutingLookup(resolver: resolver).run(for: domain) }
        // NXDOMAIN for the MX question means nothing exists at or below the name (RFC 8020).
        exists = Shared { await resolver.resolve(domain, .mx).outcome != .nxDomain }
        spf = Shared { await SPFTreeLookup(resolver: resolver).run(for: domain) }
        let selectors = options.dkimSelectors
        let existence = exists
        dkimResult = Shared {
            guard await existence.value() else { return nil }
            return await DKIMLookup(resolver: resolver, selectors: selectors).run(for: domain)
        }
        dmarcResult = Shared {
            guard await existence.value() else { return nil }
            return await DMARCLookup(resolver: resolver).run(for: domain)
        }
        let routing = routingResult
        hostReverse = Shared {
            let addresses = await routing.value().addresses.map { ($0.address, AddressRole.mailHost($0.host.name)) }
            return await ReverseDNSLookup(resolver: resolver).run(addresses)
        }
        probed = Shared { [options] in
            guard let prober, options.checks.contains(.probe) else { return [] }
            let targets = await routing.value().probeTargets.filter { options.mayProbe($0.address) }
            return await prober.probeAll(targets)
        }
    }

    /// The deadline of the whole audit, when one is set.
    public var deadline: ContinuousClock.Instant? { AuditDeadline.end }
    /// The PEM file of trusted roots for the probe and the HTTPS fetches (`--ca-file`); nil means the system's.
    public var trustStore: String? { options.probe?.caFile ?? options.mtaSTS.caFile }

    /// The MX hosts, their addresses and the probe targets.
    public func routing() async -> MailRouting { await routingResult.value() }
    /// False when the domain's MX question got NXDOMAIN: it has no keys or policy of its own.
    public func domainExists() async -> Bool { await exists.value() }
    /// Reverse DNS of every MX address.
    public func mailHostReverseDNS() async -> [ReverseDNSResult] { await hostReverse.value() }
    /// The SPF record and every record it includes.
    public func spfTree() async -> SPFNode { await spf.value() }
    /// How DNSSEC is judged in this run, for evidence; nil when it is not.
    public var dnssecMethod: String? {
        if options.trustResolverAD { return "DNSSEC status: the AD bit of the resolver, trusted as validating (--trust-resolver-ad)" }
        return validator.map { "DNSSEC status: validated by mailaudit from the trust anchor \($0.anchors.source)" }
    }

    /// The answer with its DNSSEC status as this run judges it (the resolver's AD bit, or
    /// mailaudit's own validation), and the validation steps as evidence.
    public func judged(_ answer: DNSAnswer) async -> (answer: DNSAnswer, trail: [String]) {
        guard !options.trustResolverAD, let validator else { return (answer, []) }
        var judged = answer
        let validation = await validator.validate(answer)
        judged.dnssec = validation.status
        return (judged, validation.trail)
    }

    /// The DKIM selectors found; nil when the domain does not exist.
    public func dkim() async -> DKIMResult? { await dkimResult.value() }
    /// The DMARC tree walk and report destinations; nil when the domain does not exist.
    public func dmarc() async -> DMARCResult? { await dmarcResult.value() }
    /// Each probed MX address and its result (empty without the probe).
    public func probeResults() async -> [(ProbeTarget, ProbeResult)] { await probed.value() }
}

/// A value computed once, by the first caller, for every caller. Its task is cancelled when a
/// waiting caller is (the audit's deadline cancels them all together).
final class Shared<Value: Sendable>: Sendable {
    private let work: @Sendable () async -> Value
    private let task = Locked<Task<Value, Never>?>(nil)

    init(_ work: @escaping @Sendable () async -> Value) { self.work = work }

    func value() async -> Value {
        let running = task.withLock { task in
            if let task { return task }
            let started = Task { await work() }
            task = started
            return started
        }
        return await withTaskCancellationHandler {
            await running.value
        } onCancel: {
            running.cancel()
        }
    }
}
