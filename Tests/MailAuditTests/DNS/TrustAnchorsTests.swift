import Foundation
import MailAuditCore
import Testing
@testable import MailAuditDNS

@Suite struct TrustAnchorsTests {
    static let rootKey = """
        ; the root zone's key-signing key, as dns-root-data ships it
        . IN DNSKEY 257 3 8 AwEAAaz/tAm8yTn4Mfeh5eyI96WSVexTBAvkMgJzkKTOiW1vkIbzxeF3+/4RgWOq7HrxRixHlFlExOLAJr5emLvN7SWXgnLh4+B5xQlNVz8Og8kvArMtNROxVQuCaSnIDdD5LKyWbRd2n9WGe2R8PzgCmr3EgVLrjyBxWezF0jLHwVN8efS3rCj/EWgvIWgb9tarpVUDK/b58Da+sqqls3eNbuv7pr+eoZG+SrDK6nWeL3c6H5Apxz7LjVc1uTIdsIXxuOLYA4/ilBmSVIzuDWfdRUfhHdY6+cn8HFRm+2hM8AnXGXws9555KrUB5qihylGa8subX2Nn6UwNR1AkUTV74bU= ; keytag 20326

        example.test. 3600 IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        """

    @Test func readsDNSKEYAndDSRecordsWithComments() throws {
        let anchors = try TrustAnchors(text: Self.rootKey, source: "test")
        #expect(anchors.anchor(for: DomainName(labels: []))?.first?.type == .dnskey)
        #expect(anchors.anchor(for: DomainName(labels: ["example", "test"]))?.first?.type == .ds)
        #expect(anchors.covers(DomainName(labels: ["mail", "example", "org"])))
        #expect(anchors.owners.first == DomainName(labels: []))
        #expect(anchors.closestAnchor(above: DomainName(labels: ["mx", "example", "test"])) == DomainName(labels: ["example", "test"]))
        #expect(anchors.closestAnchor(above: DomainName(labels: ["example", "org"])) == DomainName(labels: []))
    }

    @Test func aLineThatIsNotAnAnchorIsNamedWithItsNumber() {
        #expect(throws: TrustAnchorError.badLine("f", 2, "example.test. IN A 192.0.2.1")) {
            try TrustAnchors(text: "; comment\nexample.test. IN A 192.0.2.1\n", source: "f")
        }
        #expect(throws: TrustAnchorError.empty("f")) { try TrustAnchors(text: "; nothing\n\n", source: "f") }
        #expect(throws: TrustAnchorError.unreadable("/nonexistent/anchor")) { try TrustAnchors(contentsOf: "/nonexistent/anchor") }
    }

    @Test func controlCharactersInABadLineAreNotEchoed() {
        do {
            _ = try TrustAnchors(text: "bad\u{1B}[31m line", source: "f")
            Issue.record("a bad line was accepted")
        } catch {
            #expect(!error.description.contains("\u{1B}"))
        }
    }

    static func nsec(_ owner: String, next: String, _ types: [RRType]) throws -> DNSRecord {
        DNSRecord(name: try DomainName(parsing: owner), type: .nsec, ttl: 300, data: .nsec(next: try DomainName(parsing: next), types: types))
    }

    @Test func nsecProofsOfNoDataAndOfNonExistence() throws {
        let atChild = try Self.nsec("child.secure.test", next: "mx.secure.test", [.ns, .rrsig, .nsec])
        let ds = DNSQuestion(try DomainName(parsing: "child.secure.test"), .ds)
        #expect(DNSSECValidator.nsecProves(ds, nxDomain: false, [atChild]))
        // The NSEC says NS exists there: no proof that NS does not.
        #expect(!DNSSECValidator.nsecProves(DNSQuestion(ds.name, .ns), nxDomain: false, [atChild]))
        // An NSEC at another name proves nothing about this one.
        #expect(!DNSSECValidator.nsecProves(DNSQuestion(try DomainName(parsing: "mx.secure.test"), .ds), nxDomain: false, [atChild]))

        let apex = try Self.nsec("secure.test", next: "mx.secure.test", [.soa, .ns, .mx, .rrsig, .nsec, .dnskey])
        let missing = DNSQuestion(try DomainName(parsing: "b.secure.test"), .a)
        // b.secure.test lies between secure.test and mx.secure.test; so does *.secure.test.
        #expect(DNSSECValidator.nsecProves(missing, nxDomain: true, [apex]))
        let afterMX = try Self.nsec("mx.secure.test", next: "secure.test", [.a, .rrsig, .nsec])
        let late = DNSQuestion(try DomainName(parsing: "z.secure.test"), .a)
        #expect(!DNSSECValidator.nsecProves(late, nxDomain: true, [apex]), "the name is not covered")
        #expect(DNSSECValidator.nsecProves(late, nxDomain: true, [apex, afterMX]))
    }
}

@Suite struct DNSSECAlgorithmSupportTests {
    @Test func dsRecordsWithUnknownAlgorithmsOrDigestsAreNotUsable() {
        let digest = [UInt8](repeating: 0xAB, count: 32)
        #expect(LDNSDNSSEC.canUse(DelegationSigner(keyTag: 1, algorithm: 13, digestType: 2, digest: digest)))
        #expect(LDNSDNSSEC.canUse(DelegationSigner(keyTag: 1, algorithm: 8, digestType: 1, digest: digest)))
        #expect(!LDNSDNSSEC.canUse(DelegationSigner(keyTag: 1, algorithm: 13, digestType: 3, digest: digest)), "GOST")
        #expect(!LDNSDNSSEC.canUse(DelegationSigner(keyTag: 1, algorithm: 200, digestType: 2, digest: digest)), "unassigned algorithm")
    }
}
