import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended, and what it used.
struct ChildExit: Sendable {
    /// The exit status, or the signal number when `signalled`.
    var status: Int32
    var signalled: Bool
    var timedOut = false
    /// User plus system CPU time of the process itself.
    var cpuSeconds: Double
    var peakRSSKiB: Int

    init(waitStatus: Int32, usage: rusage) {
        let signal = waitStatus & 0x7f
        signalled = signal != 0
        status = signalled ? signal : (waitStatus >> 8) & 0xff
        cpuSeconds = seconds(usage.ru_utime) + seconds(usage.ru_stime)
        peakRSSKiB = Int(usage.ru_maxrss)
    }
}

/// A child process started with posix_spawn and reaped with wait4, which gives its own CPU time
/// and peak RSS: getrusage(RUSAGE_CHILDREN) would mix in every child reaped before it (NSD,
/// tcpdump, checkdmarc's Python).
///
/// Its signal mask is emptied: the threads async code runs on block most signals and a child
/// inherits the mask, so tcpdump would otherwise never see the SIGINT that stops it.
final class ChildProcess: Sendable {
    let pid: pid_t

    private struct State {
        var exit: ChildExit?
        var waiter: CheckedContinuation<ChildExit, Never>?
        var timedOut = false
    }
    private let state = Mutex(State())

    /// Starts `executable` with standard input from /dev/null and its output in two files.
    init(_ executable: String, _ arguments: [String], stdout: URL, stderr: URL) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultActions = sigset_t()
        sigemptyset(&defaultActions)
        for signal in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaultActions, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultActions)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else { throw BenchmarkError("cannot start \(executable): \(String(cString: strerror(result)))") }
        self.pid = pid
        Thread { [self] in
            var waitStatus: Int32 = 0
            var usage = rusage()
            while wait4(self.pid, &waitStatus, 0, &usage) < 0 && errno == EINTR {}
            finish(ChildExit(waitStatus: waitStatus, usage: usage))
        }.start()
    }

    var hasExited: Bool { state.withLock { $0.exit != nil } }

    func send(_ signal: Int32) {
        state.withLock { if $0.exit == nil { kill(pid, signal) } }
    }

    /// Waits for the exit; past `timeout` sends SIGTERM, and SIGKILL two seconds later.
    func wait(timeout: Duration) async -> ChildExit {
        let killer = Task {
            try await Task.sleep(for: timeout)
            state.withLock { $0.timedOut = true }
            send(SIGTERM)
            try await Task.sleep(for: .seconds(2))
            send(SIGKILL)
        }
        var exit = await withCheckedContinuation { continuation in
            let exit = state.withLock { state in
                if state.exit == nil { state.waiter = continuation }
                return state.exit
            }
            if let exit { continuation.resume(returning: exit) }
        }
        killer.cancel()
        exit.timedOut = state.withLock { $0.timedOut }
        return exit
    }

    private func finish(_ exit: ChildExit) {
        let waiter = state.withLock { state in
            state.exit = exit
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: exit)
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The first executable called `name` on PATH or in the sbin directories.
func executablePath(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let directories = path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin", "/usr/bin"]
    return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}

func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
