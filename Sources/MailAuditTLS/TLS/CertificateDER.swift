internal import COpenSSL
import MailAuditCore

extension CertificateFacts {
    /// Reads the facts of one certificate from its DER encoding (RFC 5280 §4.1), as a server
    /// sends it in its chain; the fuzz target `certificate` under `fuzz/` reads bytes this way.
    ///
    /// - Returns: nil when OpenSSL cannot decode the bytes as an X.509 certificate, or when
    ///   bytes are left over after it.
    public init?(der: [UInt8]) {
        // d2i_X509 allocates a new X509 (we pass no object to reuse) and advances the cursor
        // past what it read; we free the certificate with X509_free. On failure it allocates
        // nothing but leaves errors on this thread's queue, which we clear.
        let decoded: (certificate: OpaquePointer, consumed: Int)? = der.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return nil }
            var cursor: UnsafePointer<UInt8>? = base
            guard let certificate = d2i_X509(nil, &cursor, buffer.count) else { return nil }
            return (certificate, cursor.map { $0 - base } ?? 0)
        }
        defer { ERR_clear_error() }
        guard let decoded else { return nil }
        defer { X509_free(decoded.certificate) }
        guard decoded.consumed == der.count else { return nil }
        self.init(certificate: decoded.certificate)
    }
}
