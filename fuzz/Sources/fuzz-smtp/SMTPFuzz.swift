// SMTP replies (RFC 5321 §4.2), EHLO capabilities, enhanced status codes and the text that
// `mailaudit explain` reads.
import MailAuditRecords

/// One input; a trap, a sanitizer report or a leak is what the fuzzer looks for.
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let reply = try? SMTPReply(parsing: text) {
        // The rendering must parse again. Not always to an equal value: a CR ending the last
        // line is taken as its line end (see docs/fuzzing.md).
        let rendered = reply.description
        guard (try? SMTPReply(parsing: rendered)) != nil else {
            fatalError("SMTP reply renders as text that does not parse: \(rendered.debugDescription)")
        }
        let capabilities = SMTPCapabilities(ehloReply: reply)
        _ = capabilities.supportsSTARTTLS
        _ = reply.enhancedStatusCode
        _ = reply.indicatesRateLimiting
        _ = SMTPReplyExplainer.explain(reply, after: nil)
    }
    if let input = try? SMTPExplainQuery(parsing: text) {
        _ = input.explanation
    }
    return 0
}
