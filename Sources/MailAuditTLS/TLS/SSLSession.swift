internal import COpenSSL
import Foundation
import MailAuditCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one `SSL` and the recorder its verify callback writes to.
final class SSLSession {
    let pointer: OpaquePointer
    /// SSL_new takes its own reference on the SSL_CTX; holding ours as well keeps the
    /// lifetimes plain to read.
    private let context: TLSContext
    private let recorder = VerificationRecorder()
    private let descriptor: Int32
    private let mode: TLSVerificationMode

    init(context: TLSContext, descriptor: Int32, configuration: TLSClientConfiguration) throws(TLSFailure) {
        // SSL_new: freed with SSL_free in deinit; it holds its own reference on the context.
        guard let ssl = SSL_new(context.pointer) else {
            throw .configuration("SSL_new: \(drainOpenSSLErrors() ?? "failed")")
        }
        pointer = ssl
        self.context = context
        self.descriptor = descriptor
        mode = configuration.mode
        // SSL_set_fd wraps the descriptor in a socket BIO that the SSL owns and frees; the BIO
        // does not close the descriptor (BIO_NOCLOSE): the TCPConnection does.
        guard SSL_set_fd(ssl, descriptor) == 1 else {
            throw .configuration("SSL_set_fd: \(drainOpenSSLErrors() ?? "failed")")
        }
        // App data (ex_data 0) points at the recorder, unretained: this object outlives the SSL's use of it.
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(recorder).toOpaque())
        if let name = configuration.serverName, !name.isEmpty {
            // All copy the name. SNI carries host names only (RFC 6066 §3); an address
            // literal is checked against the certificate's IP addresses instead.
            if IPAddress(name) == nil {
                _ = mailaudit_SSL_set_tlsext_host_name(ssl, name)
                _ = SSL_set1_host(ssl, name)
            } else {
                _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)  // the param is borrowed
            }
        }
        if let time = configuration.verificationTime {
            // SSL_get0_param: borrowed from the SSL. set_time also turns on X509_V_FLAG_USE_CHECK_TIME.
            X509_VERIFY_PARAM_set_time(SSL_get0_param(ssl), time_t(time.timeIntervalSince1970.rounded(.down)))
        }
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(pointer) }

    func handshake(deadline: ContinuousClock.Instant) throws(TLSFailure) {
        while true {
            ERR_clear_error()
            let result = withSIGPIPESuppressed { SSL_do_handshake(pointer) }
            if result == 1 { return }
            let error = SSL_get_error(pointer, result)
            let savedErrno = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                let events = Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT)
                switch waitForSocket(descriptor, events: events, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .timedOut
                case .failed(let code): throw .handshakeFailed(errnoText(code))
                }
            case SSL_ERROR_ZERO_RETURN:
                throw .closed
            case SSL_ERROR_SYSCALL:
                if openSSLErrorIsUnexpectedEOF() { _ = drainOpenSSLErrors(); throw .closed }
                if let reason = drainOpenSSLErrors() { throw .handshakeFailed(reason) }
                if savedErrno == 0 || savedErrno == ECONNRESET || savedErrno == EPIPE { throw .closed }
                throw .handshakeFailed(errnoText(savedErrno))
            default:
                if mode == .strict, let refusal = strictRefusal() { throw refusal }
                if openSSLErrorIsUnexpectedEOF() { _ = drainOpenSSLErrors(); throw .closed }
                throw .handshakeFailed(drainOpenSSLErrors() ?? "SSL error \(error)")
            }
        }
    }

    /// Why a strict handshake was aborted on purpose, or nil for any other failure: a chain
    /// that failed verification, or no protocol version at or above the floor.
    private func strictRefusal() -> TLSFailure? {
        let result = VerifyCode(rawValue: SSL_get_verify_result(pointer))
        if result != .ok {
            _ = drainOpenSSLErrors()
            // The callback returned OpenSSL's verdict, so the first error is the one that aborted.
            let error = recorder.errors.first { $0.code == result }
                ?? VerifyError(code: result, depth: 0, subject: "", issuer: "", isCA: false)
            return .verificationFailed(error)
        }
        let versionReasons = [SSL_R_UNSUPPORTED_PROTOCOL, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION, SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_VERSION_TOO_LOW]
        let code = ERR_peek_error()
        guard code != 0, versionReasons.contains(mailaudit_ERR_GET_REASON(code)) else { return nil }
        return .protocolVersionRefused(drainOpenSSLErrors() ?? "unsupported protocol")
    }

    /// The address of the `SSL_CTX` OpenSSL uses for this SSL (borrowed; never freed here).
    var contextAddress: UInt { UInt(bitPattern: SSL_get_SSL_CTX(pointer)) }

    /// Copies the negotiated parameters, the chain and the verification out of the SSL.
    func facts(configuration: TLSClientConfiguration) -> TLSFacts {
        // SSL_get_current_cipher: borrowed; SSL_CIPHER_get_name: a static string.
        let cipher = SSL_get_current_cipher(pointer).flatMap { SSL_CIPHER_get_name($0) }.map { String(cString: $0) } ?? "unknown"
        var chain: [CertificateFacts] = []
        var leaf: OpaquePointer?
        // SSL_get_peer_cert_chain: borrowed. On the client side it is the Certificate message
        // as sent, leaf first (on the server side it would lack the leaf); TLSClientTests
        // compare it with the server's chain file.
        if let stack = SSL_get_peer_cert_chain(pointer) {
            for index in 0..<min(20, max(0, mailaudit_sk_X509_num(stack))) {
                guard let certificate = mailaudit_sk_X509_value(stack, index) else { continue }  // borrowed
                if index == 0 { leaf = certificate }
                chain.append(CertificateFacts(certificate: certificate))
            }
        }
        if leaf == nil { leaf = SSL_get0_peer_certificate(pointer) }  // borrowed
        var hostNameMatches: Bool?
        if let name = configuration.serverName, !name.isEmpty, let leaf {
            hostNameMatches = IPAddress(name) == nil
                ? X509_check_host(leaf, name, name.utf8.count, 0, nil) == 1
                : X509_check_ip_asc(leaf, name, 0) == 1
        }
        let verifiedAt = configuration.verificationTime ?? Date()
        let errors = recorder.errors
        let verification = ChainVerification(
            result: VerifyCode(rawValue: SSL_get_verify_result(pointer)),
            errors: errors,
            hostNameMatches: hostNameMatches,
            hostName: configuration.serverName,
            verifiedAt: verifiedAt,
            daysUntilExpiry: chain.first?.daysUntilExpiry(at: verifiedAt),
            untrusted: UntrustedChain.classify(errors))
        return TLSFacts(
            protocolVersion: TLSProtocolVersion(rawValue: Int(SSL_version(pointer))), cipher: cipher, peerChain: chain,
            verification: verification)
    }

    func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(StreamError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max(1, min(maxBytes, 65_536)))
        while true {
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { raw in
                withSIGPIPESuppressed { SSL_read(pointer, raw.baseAddress, Int32(raw.count)) }
            }
            if count > 0 { return Array(buffer.prefix(Int(count))) }
            let error = SSL_get_error(pointer, count)
            let savedErrno = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                try waitToRetry(error, deadline: deadline)
            case SSL_ERROR_ZERO_RETURN:
                return []
            case SSL_ERROR_SYSCALL:
                if openSSLErrorIsUnexpectedEOF() || savedErrno == 0 { _ = drainOpenSSLErrors(); return [] }
                if let reason = drainOpenSSLErrors() { throw .failed(reason) }
                throw StreamError(errno: savedErrno)
            default:
                // A server that closes without close_notify (common after QUIT) ends the stream.
                if openSSLErrorIsUnexpectedEOF() { _ = drainOpenSSLErrors(); return [] }
                throw .failed(drainOpenSSLErrors() ?? "SSL error \(error)")
            }
        }
    }

    /// Waits until the socket is ready for what OpenSSL asked for (WANT_READ or WANT_WRITE).
    private func waitToRetry(_ error: Int32, deadline: ContinuousClock.Instant) throws(StreamError) {
        switch waitForSocket(descriptor, events: Int16(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT), deadline: deadline) {
        case .ready: return
        case .timedOut: throw .timedOut
        case .failed(let code): throw StreamError(errno: code)
        }
    }

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(StreamError) {
        guard !bytes.isEmpty else { return }
        while true {
            ERR_clear_error()
            // Without SSL_MODE_ENABLE_PARTIAL_WRITE, SSL_write writes all or nothing, and a
            // retry must pass the same buffer.
            let count = bytes.withUnsafeBytes { raw in
                withSIGPIPESuppressed { SSL_write(pointer, raw.baseAddress, Int32(raw.count)) }
            }
            if count > 0 { return }
            let error = SSL_get_error(pointer, count)
            let savedErrno = errno
            switch error {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                try waitToRetry(error, deadline: deadline)
            case SSL_ERROR_ZERO_RETURN:
                throw .closed
            case SSL_ERROR_SYSCALL:
                if let reason = drainOpenSSLErrors() { throw .failed(reason) }
                throw savedErrno == 0 ? .closed : StreamError(errno: savedErrno)
            default:
                throw .failed(drainOpenSSLErrors() ?? "SSL error \(error)")
            }
        }
    }

    /// One non-blocking SSL_shutdown: sends close_notify if it can, waits for nothing.
    func shutdown() {
        ERR_clear_error()
        _ = withSIGPIPESuppressed { SSL_shutdown(pointer) }
        ERR_clear_error()
    }
}
