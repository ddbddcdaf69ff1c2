// The certificate facts reader over OpenSSL: DER bytes in, facts out.
import MailAuditTLS

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let facts = CertificateFacts(der: Array(UnsafeBufferPointer(start: data, count: size))) {
        _ = facts.dnsNames.count + facts.ipAddresses.count + facts.subject.utf8.count + facts.issuer.utf8.count
    }
    return 0
}
