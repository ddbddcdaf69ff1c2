import MailAuditCore
import Testing
@testable import MailAuditDNS

@Suite struct LDNSCodecTests {
    @Test(arguments: [RRType.a, .aaaa, .mx, .txt, .cname, .tlsa, RRType(rawValue: 65280)])
    func encodedQueryDecodesToTheSameQuestion(type: RRType) throws {
        let question = DNSQuestion(try DomainName(parsing: "_dmarc.Example.com"), type)
        let wire = try LDNSCodec.encodeQuery(question, id: 0xBEEF)
        let decoded = try LDNSCodec.decodeReply(wire)
        #expect(decoded.id == 0xBEEF)
        #expect(decoded.question == question)
        #expect(decoded.isResponse == false)
        #expect(decoded.recursionDesired)
        #expect(decoded.ednsUDPSize == 1232)
        #expect(decoded.answers.isEmpty)
        // Header: ID, then RD alone among the flags (RFC 1035 §4.1.1), one question, one OPT in ADDITIONAL.
        #expect(Array(wire.prefix(12)) == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1])
    }

    @Test func encodesOddOctetsInNamesVerbatim() throws {
        let name = DomainName(labels: ["a.\u{C3}", "example", "com"])
        let wire = try LDNSCodec.encodeQuery(DNSQuestion(name, .a), id: 1)
        #expect(Array(wire[12..<17]) == [3, 0x61, 0x2E, 0xC3, 7])
        #expect(try LDNSCodec.decodeReply(wire).question?.name == name)
    }

    @Test func refusesNamesTooLongForTheWire() {
        let name = DomainName(labels: Array(repeating: String(repeating: "a", count: 63), count: 4))
        #expect(throws: CodecError.self) { try LDNSCodec.encodeQuery(DNSQuestion(name, .a), id: 1) }
        let longLabel = DomainName(labels: [String(repeating: "b", count: 64), "com"])
        #expect(throws: CodecError.self) { try LDNSCodec.encodeQuery(DNSQuestion(longLabel, .a), id: 1) }
    }

    @Test func decodesA() throws {
        let reply = try LDNSCodec.decodeReply(Wire.a)
        #expect(reply.id == 0x1234)
        #expect(reply.isResponse)
        #expect(reply.rcode == ResponseCode.noError)
        #expect(!reply.truncated && !reply.authenticData)
        #expect(reply.ednsUDPSize == nil)
        #expect(reply.question == DNSQuestion(wireName("example.com"), .a))
        #expect(reply.answers == [
            DNSRecord(name: wireName("example.com"), type: .a, ttl: 300, data: .a(try #require(IPAddress("192.0.2.1")))),
        ])
    }

    @Test func decodesAAAA() throws {
        let reply = try LDNSCodec.decodeReply(Wire.aaaa)
        #expect(reply.answers.map(\.data) == [.aaaa(try #require(IPAddress("2001:db8::1")))])
    }

