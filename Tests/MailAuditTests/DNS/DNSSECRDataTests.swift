import MailAuditCore
import Testing
@testable import MailAuditDNS

@Suite struct DNSSECRDataTests {
    @Test func typeBitmapsListTheirTypes() {
        // Window 0, 6 octets: A(1) NS(2) SOA(6) MX(15) TXT(16) AAAA(28) RRSIG(46) NSEC(47).
        let wire: [UInt8] = [0, 6, 0x62, 0x01, 0x80, 0x08, 0x00, 0x03] + [1, 1, 0x40]
        #expect(DNSSECRData.typeBitmaps(wire) == [.a, .ns, .soa, .mx, .txt, .aaaa, .rrsig, .nsec, RRType(rawValue: 257)])
    }

    @Test func badTypeBitmapsAreRefused() {
        #expect(DNSSECRData.typeBitmaps([0, 0]) == nil, "a window of length 0")
        #expect(DNSSECRData.typeBitmaps([0, 33] + Array(repeating: 0, count: 33)) == nil, "longer than 32 octets")
        #expect(DNSSECRData.typeBitmaps([1, 1, 0x40, 0, 1, 0x40]) == nil, "windows out of order")
        #expect(DNSSECRData.typeBitmaps([0, 4, 0x40]) == nil, "past the end")
    }

    @Test func truncatedRdataIsNotTyped() {
        #expect(DNSSECRData.parse(.ds, [0x30, 0x39, 15]) == nil)
        #expect(DNSSECRData.parse(.rrsig, [0, 1, 15, 2, 0, 0, 1, 44]) == nil)
        #expect(DNSSECRData.parse(.tlsa, [3, 1]) == nil)
        // An NSEC3 whose salt length runs past the end.
        #expect(DNSSECRData.parse(.nsec3, [1, 0, 0, 10, 8, 0xAA]) == nil)
        // A signer name with a label running past the end.
        #expect(DNSSECRData.parse(.rrsig, [0, 1, 15, 2] + Array(repeating: 0, count: 14) + [9, 0x61]) == nil)
    }

    @Test func tlsaAndDSPresentation() {
        let tlsa = DNSRecord(name: DomainName(labels: ["_25", "_tcp", "mx", "example"]), type: .tlsa, ttl: 300,
                             data: .tlsa(TLSAData(usage: 3, selector: 1, matchingType: 1, data: [0xDE, 0xAD, 0xBE, 0xEF])))
        #expect(tlsa.description == "_25._tcp.mx.example. 300 IN TLSA 3 1 1 DEADBEEF")
        #expect(DNSSECRData.parse(.ds, [0x30, 0x39, 13, 2, 0xAB]) == .ds(DelegationSigner(keyTag: 12345, algorithm: 13, digestType: 2, digest: [0xAB])))
    }

    @Test func base32HexFollowsRFC4648() {
        let vectors = ["": "", "f": "CO", "fo": "CPNG", "foo": "CPNMU", "foob": "CPNMUOG", "fooba": "CPNMUOJ1", "foobar": "CPNMUOJ1E8"]
        for (input, output) in vectors { #expect(Base32Hex.encode(Array(input.utf8)) == output) }
    }

    @Test func theWeakestReplyDecidesAChain() {
        #expect(DNSSECStatus.secure.combined(with: .secure) == .secure)
        #expect(DNSSECStatus.secure.combined(with: .insecure) == .insecure)
        #expect(DNSSECStatus.insecure.combined(with: .indeterminate) == .indeterminate)
        #expect(DNSSECStatus.secure.combined(with: .bogus("expired")) == .bogus("expired"))
    }
}
