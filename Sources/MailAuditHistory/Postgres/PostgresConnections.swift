import MailAuditCore
import Foundation
import PostgresNIO

/// The PostgreSQL store's connections: one idle connection kept for the next call, more opened
/// when calls overlap, and dedicated ones for the run lock.
///
/// Each call gets a connection of its own for its whole length, so a transaction never shares
/// one. A connection that saw an error is closed rather than kept. There is no background task
/// and no retrying pool: a server that cannot be reached, or refuses the password, fails the
/// call at once with a clear ``HistoryError``.
final class PostgresConnections: Sendable {
    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let state = Locked<(closed: Bool, idle: [PostgresConnection], nextID: Int)>((false, [], 1))
    /// Logs nothing below critical (postgres-nio logs queries at debug and trace).
    let logger: Logger = {
        var logger = Logger(label: "mailaudit.history.postgres")
        logger.logLevel = .critical
        return logger
    }()

    init(location: PostgresLocation) throws(HistoryError) {
        self.location = location
        self.configuration = try location.configuration(
            applicationName: "mailaudit on \(LockPolling.hostName) pid \(getpid())")
    }

    /// A new connection, authenticated and on the database.
    ///
    /// - Throws: ``HistoryError/cannotOpen(_:)`` with the redacted URL and the reason.
    func connect() async throws(HistoryError) -> PostgresConnection {
        let id = state.withLock { state -> Int? in
            guard !state.closed else { return nil }
            defer { state.nextID += 1 }
            return state.nextID
        }
        guard let id else { throw .storage("the store at \(location) is closed") }
        do {
            return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
        } catch {
            throw .cannotOpen("\(location): \(PostgresErrors.describe(error, password: location.password))")
        }
    }

    /// Runs `body` on a connection of its own: the idle one, or a new one.
    ///
    /// - Throws: what `body` throws, mapped by `mapError`; ``HistoryError/cannotOpen(_:)`` when
    ///   no connection can be made.
    func withConnection<T: Sendable>(
        mapError: (any Error) -> HistoryError, _ body: (PostgresConnection) async throws -> T
    ) async throws(HistoryError) -> T {
        if let idle = state.withLock({ state -> PostgresConnection? in state.idle.popLast() }), !idle.isClosed {
            do {
                return try await run(body, on: idle)
            } catch {
                // The kept connection died while idle (a server restart, an idle timeout): once
                // more on a new one. The server rolls back whatever ran on the dead connection
                // (should a COMMIT have got through, a second `save` says the run is already stored).
                guard Self.isClosedConnection(error) else { throw mapError(error) }
            }
        }
        do {
            return try await run(body, on: try await connect())
        } catch {
            throw mapError(error)
        }
    }

    /// `body` on `connection`, which is kept for the next call when `body` succeeds and closed when it throws.
    private func run<T: Sendable>(_ body: (PostgresConnection) async throws -> T, on connection: PostgresConnection) async throws -> T {
        do {
            let result = try await body(connection)
            giveBack(connection)
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func isClosedConnection(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return [PSQLError.Code.serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(error.code)
    }

    /// Keeps `connection` for the next call when none is kept yet and the store is open.
    private func giveBack(_ connection: PostgresConnection) {
        let keep = state.withLock { state -> Bool in
            guard !state.closed, state.idle.isEmpty, !connection.isClosed else { return false }
            state.idle.append(connection)
            return true
        }
        if !keep { connection.close().whenComplete { _ in } }
    }

    func close() async {
        let idle = state.withLock { state -> [PostgresConnection] in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { try? await connection.close() }
    }
}

/// One-line, password-free descriptions of what postgres-nio throws.
enum PostgresErrors {
    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// What went wrong, in words: the server's message and SQLSTATE, or the client's reason.
    /// `password` is scrubbed from the result in any case.
    static func describe(_ error: any Error, password: String?) -> String {
        let text: String
        if let error = error as? PSQLError {
            switch error.code {
            case .server:
                let info = error.serverInfo
                let message = info?[.message] ?? "server error"
                let detail = info?[.detail].map { ": \($0)" } ?? ""
                text = "\(message)\(detail) (SQLSTATE \(info?[.sqlState] ?? "?"))"
            case .connectionError:
                let underlying = error.underlying.map { "\($0)" } ?? "connection failed"
                if underlying.contains("Connection refused") {
                    text = "cannot connect: connection refused (is PostgreSQL running and listening there?)"
                } else if underlying.lowercased().contains("timeout") || underlying.lowercased().contains("timed out") {
                    text = "cannot connect: timed out"
                } else {
                    text = "cannot connect: \(underlying)"
                }
            case .sslUnsupported:
                text = "the server does not offer TLS, and sslmode asks for it"
            case .failedToAddSSLHandler:
                text = "TLS could not be set up: \(error.underlying.map { "\($0)" } ?? "unknown reason")"
            case .authMechanismRequiresPassword:
                text = "the server asks for a password and none was given"
            case .unsupportedAuthMechanism:
                text = "the server asks for an authentication method postgres-nio does not support"
            case .saslError:
                text = "SCRAM authentication failed\(error.underlying.map { ": \($0)" } ?? "")"
            case .serverClosedConnection, .uncleanShutdown:
                text = "the server closed the connection\(error.underlying.map { ": \($0)" } ?? "")"
            case .clientClosedConnection:
                text = "the connection was closed"
            case .queryCancelled:
                text = "the query was cancelled"
            default:
                text = "PostgreSQL client error \(error.code)\(error.underlying.map { ": \($0)" } ?? "")"
            }
        } else if let error = error as? HistoryError {
            text = error.description
        } else {
            text = "\(error)"
        }
        return Redaction.scrub(text, secrets: [password])
    }
}
