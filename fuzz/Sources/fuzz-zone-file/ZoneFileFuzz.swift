// The zone-file reader of check-zone, over ldns (text in memory; $INCLUDE is refused there).
import MailAuditDNS

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let zone = try? ZoneFile(parsing: text, name: "fuzz.zone") {
        for entry in zone.records { _ = entry.record.description }
    }
    return 0
}
