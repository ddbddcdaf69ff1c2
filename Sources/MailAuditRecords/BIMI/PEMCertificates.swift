/// The certificates in a PEM document (RFC 7468 §2, §5): what a BIMI evidence document at `a=`
/// must be, a Verified or Common Mark Certificate with its chain. Only the armour and the
/// base64 are checked; what the certificates say is not.
///
/// ```swift
/// let pem = try PEMCertificates(parsing: Array(text.utf8))
/// pem.count   // 3: the mark certificate, an intermediate and the root
/// ```
public struct PEMCertificates: Hashable, Sendable {
    /// The DER bytes of each `CERTIFICATE` block, in order.
    public var certificates: [[UInt8]]

    public var count: Int { certificates.count }

    /// Reads every `-----BEGIN CERTIFICATE-----` block; text between blocks is ignored, as
    /// RFC 7468 §5.2 allows.
    ///
    /// - Throws: ``PEMError``: no certificate block, a block without its end line, or a block
    ///   whose content is not base64.
    public init(parsing body: [UInt8]) throws(PEMError) {
        let text = String(decoding: body, as: UTF8.self)
        let begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----"
        var rest = Substring(text)
        var certificates: [[UInt8]] = []
        while let start = rest.firstRange(of: begin) {
            guard let stop = rest[start.upperBound...].firstRange(of: end) else { throw .unterminated }
            let base64 = String(rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace })
            guard let der = Self.decodeBase64(base64), !der.isEmpty else { throw .badBase64 }
            certificates.append(der)
            rest = rest[stop.upperBound...]
        }
        guard !certificates.isEmpty else { throw .noCertificate }
        self.certificates = certificates
    }

    /// Standard base64 with padding (RFC 4648 §4), or nil.
    static func decodeBase64(_ text: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var values = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { values[Int(byte)] = UInt8(index) }
        let bytes = Array(text.utf8)
        guard bytes.count % 4 == 0 else { return nil }
        let padding = bytes.reversed().prefix { $0 == UInt8(ascii: "=") }.count
        guard padding <= 2 else { return nil }
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        for (index, byte) in bytes.dropLast(padding).enumerated() {
            let value = values[Int(byte)]
            guard value != 0xFF else { return nil }
            buffer = buffer << 6 | UInt32(value)
            if index % 4 == 3 {
                out += [UInt8(buffer >> 16 & 0xFF), UInt8(buffer >> 8 & 0xFF), UInt8(buffer & 0xFF)]
                buffer = 0
            }
        }
        switch padding {
        case 1: out += [UInt8(buffer >> 10 & 0xFF), UInt8(buffer >> 2 & 0xFF)]
        case 2: out.append(UInt8(buffer >> 4 & 0xFF))
        default: break
        }
        return out
    }
}

/// Why a document holds no PEM certificate.
public enum PEMError: Error, Hashable, Sendable, CustomStringConvertible {
    case noCertificate
    case unterminated
    case badBase64

    public var description: String {
        switch self {
        case .noCertificate: "there is no -----BEGIN CERTIFICATE----- block"
        case .unterminated: "a certificate block has no -----END CERTIFICATE----- line"
        case .badBase64: "a certificate block is not base64"
        }
    }
}
