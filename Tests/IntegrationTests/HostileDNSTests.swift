import Foundation
import MailAudit
import MailAuditCore
import MailAuditDNS
import MailAuditTesting
import Testing

extension Tag {
    /// Audits against scripted hostile servers on 127.0.0.1 (issue 12's corpus).
    @Tag static var hostile: Self
}

/// The resident set size of this process, from /proc/self/status, in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
    return kilobytes * 1024
}

/// The hostile DNS corpus: each case a scripted server, a time ceiling (the suite's time limit
/// and, where the issue names a deadline, an assertion on the wall time) and, for the
/// amplification cases, a ceiling on queries and memory.
@Suite(.serialized, .tags(.hostile), .timeLimit(.minutes(2)))
struct HostileDNSTests {
    func serve(_ script: @escaping @Sendable (HostileDNSServer.Query) -> HostileDNSServer.Response) async throws
        -> (HostileDNSServer, Nameserver)
    {
        let server = HostileDNSServer(script: script)
        try await server.start()
        return (server, Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try server.requirePort())))
    }

    /// `domain` with `count` MX hosts, mx0.`domain` upwards, each with the A records of
    /// `addresses(host)`; every other question is NXDOMAIN.
    func serveMXHosts(of domain: String, count: Int, addresses: @escaping @Sendable (Int) -> [[UInt8]]) async throws
        -> (HostileDNSServer, Nameserver)
    {
        let labels = domain.split(separator: ".").map(String.init)
        return try await serve { query in
            let name = query.question.name
            switch query.question.type {
            case .mx where name.description == domain:
                return .message(HostileDNSReply(to: query, answers: (0..<count).map {
                    .mx(name, 10, DomainName(labels: ["mx\($0)"] + labels))
                }).bytes)
            case .a where name.labels.first?.hasPrefix("mx") == true:
                let host = Int(name.labels[0].dropFirst(2)) ?? 0
                return .message(HostileDNSReply(to: query, answers: addresses(host).map { .a(name, $0) }).bytes)
            default:
                return .message(HostileDNSReply(to: query, rcode: 3).bytes)
            }
        }
    }

    func audit(_ domain: String, on server: Nameserver, checks: Set<AuditCheck>, deadline: Duration = .seconds(30),
               timeout: Duration = .seconds(2)) async throws -> DomainReport {
        var options = AuditOptions()
        options.checks = checks
        options.deadline = deadline
        options.allowPrivateAddresses = true
        let resolver = DNSClient.make(nameservers: [server], timeout: timeout, attempts: 2)
        return try #require(await Auditor(resolver: resolver, options: options).audit([try name(domain)]).first)
    }

    /// TC on the UDP reply and on the TCP reply: the answer is incomplete, never empty.
    @Test func truncatedEvenOverTCPIsInconclusive() async throws {
        let (server, nameserver) = try await serve { .message(HostileDNSReply(to: $0, truncated: true).bytes) }
        defer { Task { await server.stop() } }
        let report = try await audit("tc.test", on: nameserver, checks: [.mx, .spf, .dmarc])
        let ids = Set(report.findings.map(\.id.rawValue))
        #expect(!ids.contains("mx.no-mail-route") && !ids.contains("spf.none") && !ids.contains("dmarc.none"), "\(ids)")
        #expect(ids.contains("mx.lookup-failed"))
        let answer = await NetworkResolver(nameservers: [nameserver], timeout: .seconds(2), attempts: 1)
            .resolve(DNSQuestion(try name("tc.test"), .mx))
        #expect(answer.outcome.isInconclusive)
        #expect(answer.outcome.summary.hasPrefix("truncated even over TCP"), "\(answer.outcome.summary)")
    }

    /// A CNAME chain of `hops` hops from n0.chain.test, ending in an A record, served in one
    /// reply or hop by hop: both give the same verdict.
    @Test(arguments: [(8, true), (9, false), (100, false)])
    func cnameChainsGetOneVerdictHowEverTheyAreSent(hops: Int, followed: Bool) async throws {
        var outcomes: [DNSOutcome] = []
        for oneReply in [true, false] {
            let (server, nameserver) = try await serve { query in
                let names = (0...hops).map { DomainName(labels: ["n\($0)", "chain", "test"]) }
                guard query.question.type == .a, let start = names.firstIndex(of: query.question.name) else {
                    return .message(HostileDNSReply(to: query, rcode: 3).bytes)
                }
                var answers: [HostileDNSReply.RR] = []
                for index in start..<hops {
                    answers.append(.cname(names[index], names[index + 1]))
                    if !oneReply { break }
                }
                if oneReply || start == hops { answers.append(.a(names[hops], [192, 0, 2, 1])) }
                return .message(HostileDNSReply(to: query, answers: answers).bytes)
            }
            let answer = await DNSClient.make(nameservers: [nameserver]).resolve(DNSQuestion(DomainName(labels: ["n0", "chain", "test"]), .a))
            await server.stop()
            outcomes.append(answer.outcome)
            #expect(answer.outcome != .cnameLoop, "a chain that ends is never a loop (\(hops) hops, one reply: \(oneReply))")
            #expect(followed ? answer.records.count == 1 : answer.outcome.isCNAMEChainTooLong, "\(answer.outcome)")
        }
        #expect(outcomes[0] == outcomes[1])
    }

    /// 10 MX hosts with 4,000 A records each, under --deadline 10 (and no probe): it returns
    /// well within the deadline, follows 16 addresses a host, and says so.
    @Test func thousandsOfAddressesPerMXHostAreCapped() async throws {
        let (server, nameserver) = try await serveMXHosts(of: "many.test", count: 10) { host in
            (0..<4000).map { [100, 64 + UInt8(host), UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        }
        defer { Task { await server.stop() } }
        let before = residentBytes()
        let started = ContinuousClock.now
        let report = try await audit("many.test", on: nameserver, checks: [.mx, .rdns, .dnsbl], deadline: .seconds(10))
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(12), "took \(elapsed)")
        let capped = report.findings.filter { $0.id == "mx.addresses-not-checked" }
        #expect(capped.count == 10)
        let ptrQueries = server.questions.filter { $0.key.type == .ptr }.values.reduce(0, +)
        #expect(ptrQueries <= 10 * 16 * 2, "\(ptrQueries) PTR queries")
        #expect(residentBytes() - before < 300 << 20, "grew by \((residentBytes() - before) >> 20) MB")
    }

    /// An MX lookup that never gets an answer while other lookups do: cut by the deadline, it
    /// is "not finished by the deadline", and the resolver did answer.
    @Test func lookupsCutByTheDeadlineAreNotTimeouts() async throws {
        let (server, nameserver) = try await serve { query in
            query.question.type == .mx ? .silence : .message(HostileDNSReply(to: query, rcode: 3).bytes)
        }
        defer { Task { await server.stop() } }
        let started = ContinuousClock.now
        let report = try await audit("slow.test", on: nameserver, checks: [.mx, .spf, .dmarc], deadline: .seconds(2),
                                     timeout: .seconds(20))
        #expect(ContinuousClock.now - started < .seconds(10), "a 2 s deadline against 20 s timeouts")
        #expect(report.resolverAnswered)
        let evidence = report.findings.filter { $0.id == "mx.lookup-failed" }.flatMap(\.evidence).joined(separator: "\n")
        #expect(evidence.contains("not finished by the deadline"), "\(evidence)")
        #expect(!evidence.contains("after every retry"))
    }

    /// `_dmarc` CNAMEs that point at each other: a loop of its own, not "no DMARC record".
    @Test func aDMARCCNAMELoopIsNotNoRecord() async throws {
        let (server, nameserver) = try await serve { query in
            let first = DomainName(labels: ["_dmarc", "loop", "test"]), second = DomainName(labels: ["_dmarc2", "loop", "test"])
            switch query.question.name {
            case first: return .message(HostileDNSReply(to: query, answers: [.cname(first, second), .cname(second, first)]).bytes)
            case second: return .message(HostileDNSReply(to: query, answers: [.cname(second, first), .cname(first, second)]).bytes)
            default: return .message(HostileDNSReply(to: query).bytes)
            }
        }
        defer { Task { await server.stop() } }
        let ids = Set(try await audit("loop.test", on: nameserver, checks: [.dmarc]).findings.map(\.id.rawValue))
        #expect(ids.contains("dmarc.cname-loop"), "\(ids)")
        #expect(!ids.contains("dmarc.none"))
    }

    /// An MX record whose RDLENGTH is shorter than its name is malformed, not an MX host.
    @Test func anMXWithAShortRDLengthIsRejected() async throws {
        let (server, nameserver) = try await serve { query in
            guard query.question.type == .mx else { return .message(HostileDNSReply(to: query, rcode: 3).bytes) }
            var mx = HostileDNSReply.RR.mx(query.question.name, 10, DomainName(labels: ["mail", "short", "test"]))
            mx.rdlength = 4
            return .message(HostileDNSReply(to: query, answers: [mx]).bytes)
        }
        defer { Task { await server.stop() } }
        let ids = Set(try await audit("short.test", on: nameserver, checks: [.mx]).findings.map(\.id.rawValue))
        #expect(!ids.contains("mx.present"), "\(ids)")
        #expect(ids.contains("mx.lookup-failed"))
    }

    /// One 64 KB SPF record of `a:` terms (8,714 queries before): the tree walk stops at its
    /// caps, sends a bounded number of queries, and says where it stopped.
    @Test func aHugeSPFRecordCannotAmplifyQueries() async throws {
        let terms = (0..<3000).map { "a:t\($0).victim.test" }.joined(separator: " ")
        let (server, nameserver) = try await serve { query in
            guard query.question.name.description == "amp.test", query.question.type == .txt else {
                return .message(HostileDNSReply(to: query, rcode: 3).bytes)
            }
            return .message(HostileDNSReply(to: query, answers: [.txt(query.question.name, "v=spf1 \(terms) -all")]).bytes)
        }
        defer { Task { await server.stop() } }
        let report = try await audit("amp.test", on: nameserver, checks: [.spf])
        let victim = server.questions.filter { $0.key.name.description.hasSuffix("victim.test") }.values.reduce(0, +)
        #expect(victim <= 10 * 2 * 2, "\(victim) queries toward victim.test")
        #expect(server.queryCount < 100, "\(server.queryCount) queries in all")
        #expect(report.findings.contains { $0.id == "spf.tree-not-followed" })
    }

    /// Each record includes 10 new names: the count is "at least N", and the findings are capped.
    @Test func anSPFIncludeBombIsCountedAsALowerBound() async throws {
        let (server, nameserver) = try await serve { query in
            let labels = query.question.name.labels
            guard query.question.type == .txt, labels.count == 2, labels[1] == "bomb", let number = Int(labels[0].dropFirst()) else {
                return .message(HostileDNSReply(to: query, rcode: 3).bytes)
            }
            let includes = (1...10).map { "include:n\(number * 10 + $0).bomb" }.joined(separator: " ")
            return .message(HostileDNSReply(to: query, answers: [.txt(query.question.name, "v=spf1 \(includes) -all")]).bytes)
        }
        defer { Task { await server.stop() } }
        let report = try await audit("n0.bomb", on: nameserver, checks: [.spf])
        let tooMany = try #require(report.findings.first { $0.id == "spf.too-many-lookups" })
        #expect(tooMany.message.contains("at least"), "\(tooMany.message)")
        #expect(report.findings.filter { $0.id == "spf.target-not-followed" }.count <= 10)
        #expect(report.findings.count < 30, "\(report.findings.count) findings")
        #expect(server.queryCount <= 70)
    }

    /// 2,500 MX records: the report says how many are published and how many were followed.
    @Test func manyMXRecordsAreCountedAsPublishedAndFollowed() async throws {
        let (server, nameserver) = try await serve { query in
            guard query.question.type == .mx else { return .message(HostileDNSReply(to: query, rcode: 3).bytes) }
            return .message(HostileDNSReply(to: query, answers: (0..<2500).map {
                .mx(query.question.name, 10, DomainName(labels: ["m\($0)", "q"]))
            }).bytes)
        }
        defer { Task { await server.stop() } }
        let report = try await audit("mxmany.test", on: nameserver, checks: [.mx])
        let present = try #require(report.findings.first { $0.id == "mx.present" })
        #expect(present.message.contains("2500") && present.message.contains("30"), "\(present.message)")
        #expect(report.findings.contains { $0.id == "mx.hosts-not-checked" })
    }
}
