// MTA-STS policies as fetched (RFC 8461 §3.2, bytes that must be UTF-8) and _mta-sts records (§3.1).
import MailAuditCore
import MailAuditRecords

let hosts = ["mx1.example.com", "a.b.example.com", "example.com"].map { try! DomainName(parsing: $0) }

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let policy = try? MTASTSPolicy(parsing: bytes) {
        let rendered = policy.description
        guard let again = try? MTASTSPolicy(parsing: rendered), again.mode == policy.mode, again.mx == policy.mx,
              again.maxAge == policy.maxAge
        else { fatalError("MTA-STS policy does not round-trip: \(rendered.debugDescription)") }
        for host in hosts { _ = policy.covers(host) }
    }
    _ = try? MTASTSRecord(parsing: String(decoding: bytes, as: UTF8.self))
    return 0
}
