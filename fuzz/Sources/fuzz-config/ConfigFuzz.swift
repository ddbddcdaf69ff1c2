// The scheduled audit's TOML configuration: our TOML parser (MailAuditRecords/TOML), then every
// value checked.
import MailAuditConfig

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let configuration = try RunConfiguration.parse(text, file: "fuzz.toml")
        _ = configuration.domains.count
    } catch {
        _ = error.description
    }
    return 0
}
