import Foundation
import MailAudit
import MailAuditDNS
import MailAuditTesting
import Testing

/// One malformed or hostile reply, written from the query's bytes.
struct HostileDNSCase: Sendable, CustomTestStringConvertible {
    /// What the report may conclude from the case.
    enum Verdicts: Sendable {
        /// Nothing was answered properly: inconclusive, never a failure, never "absent".
        case inconclusiveOnly
        /// The answers show a broken domain (a CNAME loop): failures allowed, never "absent".
        case failuresAllowed
        /// The answers are valid DNS and may prove anything; only the ceilings and the terminal hold.
        case any
    }

    let name: String
    var verdicts = Verdicts.inconclusiveOnly
    let reply: @Sendable (HostileDNSServer.Query) -> HostileDNSServer.Response
    var testDescription: String { name }

    /// The query's ID, QR and RD set, the question copied, then `counts` and `tail`.
    static func raw(_ query: HostileDNSServer.Query, answers: UInt16 = 1, questions: UInt16 = 1, tail: [UInt8])
        -> HostileDNSServer.Response
    {
        var out = Array(query.bytes.prefix(2))
        out += [0x85, 0x80]
        DNSWire.append(questions, to: &out)
        DNSWire.append(answers, to: &out)
        DNSWire.append(0, to: &out)
        DNSWire.append(0, to: &out)
        out += query.bytes.dropFirst(12).prefix(HostileDNSReply.questionLength(of: query.bytes))
        return .message(out + tail)
    }

    /// An answer record owned by the question (a pointer to offset 12), with this type and rdata.
    static func record(type: UInt16, rdlength: UInt16? = nil, rdata: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0xC0, 12]
        DNSWire.append(type, to: &out)
        DNSWire.append(1, to: &out)
        out += [0, 0, 1, 44]
        DNSWire.append(rdlength ?? UInt16(rdata.count), to: &out)
        return out + rdata
    }

    static var all: [HostileDNSCase] {
        @Sendable func type(_ query: HostileDNSServer.Query) -> UInt16 { query.question.type.rawValue }
        return [
            HostileDNSCase(name: "silence") { _ in .silence },
            HostileDNSCase(name: "an empty datagram") { _ in .message([]) },
            HostileDNSCase(name: "five bytes") { query in .message(Array(query.bytes.prefix(5))) },
            HostileDNSCase(name: "a header that promises answers it does not hold") { query in
                raw(query, answers: 40, tail: [])
            },
            HostileDNSCase(name: "65,535 answers promised, one sent") { query in
                raw(query, answers: 0xFFFF, tail: record(type: type(query), rdata: [0, 10, 0]))
            },
            HostileDNSCase(name: "the wrong ID") { query in
                var bytes = HostileDNSReply(to: query, answers: [.a(query.question.name, [192, 0, 2, 1])]).bytes
                bytes[0] ^= 0xFF
                return .message(bytes)
            },
            HostileDNSCase(name: "another question") { query in
                var other = query
                other.question = DNSQuestion(DomainName(labels: ["elsewhere", "test"]), query.question.type)
                return .message(HostileDNSReply(to: other, answers: [.a(other.question.name, [192, 0, 2, 1])]).bytes)
            },
            HostileDNSCase(name: "a message that is a query, not a reply") { query in .message(query.bytes) },
            HostileDNSCase(name: "a compression pointer to itself") { query in
                let offset = 12 + HostileDNSReply.questionLength(of: query.bytes)
                return raw(query, tail: [0xC0 | UInt8(offset >> 8), UInt8(offset & 0xFF)] + Array(record(type: type(query), rdata: []).dropFirst(2)))
            },
            HostileDNSCase(name: "two compression pointers to each other in the rdata") { query in
                let rdataStart = 12 + HostileDNSReply.questionLength(of: query.bytes) + 12
                let loop: [UInt8] = [0, 10, 0xC0, UInt8(rdataStart + 4), 0xC0, UInt8(rdataStart + 2)]
                return raw(query, tail: record(type: 15, rdata: loop))
            },
            HostileDNSCase(name: "a pointer past the end") { query in
                raw(query, tail: record(type: 15, rdata: [0, 10, 0xFF, 0xFF]))
            },
            HostileDNSCase(name: "a pointer into the header") { query in
                raw(query, tail: record(type: 15, rdata: [0, 10, 0xC0, 2]))
            },
            HostileDNSCase(name: "a 64-octet label") { query in
                raw(query, tail: record(type: 15, rdata: [0, 10, 64] + Array(repeating: 0x61, count: 64) + [0]))
            },
            HostileDNSCase(name: "a name over 255 octets") { query in
                let labels: [UInt8] = (0..<5).flatMap { _ in [UInt8(63)] + Array(repeating: UInt8(0x62), count: 63) }
                return raw(query, tail: record(type: 15, rdata: [0, 10] + labels + [0]))
            },
            HostileDNSCase(name: "an RDLENGTH past the end") { query in
                raw(query, tail: record(type: type(query), rdlength: 4000, rdata: [0, 10, 0]))
            },
            HostileDNSCase(name: "an A record of 5 octets") { query in
                raw(query, tail: record(type: 1, rdata: [192, 0, 2, 1, 7]))
            },
            HostileDNSCase(name: "a TXT string longer than its record") { query in
                raw(query, tail: record(type: 16, rdata: [200] + Array("v=spf1 -all".utf8)))
            },
            HostileDNSCase(name: "512 bytes of noise after a header") { query in
                var state: UInt32 = 0x9E37_79B9
                let noise = (0..<512).map { _ -> UInt8 in
                    state ^= state << 13; state ^= state >> 17; state ^= state << 5
                    return UInt8(truncatingIfNeeded: state)
                }
                return raw(query, answers: 3, tail: noise)
            },
            HostileDNSCase(name: "SERVFAIL") { query in .message(HostileDNSReply(to: query, rcode: 2).bytes) },
            HostileDNSCase(name: "REFUSED") { query in .message(HostileDNSReply(to: query, rcode: 5).bytes) },
            HostileDNSCase(name: "an unassigned RCODE") { query in .message(HostileDNSReply(to: query, rcode: 12).bytes) },
            HostileDNSCase(name: "no question section") { query in raw(query, answers: 0, questions: 0, tail: []) },
            HostileDNSCase(name: "TC set over UDP, silence over TCP") { query in
                query.overTCP ? .silence : .message(HostileDNSReply(to: query, truncated: true).bytes)
            },
            HostileDNSCase(name: "a 64 KB reply over TCP of escape sequences", verdicts: .any) { query in
                guard query.overTCP else { return .message(HostileDNSReply(to: query, truncated: true).bytes) }
                let text = String(repeating: "\u{1B}[2J\u{07}\u{9B}31m", count: 40)
                return .message(HostileDNSReply(to: query, answers: Array(repeating: .txt(query.question.name, text), count: 200)).bytes)
            },
            HostileDNSCase(name: "a CNAME to itself, 500 times", verdicts: .failuresAllowed) { query in
                .message(HostileDNSReply(to: query, answers: Array(repeating: .cname(query.question.name, query.question.name), count: 500)).bytes)
            },
        ]
    }
}

