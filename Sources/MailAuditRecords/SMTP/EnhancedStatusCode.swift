/// An enhanced mail system status code (RFC 3463 §2): `class "." subject "." detail`,
/// for example 5.7.8 (authentication credentials invalid, RFC 4954 §6).
///
/// ```swift
/// let code = EnhancedStatusCode("5.7.8")!   // klass .permanentFailure, subject 7, detail 8
/// code.description                          // "5.7.8"
/// ```
public struct EnhancedStatusCode: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// The first number: 2 success, 4 persistent transient failure, 5 permanent failure.
    public enum Class: Int, Hashable, Sendable, Codable {
        case success = 2
        case transientFailure = 4
        case permanentFailure = 5
    }

    public var klass: Class
    /// 0–999; the subjects 0–7 are defined by RFC 3463 §3 (7 is security or policy).
    public var subject: Int
    /// 0–999; its meaning depends on the subject.
    public var detail: Int

    public init(_ klass: Class, _ subject: Int, _ detail: Int) {
        self.klass = klass
        self.subject = subject
        self.detail = detail
    }

    /// Parses "5.7.8": a class of 2, 4 or 5, then two numbers of one to three digits
    /// (RFC 3463 §2); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let klass = Int(parts[0]).flatMap(Class.init(rawValue:)), parts[0].count == 1 else { return nil }
        let numbers = parts.dropFirst().map { part -> Int? in
            guard (1...3).contains(part.count), part.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return Int(part)
        }
        guard let subject = numbers[0], let detail = numbers[1] else { return nil }
        self.init(klass, subject, detail)
    }

    /// The same subject and detail under class "x", as the IANA registry lists them: "X.7.8".
    public var registryKey: String { "X.\(subject).\(detail)" }

    public var description: String { "\(klass.rawValue).\(subject).\(detail)" }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.klass.rawValue, lhs.subject, lhs.detail) < (rhs.klass.rawValue, rhs.subject, rhs.detail)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = EnhancedStatusCode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an enhanced status code: \(text)"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
