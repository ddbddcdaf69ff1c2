import Foundation
import MailAuditCore
import MailAuditTesting
import Testing
@testable import MailAuditDNS

private func dn(_ text: String) -> DomainName { (try? DomainName(parsing: text)) ?? .root }

/// Zone files read with ldns: records, the line each starts on, directives, and errors with their line.
@Suite struct ZoneFileTests {
    static let zone = """
        ; a comment line
        $ORIGIN example.test.
        $TTL 600

        @       IN SOA ns hostmaster (
                    1 3600 900
                    604800 300 )
        @       IN MX  10 mail      ; line 8
        mail    3600 IN A 192.0.2.25
                IN AAAA 2001:db8::25
        @       IN TXT ( "v=spf1 "
                         "mx -all" )
        _dmarc  IN TXT "v=DMARC1; p=reject; (not a paren)"
        $ORIGIN sub.example.test.
        www     IN CNAME mail.example.test.
        """

    @Test func recordsAndTheLinesTheyStartOn() throws {
        let zone = try ZoneFile(parsing: Self.zone)
        #expect(zone.origin == dn("example.test"))
        let lines = zone.records.map { "\($0.line) \($0.record.name.fqdn) \($0.record.type)" }
        #expect(lines == [
            "5 example.test. SOA", "8 example.test. MX", "9 mail.example.test. A", "10 mail.example.test. AAAA",
            "11 example.test. TXT", "13 _dmarc.example.test. TXT", "15 www.sub.example.test. CNAME",
        ])
    }

    @Test func directivesAndDataAreLdns() throws {
        let zone = try ZoneFile(parsing: Self.zone)
        #expect(zone.records(at: dn("example.test"), .mx).first?.record.ttl == 600, "$TTL applies")
        #expect(zone.records(at: dn("mail.example.test"), .a).first?.record.ttl == 3600)
        let spf = try #require(zone.records(at: dn("example.test"), .txt).first)
        #expect(spf.record.data == .txt([Array("v=spf1 ".utf8), Array("mx -all".utf8)]), "strings kept apart, joined only when read")
        #expect(zone.records(at: dn("mail.example.test"), .aaaa).count == 1, "a blank owner repeats the previous one")
        #expect(zone.records(at: dn("www.sub.example.test"), .cname).first?.record.data == .cname(dn("mail.example.test")))
    }

    @Test func theOriginIsGivenOrTheSOAOwnerOrTheFirstOrigin() throws {
        #expect(try ZoneFile(parsing: "$ORIGIN a.test.\nwww IN A 192.0.2.1\n").origin == dn("a.test"))
        #expect(try ZoneFile(parsing: "www IN A 192.0.2.1\n", origin: dn("b.test")).records.first?.record.name == dn("www.b.test"))
        #expect(throws: ZoneFileError.self) { try ZoneFile(parsing: "www.c.test. IN A 192.0.2.1\n") }
        let implied = try ZoneFile(parsing: "d.test. IN SOA ns hm 1 2 3 4 5\nwww IN A 192.0.2.1\n")
        #expect(implied.origin == dn("d.test") && implied.records.last?.record.name == dn("www.d.test"), "relative to the SOA owner")
        #expect(throws: ZoneFileError.self, "@ with no origin would be the root") { try ZoneFile(parsing: "@ IN SOA ns hm 1 2 3 4 5\n") }
    }

    static let broken: [(text: String, line: Int, reason: String)] = [
        ("$ORIGIN e.test.\n@ IN SOA ns hm 1 2 3 4 5\nmail IN A 999.0.0.1\n", 3, "rdata"),
        ("$ORIGIN e.test.\n@ IN SOA ns hm 1 2 3 4 5\n\n; c\n@ IN NOSUCHTYPE x\n", 5, "syntax error"),
        ("$ORIGIN e.test.\n@ IN SOA ns hm 1 2 3 4 5\nwww.other.test. IN A 192.0.2.1\n", 3, "outside the zone"),
        ("$ORIGIN e.test.\n@ IN SOA ns hm 1 2 3 4 5\n$INCLUDE other.zone\n", 3, "$INCLUDE"),
    ]

    @Test(arguments: broken)
    func errorsNameTheirLine(text: String, line: Int, reason: String) throws {
        let error = try #require(throws: ZoneFileError.self) { try ZoneFile(parsing: text, name: "z.zone") }
        #expect(error.line == line, "\(error)")
        #expect(error.description.hasPrefix("z.zone:\(line): "))
        #expect(error.description.lowercased().contains(reason.lowercased()), "\(error)")
    }

    /// A CERT certificate type that ldns reads as 0 is refused before ldns sees it (ldns
    /// refuses it too but leaks what it parsed); the other types still reach ldns.
    @Test(arguments: [
        ("'A  CERT  0", true), ("cert 600 IN CERT 00 1 2 AAAA", true), ("\tIN 600 TYPE37 +65536 1 2 AAAA", true),
        ("c CERT -99999999999999999999 1 2 AAAA", true), ("c CERT PKIX 1 2 AAAA", false), ("c CERT 1 1 2 AAAA", false),
        ("CERT 0 IN A 192.0.2.1", false), ("c CERT 0x0 1 2 AAAA", false),
        ("a\\ b CERT 0 1 2 AAAA", true), ("c\u{0B}CERT\u{0C}0 1 2 AAAA", true), ("c ( CERT ) 0 1 2 AAAA", true),
        ("c TXT CERT 0", false), ("c CERT 0 ; 1 2 AAAA", true),
    ])
    func aReservedCertificateTypeIsRefusedBeforeLdns(entry: String, reserved: Bool) throws {
        #expect((ZoneEntries.reservedCertificateType(Array(entry.utf8)) != nil) == reserved, "\(entry)")
        if reserved {
            let error = try #require(throws: ZoneFileError.self) { try ZoneFile(parsing: "$ORIGIN e.test.\n" + entry + "\n") }
            #expect(error.line == 2 && error.description.contains("reserved"), "\(error)")
        }
    }

    /// A NUL byte, which ldns would read as the end of a word (the fuzzer's "$INCLU \0…'A CERT 0").
    @Test func aNULByteIsAnError() throws {
        let error = try #require(throws: ZoneFileError.self) { try ZoneFile(parsing: "$ORIGIN e.test.\n$INCLU \u{0}\u{0}3'A  CERT  0\n") }
        #expect(error.line == 2 && error.description.contains("NUL"), "\(error)")
    }

    @Test func controlCharactersInErrorsAreEscaped() {
        let error = ZoneFileError(file: "evil\u{1B}[31m.zone", line: 1, reason: "bad")
        #expect(!error.description.contains("\u{1B}"))
    }

    @Test func includesAreReadRelativeToTheIncludingFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("zonefile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("parts"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "$ORIGIN i.test.\n@ IN SOA ns hm 1 2 3 4 5\n$INCLUDE parts/mail.zone\n@ IN MX 10 mail\n"
            .write(to: directory.appendingPathComponent("main.zone"), atomically: true, encoding: .utf8)
        try "\nmail IN A 192.0.2.9\n".write(to: directory.appendingPathComponent("parts/mail.zone"), atomically: true, encoding: .utf8)
        let zone = try ZoneFile.read(path: directory.appendingPathComponent("main.zone").path)
        let mail = try #require(zone.records(at: dn("mail.i.test"), .a).first)
        #expect(mail.line == 2 && mail.file.hasSuffix("parts/mail.zone"))
        #expect(zone.records(at: dn("i.test"), .mx).first?.line == 4)

        try "$INCLUDE main.zone\n".write(to: directory.appendingPathComponent("parts/mail.zone"), atomically: true, encoding: .utf8)
        try "$INCLUDE parts/mail.zone\n".write(to: directory.appendingPathComponent("main.zone"), atomically: true, encoding: .utf8)
        #expect(throws: ZoneFileError.self) { try ZoneFile.read(path: directory.appendingPathComponent("main.zone").path, origin: dn("i.test")) }
    }
}