/// The hostile DNS corpus through a whole audit (MX, SPF, DMARC): every case ends within a
/// time ceiling and a memory ceiling, nothing in the report claims a record is absent, and the
/// text report holds no control character from the wire.
@Suite(.serialized, .tags(.hostile), .timeLimit(.minutes(3)))
struct HostileDNSCorpusTests {
    @Test(arguments: HostileDNSCase.all)
    func aHostileServerGetsAnHonestInconclusive(_ hostile: HostileDNSCase) async throws {
        let server = HostileDNSServer(script: hostile.reply)
        try await server.start()
        defer { Task { await server.stop() } }
        let nameserver = Nameserver(address: .v4([127, 0, 0, 1]), port: Int(try server.requirePort()))
        var options = AuditOptions()
        options.checks = [.mx, .spf, .dmarc]
        options.deadline = .seconds(6)
        options.allowPrivateAddresses = true
        let resolver = DNSClient.make(nameservers: [nameserver], timeout: .seconds(1), attempts: 2)
        let before = residentBytes()
        let started = ContinuousClock.now
        let report = await Audit.run([try name("hostile.test")], options: options, resolver: resolver, resolverNames: ["hostile"])
        let elapsed = ContinuousClock.now - started
        // Ceilings for a loaded machine, well above the 6 s deadline: a bounded run, not a speed claim.
        #expect(elapsed < .seconds(20), "\(hostile.name): took \(elapsed)")
        #expect(residentBytes() - before < 200 << 20, "\(hostile.name): grew by \((residentBytes() - before) >> 20) MB")
        let findings = try #require(report.domains.first).findings
        let ids = Set(findings.map(\.id.rawValue))
        if hostile.verdicts != .any {
            for absent in ["mx.no-mail-route", "mx.null-mx", "spf.none", "dmarc.none"] {
                #expect(!ids.contains(absent), "\(hostile.name): \(absent) from a server that never answered properly")
            }
        }
        if hostile.verdicts == .inconclusiveOnly {
            #expect(!findings.contains { $0.severity == .failure }, "\(hostile.name): \(findings.filter { $0.severity == .failure }.map(\.id))")
            #expect(findings.contains { $0.severity == .inconclusive }, "\(hostile.name): \(ids.sorted())")
        }
        let text = TextRenderer(color: false, verbose: true).render(report)
        let control = text.unicodeScalars.first { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) }
        #expect(control == nil, "\(hostile.name): U+\(String(control?.value ?? 0, radix: 16)) in the text report")
    }
}
