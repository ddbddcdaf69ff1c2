import Foundation
import MailAuditTLS
import Testing

/// SHA-256 and SHA-512 through OpenSSL, against the FIPS 180-2 example vectors.
struct DigestAlgorithmTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var algorithm: DigestAlgorithm
        var message: String
        var hex: String
        var testDescription: String { "\(algorithm) of \"\(message.prefix(8))\" (\(message.utf8.count) bytes)" }
    }

    static let twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

    static let vectors: [Vector] = [
        Vector(algorithm: .sha256, message: "abc", hex: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        Vector(algorithm: .sha256, message: "", hex: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        Vector(algorithm: .sha256, message: twoBlocks, hex: "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        Vector(
            algorithm: .sha512, message: "abc",
            hex: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"),
        Vector(
            algorithm: .sha512, message: "",
            hex: "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        Vector(
            algorithm: .sha512, message: twoBlocks,
            hex: "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445"),
    ]

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    @Test(arguments: vectors)
    func digestMatchesTheStandardVector(_ vector: Vector) throws {
        let digest = try #require(vector.algorithm.digest(of: Array(vector.message.utf8)))
        #expect(digest.count == vector.algorithm.byteCount)
        #expect(Self.hex(digest) == vector.hex)
    }

    @Test func digestsOfDifferentBytesDiffer() throws {
        for algorithm in DigestAlgorithm.allCases {
            let abc = try #require(algorithm.digest(of: Array("abc".utf8)))
            let abd = try #require(algorithm.digest(of: Array("abd".utf8)))
            #expect(abc != abd, "\(algorithm)")
        }
    }
}
