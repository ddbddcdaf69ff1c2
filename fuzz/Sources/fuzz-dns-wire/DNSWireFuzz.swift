// The DNS wire decoder over ldns: any bytes a server could send as a reply.
import MailAuditDNS

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = DNSWireFuzzing.decode(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
