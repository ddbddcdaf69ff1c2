import MailAuditCore
import Testing
@testable import MailAuditDNS

@Suite struct AnswerBuildingTests {
    private func answer(_ bytes: [UInt8], _ name: String, _ type: RRType) throws -> DNSAnswer {
        try LDNSCodec.decodeReply(bytes).answer(for: DNSQuestion(wireName(name), type))
    }

    @Test func recordsOfTheAskedType() throws {
        let answer = try answer(Wire.mx, "example.com", .mx)
        #expect(answer.records.count == 2)
        #expect(answer.cnameChain.isEmpty)
        #expect(answer.dnssec == .indeterminate, "without a trusted validator nothing is known")
    }

    @Test func followsTheCNAMEChainInTheAnswerSection() throws {
        let answer = try answer(Wire.chain, "www.example.com", .a)
        #expect(answer.cnameChain == [wireName("web.example.com"), wireName("cdn.example.net")])
        #expect(answer.records.map(\.data) == [.a(try #require(IPAddress("192.0.2.7")))])
        #expect(answer.canonicalName == wireName("cdn.example.net"))
    }

    @Test func askingForTheCNAMEItselfDoesNotFollowIt() throws {
        let answer = try answer(Wire.chain, "www.example.com", .cname)
        #expect(answer.cnameChain.isEmpty)
        #expect(answer.records.map(\.data) == [.cname(wireName("web.example.com"))])
    }

    @Test func aNameVisitedTwiceIsALoop() throws {
        let answer = try answer(Wire.loop, "a.example.com", .a)
        #expect(answer.outcome == .cnameLoop)
    }

    @Test func aChainEndingWithoutRecordsIsNoData() throws {
        let answer = try answer(Wire.bareCNAME, "www.example.com", .a)
        #expect(answer.outcome == .noData)
        #expect(answer.cnameChain == [wireName("cdn.example.net")])
    }

    @Test func otherTypesAtTheNameAreNoData() throws {
        #expect(try answer(Wire.a, "example.com", .aaaa).outcome == .noData)
    }

    @Test func rcodes() throws {
        #expect(try answer(Wire.nxDomain, "nope.example.com", .a).outcome == .nxDomain)
        #expect(try answer(Wire.servFail, "example.com", .a).outcome == .serverFailure(rcode: 2))
    }

    @Test func theADBitCountsOnlyFromATrustedResolver() throws {
        let question = DNSQuestion(wireName("example.com"), .a)
        #expect(try LDNSCodec.decodeReply(Wire.authentic).answer(for: question, trustingAD: true).dnssec == .secure)
        #expect(try LDNSCodec.decodeReply(Wire.a).answer(for: question, trustingAD: true).dnssec == .insecure)
        #expect(try LDNSCodec.decodeReply(Wire.authentic).answer(for: question).dnssec == .indeterminate)
    }

    @Test func moreThanEightHopsIsTooLongNotALoop() {
        let names = (0...9).map { wireName("n\($0).example") }
        let records = zip(names, names.dropFirst()).map { DNSRecord(name: $0, type: .cname, ttl: 1, data: .cname($1)) }
        let reply = DecodedReply(id: 1, isResponse: true, rcode: 0, truncated: false, authenticData: false,
                                 recursionDesired: true, ednsUDPSize: nil, question: nil, answers: records)
        #expect(reply.answer(for: DNSQuestion(names[0], .a)).outcome == .cnameChainTooLong(CNAMEPolicy.maximumHops))
        #expect(reply.answer(for: DNSQuestion(names[0], .a)).outcome.isInconclusive)
        #expect(reply.answer(for: DNSQuestion(names[1], .a)).outcome == .noData)
    }
}

@Suite struct ReplyMatcherTests {
    private let question = DNSQuestion(wireName("example.com"), .a)

    @Test func acceptsTheMatchingReply() {
        guard case .reply = ReplyMatcher(id: 0x1234, question: question).judge(Wire.a) else {
            Issue.record("the reply was not accepted")
            return
        }
    }

    @Test func acceptsAQuestionInAnotherCase() {
        guard case .reply = ReplyMatcher(id: 0x1234, question: question).judge(Wire.mixedCase) else {
            Issue.record("the reply was not accepted")
            return
        }
    }

    @Test(arguments: [
        (UInt16(0x4321), DNSQuestion(wireName("example.com"), .a), "another ID"),
        (0x1234, DNSQuestion(wireName("example.org"), .a), "another name"),
        (0x1234, DNSQuestion(wireName("example.com"), .aaaa), "another type"),
    ])
    func ignoresRepliesToOtherQueries(id: UInt16, question: DNSQuestion, reason: String) {
        guard case .ignored = ReplyMatcher(id: id, question: question).judge(Wire.a) else {
            Issue.record("accepted a reply with \(reason)")
            return
        }
    }

    @Test func ignoresQueries() throws {
        let query = try LDNSCodec.encodeQuery(question, id: 7)
        guard case .ignored = ReplyMatcher(id: 7, question: question).judge(query) else {
            Issue.record("accepted a packet without QR")
            return
        }
    }

    @Test func reportsMalformedPackets() {
        guard case .malformed = ReplyMatcher(id: 0x1234, question: question).judge(Wire.rdlengthPastEnd) else {
            Issue.record("a malformed packet was not reported")
            return
        }
    }
}
