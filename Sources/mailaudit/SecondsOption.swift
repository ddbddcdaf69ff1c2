/// The check every option in seconds shares (`--timeout`, `--deadline`, `--connect-timeout`, …):
/// durations are used in whole milliseconds, so a value that would become 0 ms (`--timeout
/// 0.0001`) is refused instead of silently meaning "no time at all".
enum SecondsOption {
    /// The shortest duration accepted: 1 ms.
    static let minimum = 0.001

    /// Why `value` is no duration for `flag`, or nil. With `zeroAllowed` (`--wait-lock 0`: do not
    /// wait), exactly 0 is accepted, but nothing between 0 and 1 ms.
    static func problem(_ flag: String, _ value: Double, atMost limit: Double, zeroAllowed: Bool = false) -> String? {
        if zeroAllowed && value == 0 { return nil }
        guard value.isFinite, value >= minimum, value <= limit else {
            return "\(flag) must be \(zeroAllowed ? "0, or " : "")between 0.001 (1 ms) and \(Int(limit)) seconds"
        }
        return nil
    }
}