    @Test func decodesMXWithCompressedAndPlainNames() throws {
        let reply = try LDNSCodec.decodeReply(Wire.mx)
        #expect(reply.answers.map(\.data) == [
            .mx(preference: 10, exchange: wireName("mx.example.com")),
            .mx(preference: 20, exchange: wireName("backup.example.net")),
        ])
        #expect(reply.answers.map(\.ttl) == [3600, 3600])
    }

    @Test func decodesACNAMEChain() throws {
        let reply = try LDNSCodec.decodeReply(Wire.chain)
        #expect(reply.answers.map(\.type) == [.cname, .cname, .a])
        #expect(reply.answers[0].data == .cname(wireName("web.example.com")))
        #expect(reply.answers[1].name == wireName("web.example.com"))
        #expect(reply.answers[2].name == wireName("cdn.example.net"))
    }

    @Test func decodesTXTAsRawUnjoinedStrings() throws {
        let reply = try LDNSCodec.decodeReply(Wire.txt)
        let data = try #require(reply.answers.first?.data)
        #expect(data == .txt([Array("v=spf1 ".utf8), Array("-all".utf8)]))
        #expect(data.joinedText == "v=spf1 -all")
    }

    @Test func decodesRcodesAndFlags() throws {
        #expect(try LDNSCodec.decodeReply(Wire.nxDomain).rcode == ResponseCode.nxDomain)
        #expect(try LDNSCodec.decodeReply(Wire.servFail).rcode == ResponseCode.servFail)
        let truncated = try LDNSCodec.decodeReply(Wire.truncated)
        #expect(truncated.truncated)
        #expect(truncated.answers.isEmpty)
        #expect(try LDNSCodec.decodeReply(Wire.authentic).authenticData)
    }

    @Test func keepsOddOctetsInNamesFromTheWire() throws {
        let reply = try LDNSCodec.decodeReply(Wire.oddCNAME)
        let target = DomainName(labels: ["a.\u{C3}", "example", "com"])
        #expect(reply.answers.first?.data == .cname(target))
        #expect(target.description == "a\\.\\195.example.com")
    }

    @Test func foldsTheCaseOfNamesFromTheWire() throws {
        #expect(try LDNSCodec.decodeReply(Wire.mixedCase).question == DNSQuestion(wireName("example.com"), .a))
    }

    @Test func decodesTLSAAsTypedData() throws {
        let record = try #require(try LDNSCodec.decodeReply(Wire.tlsa).answers.first)
        #expect(record.data == .tlsa(TLSAData(usage: 3, selector: 1, matchingType: 1, data: [0xAA, 0xBB, 0xCC])))
        #expect(record.description.hasSuffix("IN TLSA 3 1 1 AABBCC"))
    }

    @Test func rendersOtherTypesAsPresentationText() throws {
        // The TLSA reply with its type changed to 65280 (private use) in the question and the answer.
        var bytes = Wire.tlsa
        for index in bytes.indices.dropLast() where bytes[index] == 0x00 && bytes[index + 1] == 0x34 {
            bytes[index] = 0xFF
            bytes[index + 1] = 0x00
        }
        let record = try #require(try LDNSCodec.decodeReply(bytes).answers.first)
        guard case .other(let text) = record.data else {
            Issue.record("expected presentation text, got \(record.data)")
            return
        }
        #expect(text.lowercased().contains("aabbcc"))
    }

    @Test(arguments: [
        ([UInt8](), "empty"),
        (Array(Wire.a.prefix(5)), "a header cut short"),
        (Wire.cutQuestion, "a question cut in the middle of its name"),
        (Wire.pointerLoop, "a compression pointer pointing at itself"),
        (Wire.rdlengthPastEnd, "RDLENGTH past the end of the message"),
        (Wire.countPastEnd, "ANCOUNT larger than the records present"),
        (Wire.txtLengthPastEnd, "a TXT length octet past the end of its RDATA"),
        (hexBytes("1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 000f 0001 c00c 000f 0001 00000e10 0004 000a 026d78 c00c"),
         "an MX whose RDLENGTH (4) is shorter than its name (ldns reads on to the end of the message)"),
        (hexBytes("1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 000f 0001 c00c 000f 0001 00000e10 0009 000a 026d78 c00c 0000"),
         "an MX whose RDLENGTH (9) is longer than its fields (7)"),
        (hexBytes("1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 0001 0001 c00c 0001 0001 00000e10 0005 c0000207 00"),
         "an A record of 5 octets"),
        (hexBytes("1234 8180 0001 0001 0000 0000 076578616d706c6503636f6d00 0005 0001 c00c 0005 0001 00000e10 0002 0161 c00c"),
         "a CNAME whose RDLENGTH (2) cuts its name"),
    ] as [([UInt8], String)])
    func rejectsMalformedMessages(bytes: [UInt8], reason: String) {
        #expect(throws: CodecError.self, "\(reason)") { try LDNSCodec.decodeReply(bytes) }
    }

    @Test func survivesEveryPrefixAndEveryByteFlipOfRealReplies() {
        // Hostile input must never crash: cut and corrupt each sample everywhere.
        for sample in [Wire.a, Wire.mx, Wire.chain, Wire.txt, Wire.tlsa, Wire.oddCNAME] {
            for length in 0...sample.count {
                _ = try? LDNSCodec.decodeReply(Array(sample.prefix(length)))
            }
            for index in sample.indices {
                for value: UInt8 in [0x00, 0x3F, 0xC0, 0xFF] {
                    var corrupted = sample
                    corrupted[index] = value
                    _ = try? LDNSCodec.decodeReply(corrupted)
                }
            }
        }
    }

    @Test func readsWireNames() throws {
        #expect(try LDNSCodec.domainName(wire: [0]) == .root)
        #expect(try LDNSCodec.domainName(wire: [3, 0x57, 0x57, 0x57, 0]) == wireName("www"))
        #expect(throws: CodecError.self) { try LDNSCodec.domainName(wire: [5, 0x61]) }
        #expect(throws: CodecError.self) { try LDNSCodec.domainName(wire: [64] + Array(repeating: 0x61, count: 64) + [0]) }
    }
}
