internal import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one memory `BIO`, for printing names.
final class MemoryBIO {
    let pointer: OpaquePointer

    init?() {
        // BIO_new: freed with BIO_free in deinit. BIO_s_mem returns a static method table.
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        pointer = bio
    }

    deinit { BIO_free(pointer) }

    /// The bytes written so far, as text.
    var text: String {
        var data: UnsafeMutablePointer<CChar>?
        // The data pointer is borrowed from the BIO and valid until the next write or free.
        let count = mailaudit_BIO_get_mem_data(pointer, &data)
        guard count > 0, let data else { return "" }
        return data.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
    }
}

/// Owns the `GENERAL_NAMES` stack decoded from a subjectAltName extension.
final class GeneralNames {
    let pointer: OpaquePointer

    init?(of certificate: OpaquePointer) {
        // X509_get_ext_d2i allocates a decoded copy: freed with GENERAL_NAMES_free in deinit.
        guard let raw = X509_get_ext_d2i(certificate, NID_subject_alt_name, nil, nil) else { return nil }
        pointer = OpaquePointer(raw)
    }

    deinit { GENERAL_NAMES_free(pointer) }
}

/// Pops every error on this thread's OpenSSL error queue and joins their texts
/// (ERR_error_string_n), for example "error:0A00010B:SSL routines::wrong version number";
/// nil when the queue was empty.
func drainOpenSSLErrors() -> String? {
    var texts: [String] = []
    while true {
        let code = ERR_get_error()
        if code == 0 { break }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        texts.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return texts.isEmpty ? nil : texts.joined(separator: "; ")
}

/// True when the oldest error on the queue says the peer closed the connection mid-record.
func openSSLErrorIsUnexpectedEOF() -> Bool {
    let code = ERR_peek_error()
    return code != 0 && mailaudit_ERR_GET_REASON(code) == mailaudit_SSL_R_UNEXPECTED_EOF_WHILE_READING()
}

/// OpenSSL's text for a verification code; the string is static and never freed.
func verifyCodeText(_ code: Int) -> String {
    guard let text = X509_verify_cert_error_string(code) else { return "verification error \(code)" }
    return String(cString: text)
}

/// Runs `body` with SIGPIPE blocked on this thread, and swallows a SIGPIPE it raised.
///
/// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the peer has gone;
/// unhandled, that ends the process. Blocking it makes the write fail with EPIPE instead.
func withSIGPIPESuppressed<T>(_ body: () -> T) -> T {
    var pipeOnly = sigset_t()
    sigemptyset(&pipeOnly)
    sigaddset(&pipeOnly, SIGPIPE)
    var previous = sigset_t()
    pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
    var pendingBefore = sigset_t()
    sigpending(&pendingBefore)
    let wasPending = sigismember(&pendingBefore, SIGPIPE) == 1
    let result = body()
    var pendingAfter = sigset_t()
    sigpending(&pendingAfter)
    if !wasPending, sigismember(&pendingAfter, SIGPIPE) == 1 {
        var zero = timespec(tv_sec: 0, tv_nsec: 0)
        _ = sigtimedwait(&pipeOnly, nil, &zero)
    }
    pthread_sigmask(SIG_SETMASK, &previous, nil)
    return result
}
