// DMARC records (RFC 9989 §4.7) and their report URIs: whatever parses must round-trip.
import MailAuditRecords

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let record = try? DMARCRecord(parsing: text) {
        let rendered = record.description
        guard let again = try? DMARCRecord(parsing: rendered), again == record else {
            fatalError("DMARC record does not round-trip: \(rendered.debugDescription)")
        }
    }
    _ = try? DMARCURI(parsing: text)
    _ = DMARCRecordSelection(texts: [text])
    return 0
}
