public import Foundation
import MailAuditCore

/// A throwaway certificate authority made at test time with the `openssl` command, and the
/// server certificates of every TLS situation an MX host can be in.
///
/// ```swift
/// let ca = try await TestCA.create()
/// defer { ca.remove() }
/// let expired = try await ca.issue(.expired, for: "mx-expired.test")
/// // Postfix: -o smtpd_tls_chain_files=\(expired.chainFile.path)
/// // Probe:   caFile: ca.rootFile.path, verificationTime: TestCA.referenceTime
/// ```
///
/// Every date is fixed, relative to ``referenceTime`` (2030-01-01), so a test that verifies at
/// that time gets the same answers whatever the clock says. Keys are P-256 (RSA 1024 for
/// ``Kind/weak``), made in a
/// temporary directory and never committed; `remove()` or `deinit` deletes them.
///
/// The hierarchy: "mailaudit Test Root" → "mailaudit Test Intermediate" → leaves; and an
/// untrusted "mailaudit Rogue Root" → "mailaudit Rogue Intermediate" → the unknown-issuer leaf.
public final class TestCA: Sendable {
    /// The time tests verify at: 2030-01-01T00:00:00Z.
    public static let referenceTime = Date(timeIntervalSince1970: 1_893_456_000)

    /// The situations a server certificate can be in.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// Issued by the intermediate for the name, sent with the intermediate; valid from
        /// 2029-01-01 to 2031-01-01 (365 days left at the reference time).
        case valid
        /// Like `valid`, but valid from 2025-01-01 to 2029-01-01: expired 365 days before.
        case expired
        /// Valid, but for "other-name.test" only.
        case wrongName
        /// Signed by its own key.
        case selfSigned
        /// Issued by the intermediate, sent without it: the chain is incomplete.
        case incompleteChain
        /// Issued by the rogue intermediate, sent with it: the chain leads to an unknown root.
        case unknownIssuer
        /// Like `valid`, but with a 1024-bit RSA key and a SHA-1 signature.
        case weak
    }

    /// One server certificate and its files.
    public struct Certificate: Hashable, Sendable {
        public var kind: Kind
        /// The name in its subjectAltName.
        public var subjectName: String
        /// Key, leaf and the chain sent with it, in Postfix's `smtpd_tls_chain_files` order.
        public var chainFile: URL
        /// The leaf alone, PEM.
        public var certificateFile: URL
        public var notBefore: Date
        public var notAfter: Date
    }

    /// The directory holding every key and certificate.
    public let directory: URL
    /// The PEM root to trust (`caFile`); the rogue root is not in it.
    public var rootFile: URL { directory.appendingPathComponent("root/ca.pem") }
    /// The `openssl` command.
    public let openssl: URL
    private let serial = Locked(0)

    private init(directory: URL, openssl: URL) {
        self.directory = directory
        self.openssl = openssl
    }

    deinit { remove() }

    /// Makes the roots and intermediates in a new temporary directory.
    ///
    /// - Throws: ``HarnessError/launchFailed(path:reason:)`` when `openssl` fails.
    public static func create(openssl: URL = URL(fileURLWithPath: "/usr/bin/openssl")) async throws(HarnessError) -> TestCA {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-ca-\(UUID().uuidString)")
        let ca = TestCA(directory: directory, openssl: openssl)
        await launchCleaner(for: directory)
        let caDates = (date(2020), date(2040))
        try await ca.makeAuthority("root", subject: "mailaudit Test Root", issuer: nil, dates: caDates)
        try await ca.makeAuthority("intermediate", subject: "mailaudit Test Intermediate", issuer: "root", dates: caDates)
        try await ca.makeAuthority("rogue-root", subject: "mailaudit Rogue Root", issuer: nil, dates: caDates)
        try await ca.makeAuthority("rogue-intermediate", subject: "mailaudit Rogue Intermediate", issuer: "rogue-root", dates: caDates)
        return ca
    }

    /// Deletes the directory with every key. Safe to call more than once.
    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Issues a server certificate of `kind` for `name` (for ``Kind/wrongName``, for another name).
    ///
    /// - Parameter validity: overrides the kind's dates, for example to expire in 10 days.
    /// - Throws: ``HarnessError/launchFailed(path:reason:)`` when `openssl` fails.
    public func issue(_ kind: Kind, for name: String, validity: (notBefore: Date, notAfter: Date)? = nil) async throws(HarnessError) -> Certificate {
        let number = serial.withLock { value -> Int in
            value += 1
            return value
        }
        let base = "\(kind.rawValue)-\(number)"
        let subjectName = kind == .wrongName ? "other-name.test" : name
        let dates = validity ?? (kind == .expired ? (Self.date(2025), Self.date(2029)) : (Self.date(2029), Self.date(2031)))
        let key = directory.appendingPathComponent("\(base).key")
        let leaf = directory.appendingPathComponent("\(base).pem")
        let csr = directory.appendingPathComponent("\(base).csr")
        let keyOptions = kind == .weak ? ["-newkey", "rsa:1024"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
        try await run(
            ["req", "-config", config("root").path, "-new"] + keyOptions + [
                "-nodes", "-keyout", key.path, "-out", csr.path, "-subj", "/CN=\(subjectName)", "-addext",
                "subjectAltName=DNS:\(subjectName)",
            ])
        let sent: [URL]
        switch kind {
        case .selfSigned:
            let authority = try makeAuthorityDirectory("self-\(number)")
            try await sign(csr: csr, out: leaf, authority: authority, extensions: "self_ext", dates: dates, selfSignKey: key)
            sent = []
        case .unknownIssuer:
            try await sign(csr: csr, out: leaf, authority: "rogue-intermediate", extensions: "leaf_ext", dates: dates)
            sent = [authorityCertificate("rogue-intermediate")]
        case .incompleteChain:
            try await sign(csr: csr, out: leaf, authority: "intermediate", extensions: "leaf_ext", dates: dates)
            sent = []
        case .valid, .expired, .wrongName, .weak:
            try await sign(
                csr: csr, out: leaf, authority: "intermediate", extensions: "leaf_ext", dates: dates, digest: kind == .weak ? "sha1" : "sha256")
            sent = [authorityCertificate("intermediate")]
        }
        let chain = directory.appendingPathComponent("\(base)-chain.pem")
        do {
            var pem = try Data(contentsOf: key)
            for file in [leaf] + sent { pem += try Data(contentsOf: file) }
            try pem.write(to: chain)
            chmod(chain.path, 0o600)
        } catch {
            throw .launchFailed(path: openssl.path, reason: "cannot write \(chain.path): \(error)")
        }
        return Certificate(kind: kind, subjectName: subjectName, chainFile: chain, certificateFile: leaf, notBefore: dates.0, notAfter: dates.1)
    }

    /// January 1st of `year`, 00:00 UTC.
    static func date(_ year: Int) -> Date {
        var components = DateComponents()
        components.year = year
        components.month = 1
        components.day = 1
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar.date(from: components) ?? Date(timeIntervalSince1970: 0)
    }

    private static func opensslTime(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }

    private func authorityCertificate(_ name: String) -> URL { directory.appendingPathComponent("\(name)/ca.pem") }
    private func config(_ name: String) -> URL { directory.appendingPathComponent("\(name)/openssl.cnf") }

    private func makeAuthority(_ name: String, subject: String, issuer: String?, dates: (Date, Date)) async throws(HarnessError) {
        let authority = try makeAuthorityDirectory(name)
        let folder = directory.appendingPathComponent(authority)
        let key = folder.appendingPathComponent("ca.key")
        let csr = folder.appendingPathComponent("ca.csr")
        try await run([
            "req", "-config", config(authority).path, "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key.path, "-out", csr.path, "-subj", "/CN=\(subject)",
        ])
        try await sign(
            csr: csr, out: authorityCertificate(authority), authority: issuer ?? authority, extensions: "ca_ext", dates: dates,
            selfSignKey: issuer == nil ? key : nil)
    }

    private func sign(
        csr: URL, out: URL, authority: String, extensions: String, dates: (Date, Date), selfSignKey: URL? = nil, digest: String = "sha256"
    ) async throws(HarnessError) {
        var arguments = [
            "ca", "-batch", "-notext", "-config", config(authority).path, "-md", digest, "-in", csr.path, "-out", out.path,
            "-extensions", extensions, "-startdate", Self.opensslTime(dates.0), "-enddate", Self.opensslTime(dates.1),
        ]
        if let selfSignKey { arguments += ["-selfsign", "-keyfile", selfSignKey.path] }
        try await run(arguments)
    }

    /// A directory with the database files and configuration `openssl ca` needs.
    private func makeAuthorityDirectory(_ name: String) throws(HarnessError) -> String {
        let folder = directory.appendingPathComponent(name)
        let config = """
            [ ca ]
            default_ca = this_ca
            [ this_ca ]
            dir = \(folder.path)
            database = $dir/index.txt
            new_certs_dir = $dir/newcerts
            serial = $dir/serial
            certificate = $dir/ca.pem
            private_key = $dir/ca.key
            default_md = sha256
            policy = policy_any
            unique_subject = no
            copy_extensions = copy
            email_in_dn = no
            [ policy_any ]
            commonName = supplied
            [ req ]
            distinguished_name = req_dn
            [ req_dn ]
            [ ca_ext ]
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid:always
            [ leaf_ext ]
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectKeyIdentifier = hash
            authorityKeyIdentifier = keyid
            [ self_ext ]
            basicConstraints = CA:FALSE
            extendedKeyUsage = serverAuth
            subjectKeyIdentifier = hash

            """
        do {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent("newcerts"), withIntermediateDirectories: true)
            try Data().write(to: folder.appendingPathComponent("index.txt"))
            try Data("01\n".utf8).write(to: folder.appendingPathComponent("serial"))
            try Data(config.utf8).write(to: folder.appendingPathComponent("openssl.cnf"))
        } catch {
            throw .launchFailed(path: openssl.path, reason: "cannot prepare \(folder.path): \(error)")
        }
        return name
    }

    /// A shell loop that removes the directory if the test process dies before `remove()`,
    /// so no key outlives the tests; it ends by itself once the directory is gone.
    private static func launchCleaner(for directory: URL) async {
        let cleaner = Process()
        cleaner.executableURL = URL(fileURLWithPath: "/bin/sh")
        cleaner.arguments = [
            "-c", #"while kill -0 "$1" 2>/dev/null; do sleep 0.5; [ -e "$2" ] || exit 0; done; rm -rf "$2""#,
            "testca-cleaner", String(getpid()), directory.path,
        ]
        cleaner.standardInput = FileHandle.nullDevice
        cleaner.standardOutput = FileHandle.nullDevice
        cleaner.standardError = FileHandle.nullDevice
        try? await launchWithDefaultSignalMask(cleaner)
    }

    private func run(_ arguments: [String]) async throws(HarnessError) {
        let result = try await runProcess(openssl, arguments, timeout: .seconds(30))
        guard result.exitCode == 0 else {
            throw .launchFailed(path: openssl.path, reason: "openssl \(arguments.prefix(2).joined(separator: " ")): \(result)")
        }
    }
}
