import MailAuditCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a harness server or listener holds while it runs: stored by `start()`, read by `port`
/// and the like, and taken out by `stop()`, so that only one `stop()` tears it down.
final class RunningState<Value: Sendable>: Sendable {
    private let value = Locked<Value?>(nil)

    init() {}

    func store(_ running: Value) {
        value.withLock { $0 = running }
    }

    /// `body` applied to the running value, or nil when nothing runs.
    func read<Result: Sendable>(_ body: (Value) -> Result?) -> Result? {
        value.withLock { $0.flatMap(body) }
    }

    /// The running value, which is left empty: nil when nothing runs or another caller took it.
    func take() -> Value? {
        value.withLock { value -> Value? in
            defer { value = nil }
            return value
        }
    }
}

/// The process handling NSDServer and PostfixServer share: a temporary directory per run, a
/// shell watchdog that cleans up when the test process dies first, and SIGTERM-then-SIGKILL.
enum LocalServerProcess {
    /// A fresh path for one run's files: `<temporary directory>/mailaudit-<kind>-<UUID>`.
    static func temporaryDirectory(_ kind: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mailaudit-\(kind)-\(UUID().uuidString)")
    }

    /// Starts `/bin/sh -c script name arguments…` with no input or output (`$1`… are the
    /// arguments). Returns nil when it cannot be started: the server then runs without one.
    static func watchdog(_ name: String, script: String, arguments: [String]) async -> Process? {
        let watchdog = Process()
        watchdog.executableURL = URL(fileURLWithPath: "/bin/sh")
        watchdog.arguments = ["-c", script, name] + arguments
        watchdog.standardInput = FileHandle.nullDevice
        watchdog.standardOutput = FileHandle.nullDevice
        watchdog.standardError = FileHandle.nullDevice
        do {
            try await launchWithDefaultSignalMask(watchdog)
            return watchdog
        } catch {
            return nil
        }
    }

    /// The watchdog of a server this test process started: when the test process dies first,
    /// it terminates the server (SIGTERM, then SIGKILL a second later) and removes `directory`.
    static func serverWatchdog(_ name: String, server: Process, directory: URL) async -> Process? {
        await watchdog(
            name,
            script: """
                while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 0.5; done
                if ! kill -0 "$1" 2>/dev/null; then kill -TERM "$2" 2>/dev/null; sleep 1; kill -KILL "$2" 2>/dev/null; rm -rf "$3"; fi
                """,
            arguments: [String(getpid()), String(server.processIdentifier), directory.path])
    }

    /// Stops a server and its watchdog (SIGTERM, SIGKILL after two seconds) and removes its directory.
    static func stopServer(_ server: Process, watchdog: Process?, directory: URL) {
        terminate(
            grace: .seconds(2), isRunning: { server.isRunning }, terminate: { server.terminate() },
            forceKill: { _ = kill(server.processIdentifier, SIGKILL) })
        if let watchdog, watchdog.isRunning { watchdog.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// When `isRunning`: `terminate` (SIGTERM), then polls every 10 ms for up to `grace`, then
    /// `forceKill` (SIGKILL) if it still runs. Blocks the calling thread meanwhile.
    static func terminate(
        grace: Duration, isRunning: () -> Bool, terminate: () -> Void, forceKill: () -> Void
    ) {
        guard isRunning() else { return }
        terminate()
        let deadline = ContinuousClock.now + grace
        while isRunning() && ContinuousClock.now < deadline { usleep(10_000) }
        if isRunning() { forceKill() }
    }
}
