/// Why a piece of the test harness could not do its job. These are environment faults
/// (a port, a process, a missing file), never DNS outcomes.
public enum HarnessError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The harness only ever talks to 127.0.0.0/8 and ::1; another address was given.
    case notLoopback(String)
    /// No free port could be found on the loopback interface.
    case noFreePort
    /// A socket call failed.
    case socket(String)
    /// NSD exited or never answered; `log` holds what it wrote to stderr.
    case nsdDidNotStart(reason: String, log: String)
    /// A server was used before `start()` or after `stop()`.
    case notRunning(String)
    /// A zone directory could not be read or holds no `*.zone` file.
    case zoneDirectory(String)
    /// A built product was not found; `searched` lists the places looked at.
    case productNotFound(name: String, searched: [String])
    /// A process could not be launched.
    case launchFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .notLoopback(let address):
            "\(address) is not a loopback address; the harness only talks to 127.0.0.0/8 and ::1"
        case .noFreePort: "no free port on 127.0.0.1"
        case .socket(let reason): "socket error: \(reason)"
        case .nsdDidNotStart(let reason, let log):
            "NSD did not start: \(reason)" + (log.isEmpty ? "" : "\n--- nsd stderr ---\n\(log)")
        case .notRunning(let what): "\(what) is not running"
        case .zoneDirectory(let reason): "zone directory: \(reason)"
        case .productNotFound(let name, let searched):
            "built product \"\(name)\" not found; looked in: \(searched.joined(separator: ", "))"
        case .launchFailed(let path, let reason): "could not launch \(path): \(reason)"
        }
    }
}