/// The zone resolver answers as the zone's authoritative server would, and sends the rest outside.
@Suite struct ZoneFileResolverTests {
    static let text = """
        $ORIGIN example.test.
        @        IN SOA ns hostmaster 1 3600 900 604800 300
        @        IN MX 10 mail
        mail     IN A 192.0.2.25
        alias    IN CNAME mail
        out      IN CNAME host.provider.test.
        loop1    IN CNAME loop2
        loop2    IN CNAME loop1
        a.b.deep IN TXT "x"
        *.wild   IN TXT "v=spf1 -all"
        sub      IN NS ns.provider.test.
        sub      IN DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        """

    static let provider = """
        host.provider.test.  A 192.0.2.80
        www.sub.example.test. A 192.0.2.81
        """

    func resolver(offline: Bool = false) throws -> (ZoneFileResolver, StaticResolver) {
        let outside = try StaticResolver(zone: Self.provider)
        let zone = try ZoneFile(parsing: Self.text)
        return (ZoneFileResolver(zone: zone, outside: offline ? .offline : .resolver(outside)), outside)
    }

    static let answers: [(name: String, type: RRType, outcome: String, chain: [String])] = [
        ("example.test", .mx, "records MX", []),
        ("example.test", .txt, "noData", []),
        ("nothing.example.test", .a, "nxDomain", []),
        ("deep.example.test", .txt, "noData", []),  // an empty non-terminal
        ("b.deep.example.test", .a, "noData", []),
        ("alias.example.test", .a, "records A", ["mail.example.test"]),
        ("alias.example.test", .cname, "records CNAME", []),
        ("out.example.test", .a, "records A", ["host.provider.test"]),
        ("loop1.example.test", .a, "cnameLoop", ["loop2.example.test", "loop1.example.test"]),
        ("x.wild.example.test", .txt, "records TXT", []),
        ("x.wild.example.test", .a, "noData", []),
        ("www.sub.example.test", .a, "records A", []),  // below the cut: asked outside
        ("sub.example.test", .ds, "records DS", []),  // the DS at the cut is the parent's
        ("host.provider.test", .a, "records A", []),
    ]

