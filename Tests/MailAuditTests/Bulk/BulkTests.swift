import Foundation
@testable import MailAudit
import MailAuditCore
import MailAuditTesting
import Testing

/// Domain lists, shards and the streaming auditor.
struct BulkTests {
    @Test(arguments: [
        ("example.com", "example.com"),
        ("  Example.COM.  ", "example.com"),
        ("bücher.example # a comment", "xn--bcher-kva.example"),
    ])
    func goodLines(text: String, domain: String) throws {
        guard case .domain(let name, let line) = DomainList.parse(Substring(text), line: 7) else {
            Issue.record("not read as a domain: \(text)")
            return
        }
        #expect(name.description == domain)
        #expect(line == 7)
    }

    @Test(arguments: ["", "   ", "# only a comment", "\t# indented comment"])
    func skippedLines(text: String) {
        #expect(DomainList.parse(Substring(text), line: 1) == .skip)
    }

    @Test(arguments: [
        ("exa mple.com", "a space inside"),
        ("-bad-.example", "a label starting with a hyphen"),
        (String(repeating: "a", count: 64) + ".example", "a label over 63 octets"),
        ("\u{1B}[31mred.example", "a control character"),
    ])
    func badLinesKeepTheirNumber(text: String, reason: String) {
        guard case .bad(let bad) = DomainList.parse(Substring(text), line: 42) else {
            Issue.record("\(reason): not reported as a bad line")
            return
        }
        #expect(bad.line == 42)
        #expect(!bad.description.contains("\u{1B}"), "no raw control characters in the message")
    }

    /// Every domain lands in exactly one shard, the same one every time.
    @Test func shardsPartitionTheList() throws {
        let names = try (0..<5_000).map { try DomainName(parsing: "d\($0).example") }
        for count in [1, 2, 3, 7, 16] {
            var seen = [Int](repeating: 0, count: count)
            for name in names {
                let shard = DomainList.shard(of: name, count: count)
                #expect((0..<count).contains(shard))
                #expect(DomainList.shard(of: name, count: count) == shard, "stable")
                seen[shard] += 1
            }
            #expect(seen.reduce(0, +) == names.count)
            if count > 1 { #expect(seen.allSatisfy { $0 > names.count / count / 2 }, "roughly even: \(seen)") }
        }
        #expect(DomainList.shard(of: try DomainName(parsing: "Example.COM"), count: 5) == DomainList.shard(of: try DomainName(parsing: "example.com"), count: 5))
    }

    /// A resolver that answers NXDOMAIN after a little work and counts how many domains have a
    /// question in flight at once.
    final class CountingResolver: Resolver, Sendable {
        private let state = Locked((inFlight: [String: Int](), maximum: 0, questions: 0))

        func resolve(_ question: DNSQuestion) async -> DNSAnswer {
            // The audited domain's own label (dN); names above it (_dmarc.example) are shared.
            let domain = question.name.labels.first { $0.hasPrefix("d") && $0.dropFirst().allSatisfy(\.isNumber) } ?? "shared"
            state.withLock { state in
                state.inFlight[domain, default: 0] += 1
                state.maximum = max(state.maximum, state.inFlight.keys.filter { $0 != "shared" }.count)
                state.questions += 1
            }
            await Task.yield()
            state.withLock { state in
                state.inFlight[domain, default: 1] -= 1
                if state.inFlight[domain] == 0 { state.inFlight[domain] = nil }
            }
            return DNSAnswer(question: question, outcome: .nxDomain)
        }

        var maximum: Int { state.withLock { $0.maximum } }
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * 4096
    }

    /// 10,000 domains stream through with at most `concurrency` in flight, every report handed
    /// on once, and memory that does not grow with the list.
    @Test func streamingKeepsMemoryFlat() async throws {
        let resolver = CountingResolver()
        var options = AuditOptions()
        options.checks = [.mx, .spf, .dmarc]
        let auditor = Auditor(resolver: resolver, options: options)
        let concurrency = 32
        let reports = Locked(0)
        func lines(_ count: Int, offset: Int) -> AsyncStream<DomainLine> {
            AsyncStream { continuation in
                for index in 0..<count {
                    continuation.yield(DomainList.parse(Substring("d\(offset + index).example"), line: index + 1))
                }
                continuation.finish()
            }
        }
        _ = await StreamingAudit(auditor: auditor, concurrency: concurrency).run(lines(2_000, offset: 0)) { _ in
            reports.withLock { $0 += 1 }
        }
        let after2000 = Self.residentBytes()
        let summary = await StreamingAudit(auditor: auditor, concurrency: concurrency).run(lines(10_000, offset: 100_000)) { _ in
            reports.withLock { $0 += 1 }
        }
        let after10000 = Self.residentBytes()
        #expect(summary.domains == 10_000)
        #expect(reports.withLock { $0 } == 12_000, "each report handed on once")
        #expect(resolver.maximum <= concurrency, "at most \(concurrency) domains in flight, saw \(resolver.maximum)")
        #expect(summary.counts.failure == 10_000, "each NXDOMAIN domain is one mx.domain-nxdomain failure")
        // Five times the domains may not cost five times the memory: allow 64 MiB of slack.
        #expect(after10000 - after2000 < 64 << 20, "resident memory grew by \((after10000 - after2000) >> 20) MiB")
    }
}
