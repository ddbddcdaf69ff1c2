import Foundation
import PostgresNIO

/// Where a PostgreSQL history lives, parsed from
/// `postgres://user[:password]@host[:port]/database[?sslmode=…&sslrootcert=…&connect_timeout=…]`
/// (`postgresql://` too; user, password and database may be percent-encoded; an IPv6 host in brackets).
///
/// `sslmode` follows libpq's meanings:
/// - `disable`: plain TCP;
/// - `allow`, `prefer` (the default, as in libpq and psql): TLS when the server offers it, the
///   certificate not checked, plain TCP otherwise;
/// - `require`: TLS or nothing, the certificate not checked (checked against `sslrootcert`
///   when given, as libpq does);
/// - `verify-ca`: TLS, the chain checked against `sslrootcert` or the system's roots;
/// - `verify-full`: as `verify-ca`, and the host name checked too.
///
/// Its ``description`` is the URL with the password replaced by `***`.
struct PostgresLocation: Sendable, CustomStringConvertible {
    enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String
    var sslMode: SSLMode
    var rootCertificatePath: String?
    var connectTimeout: Duration

    /// The URL without its password: safe for messages.
    var description: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var query: [String] = ["sslmode=\(sslMode.rawValue)"]
        if let rootCertificatePath { query.append("sslrootcert=\(rootCertificatePath)") }
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(hostPart):\(port)/\(database)?" + query.joined(separator: "&")
    }

    /// Parses `text`; `password`, when given, wins over one in the URL.
    ///
    /// - Throws: ``HistoryError/cannotOpen(_:)`` saying what is wrong, with the URL redacted.
    init(parsing text: String, password explicitPassword: String?) throws(HistoryError) {
        // The query is left out: it may hold a misplaced secret (errors about it name the parameter).
        let withoutQuery = text.firstIndex(of: "?").map { String(text[..<$0]) + "?…" } ?? text
        let shown = Redaction.scrub(Redaction.url(withoutQuery), secrets: [explicitPassword])
        func fail(_ reason: String) -> HistoryError { .cannotOpen("\(shown): \(reason)") }
        guard let components = URLComponents(string: text) else { throw fail("not a URL") }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw fail("the scheme must be postgres:// or postgresql://")
        }
        guard let user = components.user, !user.isEmpty else { throw fail("no user name (postgres://USER@host/database)") }
        var host = components.host ?? ""
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw fail("no host name (postgres://user@HOST/database)") }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else { throw fail("no database name (postgres://user@host/DATABASE)") }
        if let port = components.port, !(1...65535).contains(port) { throw fail("the port must be 1 to 65535") }
        self.user = user
        self.password = explicitPassword ?? components.password
        self.host = host
        self.port = components.port ?? 5432
        self.database = path
        self.sslMode = .prefer
        self.rootCertificatePath = nil
        self.connectTimeout = .seconds(10)
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw fail("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
            case "sslrootcert":
                rootCertificatePath = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else { throw fail("connect_timeout must be a number of seconds") }
                connectTimeout = .seconds(seconds)
            default:
                // Only the name: a misplaced secret in the value stays hidden.
                throw fail("unknown parameter \"\(item.name)\" (known: sslmode, sslrootcert, connect_timeout)")
            }
        }
    }

    /// A `postgres-nio` configuration for this location; `applicationName` shows in `pg_stat_activity`.
    ///
    /// - Throws: ``HistoryError/cannotOpen(_:)`` when the TLS context cannot be made (an unreadable `sslrootcert`).
    func configuration(applicationName: String) throws(HistoryError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch sslMode {
            case .disable:
                tls = .disable
            case .allow, .prefer:
                tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration(verification: .none)))
            case .require:
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration(
                    verification: rootCertificatePath == nil ? .none : .noHostnameVerification)))
            case .verifyCA:
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration(verification: .noHostnameVerification)))
            case .verifyFull:
                tls = .require(try NIOSSLContext(configuration: tlsConfiguration(verification: .fullVerification)))
            }
        } catch {
            throw .cannotOpen("\(self): TLS setup failed: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000)
        configuration.options.additionalStartupParameters = [("application_name", String(applicationName.utf8.prefix(63)) ?? "mailaudit")]
        return configuration
    }

    private func tlsConfiguration(verification: CertificateVerification) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verification
        if let rootCertificatePath { configuration.trustRoots = .file(rootCertificatePath) }
        return configuration
    }
}
