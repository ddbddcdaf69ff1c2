public import Foundation

#if canImport(Glibc)
import MailAuditCore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a finished process left behind.
public struct ProcessResult: Sendable, CustomStringConvertible {
    /// The exit status, or the signal number when `terminatedBySignal`.
    public var exitCode: Int32
    public var terminatedBySignal: Bool
    public var stdout: String
    public var stderr: String
    /// True when the process was killed because it outlived its timeout.
    public var timedOut: Bool

    public var description: String {
        "exit \(exitCode)\(terminatedBySignal ? " (signal)" : "")\(timedOut ? " after timeout" : "")"
            + "\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
    }
}

/// Runs a program to completion with a hard timeout and returns its exit code and output.
///
/// Standard input is `standardInput` (kept in a temporary directory only this user can enter,
/// so that a secret given there never shows in `ps`), or `/dev/null`; output goes to
/// temporary files, so a chatty process can never block on a full pipe. `environment` is
/// added to (and overrides) this process's environment. After `timeout` the process gets
/// SIGTERM, and SIGKILL two seconds later.
///
/// Example: `let result = try await runProcess(try builtProductPath("mailaudit"), ["--version"])`,
/// or `try await runProcess(saslpasswd2, ["-p", "-c", …], standardInput: Data((password + "\n").utf8))`.
/// - Throws: ``HarnessError/launchFailed(path:reason:)`` when it cannot be started.
public func runProcess(
    _ executable: URL, _ arguments: [String] = [], environment: [String: String] = [:],
    currentDirectory: URL? = nil, standardInput: Data? = nil, timeout: Duration = .seconds(60)
) async throws(HarnessError) -> ProcessResult {
    let fileManager = FileManager.default
    let directory = fileManager.temporaryDirectory.appendingPathComponent("mailaudit-run-\(UUID().uuidString)")
    let outURL = directory.appendingPathComponent("stdout")
    let errURL = directory.appendingPathComponent("stderr")
    let inURL = directory.appendingPathComponent("stdin")
    defer { try? fileManager.removeItem(at: directory) }
    let process = Process()
    let exit = ProcessExit()
    var outHandle: FileHandle?, errHandle: FileHandle?, inHandle: FileHandle?
    do {
        // Only this user may enter it: standard input may hold a secret.
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        _ = fileManager.createFile(atPath: outURL.path, contents: nil)
        _ = fileManager.createFile(atPath: errURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        if let standardInput {
            try standardInput.write(to: inURL)
            inHandle = try FileHandle(forReadingFrom: inURL)
            process.standardInput = inHandle
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        outHandle = try FileHandle(forWritingTo: outURL)
        errHandle = try FileHandle(forWritingTo: errURL)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.terminationHandler = { finished in
            exit.finish(status: finished.terminationStatus, signalled: finished.terminationReason == .uncaughtSignal)
        }
    } catch {
        throw .launchFailed(path: executable.path, reason: "\(error)")
    }
    // The child has its own copies once started: keeping ours would leak two descriptors a run,
    // and past 1,024 open descriptors Foundation's Process stops noticing children exit.
    defer {
        try? outHandle?.close()
        try? errHandle?.close()
        try? inHandle?.close()
    }
    try await launchWithDefaultSignalMask(process)
    let pid = process.processIdentifier
    let timedOut = Locked(false)
    let killer = Task {
        try await Task.sleep(for: timeout)
        timedOut.withLock { $0 = true }
        kill(pid, SIGTERM)
        try await Task.sleep(for: .seconds(2))
        kill(pid, SIGKILL)
    }
    let (status, signalled) = await exit.wait()
    killer.cancel()
    let read: (URL) -> String = { url in
        (try? Data(contentsOf: url)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
    return ProcessResult(
        exitCode: status, terminatedBySignal: signalled, stdout: read(outURL), stderr: read(errURL),
        timedOut: timedOut.withLock { $0 })
}

/// Starts `process` from a new thread whose signal mask is empty, as a new process's should be.
///
/// `Process.run()` in swift-corelibs-foundation spawns the child with the calling thread's
/// signal mask, and the Dispatch worker threads that run async code block almost every
/// signal: a child started from a test would then ignore SIGTERM (measured here: `sleep`
/// outlived `terminate()`, and NSD needed SIGKILL).
/// - Throws: ``HarnessError/launchFailed(path:reason:)`` when it cannot be started.
func launchWithDefaultSignalMask(_ process: Process) async throws(HarnessError) {
    let handoff = ProcessHandoff(process)
    let failure: String? = await withCheckedContinuation { continuation in
        let thread = Thread {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            do {
                try handoff.process.run()
                continuation.resume(returning: nil)
            } catch {
                continuation.resume(returning: "\(error)")
            }
        }
        thread.start()
    }
    if let failure { throw .launchFailed(path: process.executableURL?.path ?? "?", reason: failure) }
}

/// Carries a `Process` to the thread that starts it. The caller does not touch the process
/// until that thread has resumed it, so there is no concurrent access.
private final class ProcessHandoff: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
}

/// A one-shot latch for a process's exit, safe to fire before anyone waits.
final class ProcessExit: Sendable {
    private let state = Locked<(result: (Int32, Bool)?, waiter: CheckedContinuation<(Int32, Bool), Never>?)>((nil, nil))

    func finish(status: Int32, signalled: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<(Int32, Bool), Never>? in
            state.result = (status, signalled)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: (status, signalled))
    }

    func wait() async -> (Int32, Bool) {
        await withCheckedContinuation { continuation in
            let result = state.withLock { state -> (Int32, Bool)? in
                if state.result == nil { state.waiter = continuation }
                return state.result
            }
            if let result { continuation.resume(returning: result) }
        }
    }
}

/// The path of an executable built by SwiftPM next to the running test bundle, for example
/// `builtProductPath("mailaudit")` → `.build/x86_64-unknown-linux-gnu/debug/mailaudit`.
///
/// Looks in `$MAILAUDIT_PRODUCTS_DIR` when set, then in the directory of the running
/// executable (on Linux the test runner `mailauditPackageTests.xctest` sits among the
/// products) and up to three directories above it (on macOS the runner is inside a bundle).
/// - Throws: ``HarnessError/productNotFound(name:searched:)`` listing the places looked at.
public func builtProductPath(_ name: String) throws(HarnessError) -> URL {
    var directories: [URL] = []
    if let override = ProcessInfo.processInfo.environment["MAILAUDIT_PRODUCTS_DIR"], !override.isEmpty {
        directories.append(URL(fileURLWithPath: override))
    }
    let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    let runner = FileManager.default.fileExists(atPath: executable.path) && executable.path != "/proc/self/exe"
        ? executable : (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]))
    var directory = runner.deletingLastPathComponent()
    for _ in 0..<4 {
        directories.append(directory)
        directory = directory.deletingLastPathComponent()
    }
    for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
        directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    for directory in directories {
        let candidate = directory.appendingPathComponent(name)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
           FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate
        }
    }
    throw .productNotFound(name: name, searched: directories.map(\.path))
}