    @Test(arguments: answers)
    func answersLikeTheAuthority(name: String, type: RRType, outcome: String, chain: [String]) async throws {
        let (resolver, _) = try resolver()
        let answer = await resolver.resolve(dn(name), type)
        let shown: String = switch answer.outcome {
        case .records(let records): "records " + Set(records.map(\.type.description)).sorted().joined(separator: ",")
        case .noData: "noData"
        case .nxDomain: "nxDomain"
        case .cnameLoop: "cnameLoop"
        default: answer.outcome.summary
        }
        #expect(shown == outcome)
        #expect(answer.cnameChain == chain.map(dn))
        #expect(answer.question == DNSQuestion(dn(name), type))
    }

    @Test func wildcardRecordsTakeTheQuestionsName() async throws {
        let answer = try await resolver().0.resolve(dn("x.wild.example.test"), .txt)
        #expect(answer.records.map(\.name) == [dn("x.wild.example.test")])
    }

    @Test func onlyNamesOutsideTheZoneOrBelowACutAreAskedOutside() async throws {
        let (resolver, outside) = try resolver()
        for (name, type) in [("example.test", RRType.mx), ("alias.example.test", .a), ("out.example.test", .a), ("www.sub.example.test", .a)] {
            _ = await resolver.resolve(dn(name), type)
        }
        #expect(outside.questionsAsked == [DNSQuestion(dn("host.provider.test"), .a), DNSQuestion(dn("www.sub.example.test"), .a)])
    }

    @Test func offlineAnswersAreInconclusiveAndListed() async throws {
        let (resolver, _) = try resolver(offline: true)
        let outside = await resolver.resolve(dn("host.provider.test"), .a)
        #expect(outside.outcome == .networkError(ZoneFileResolver.offlineReason))
        #expect(outside.outcome.isInconclusive, "could not check, never 'missing'")
        let chained = await resolver.resolve(dn("out.example.test"), .a)
        #expect(chained.cnameChain == [dn("host.provider.test")] && chained.outcome.isInconclusive)
        let delegated = await resolver.resolve(dn("www.sub.example.test"), .a)
        #expect(delegated.outcome.isInconclusive)
        #expect(await resolver.resolve(dn("example.test"), .mx).records.count == 1, "the zone still answers")
        #expect(resolver.questionsNotLookedUp == [DNSQuestion(dn("host.provider.test"), .a), DNSQuestion(dn("www.sub.example.test"), .a)])
    }
}
