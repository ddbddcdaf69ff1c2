// SPF records (RFC 7208 §12) and macro-strings (§7.1), with their expansion: whatever parses
// must render to text that parses back to the same value.
import MailAuditCore
import MailAuditRecords

let contexts = [
    SPFMacroContext(
        sender: "strong-bad@email.example.com", localPart: "strong-bad", senderDomain: "email.example.com",
        domain: "email.example.com", ip: IPAddress("192.0.2.3")!, helo: "mx.example.org", timestamp: 1_700_000_000),
    SPFMacroContext(
        sender: "", localPart: "postmaster", senderDomain: "", domain: "", ip: IPAddress("2001:db8::cb01")!),
]

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let record = try? SPFRecord(parsing: text) {
        let rendered = record.description
        guard let again = try? SPFRecord(parsing: rendered), again == record else {
            fatalError("SPF record does not round-trip: \(rendered.debugDescription)")
        }
    }
    for explanation in [false, true] {
        guard let macro = try? SPFMacroString(parsing: text, allowsSpaces: explanation, allowsExplanationLetters: explanation)
        else { continue }
        guard let again = try? SPFMacroString(
            parsing: macro.description, allowsSpaces: explanation, allowsExplanationLetters: explanation), again == macro
        else { fatalError("SPF macro-string does not round-trip: \(macro.description.debugDescription)") }
        for context in contexts { _ = macro.expand(in: context) }
    }
    return 0
}
