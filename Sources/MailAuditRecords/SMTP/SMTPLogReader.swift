/// Finds the reply code, enhanced code, reply text and step in a server reply or a Postfix or
/// Exim log line. Works on bytes, linear in the input; never traps on odd input.
struct SMTPLogReader {
    struct Found: Hashable {
        var code: Int?
        var enhanced: EnhancedStatusCode?
        var text: String
        var step: SMTPCommandStep?
        var kind: SMTPExplainQuery.Kind
        var inferred = false
    }

    let text: String
    let bytes: [UInt8]
    let lowered: [UInt8]

    init(_ text: String) {
        self.text = text
        bytes = Array(text.utf8)
        // ASCII lower-casing keeps byte offsets equal to `bytes`.
        lowered = bytes.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
    }

    func read() -> Found? {
        let kind = detectKind()
        if kind == .reply, let found = readReply() { return found }
        let step = detectStep(kind: kind)
        if let found = readEmbeddedReply(kind: kind, step: step) { return found }
        if let found = inferFromLog(kind: kind, step: step) { return found }
        // Only an enhanced code: "dsn=5.7.1", a DSN's "Status: 5.1.1", or one in running text.
        if let enhanced = dsnCode() ?? firstEnhancedCode(from: 0).map(\.code) {
            // Postfix says why in "status=bounced (…)" when the failure was not a reply.
            let status = after("status=").map(Self.droppingUnbalancedParentheses) ?? ""
            return Found(code: nil, enhanced: enhanced, text: status, step: step, kind: kind == .reply ? .logLine : kind)
        }
        return nil
    }

    // MARK: - Kinds and steps

    private func detectKind() -> SMTPExplainQuery.Kind {
        if has("postfix/") || has("postfix[") || has("noqueue: ") || has("(in reply to ") || (has("status=") && has("dsn="))
            || (has("sasl ") && has("authentication failed")) {
            return .postfixLog
        }
        if has("smtp error from remote mail server") || has(" ** ") || has("rejected rcpt") || has("rejected mail")
            || has("rejected after data") || has("authenticator failed") || (has(" h=") && (has(" r=") || has(" f=<"))) {
            return .eximLog
        }
        if Self.replyCode(Array(bytes.prefix(3))) != nil, bytes.count == 3 || [UInt8(ascii: " "), UInt8(ascii: "-"), 0x0D, 0x0A].contains(bytes[3]) {
            return .reply
        }
        return .logLine
    }

    private static let stepPhrases: [(String, SMTPCommandStep)] = [
        // Postfix, client side: "(in reply to RCPT TO command)".
        ("in reply to rcpt to command", .rcpt), ("in reply to mail from command", .mail),
        ("in reply to end of data command", .message), ("in reply to data command", .data),
        ("in reply to ehlo command", .ehlo), ("in reply to helo command", .helo),
        ("in reply to starttls command", .startTLS), ("in reply to auth command", .auth),
        ("in reply to quit command", .quit), ("in reply to rset command", .rset),
        ("refused to talk to me", .greeting), ("sasl authentication failed", .auth),
        // Postfix, server side: "NOQUEUE: reject: RCPT from host[addr]: …".
        ("reject: rcpt from", .rcpt), ("reject: mail from", .mail), ("reject: data from", .data),
        ("reject: end-of-message from", .message), ("reject: connect from", .greeting),
        ("reject: ehlo from", .ehlo), ("reject: helo from", .helo), ("reject: starttls from", .startTLS),
        ("reject: header ", .message), ("reject: body ", .message),
        // Exim, client side: "SMTP error from remote mail server after RCPT TO:<…>: …".
        ("after pipelined rcpt to", .rcpt), ("after rcpt to", .rcpt),
        ("after pipelined mail from", .mail), ("after mail from", .mail),
        ("after pipelined end of data", .message), ("after end of data", .message),
        ("after pipelined data", .data), ("after data", .data),
        ("after initial connection", .greeting), ("after auth", .auth), ("after pipelined auth", .auth),
        ("after ehlo", .ehlo), ("after helo", .helo), ("after starttls", .startTLS), ("after quit", .quit),
        // Exim, server side.
        ("rejected rcpt", .rcpt), ("rejected mail", .mail), ("rejected after data", .message),
        ("rejected ehlo", .ehlo), ("rejected helo", .helo), ("rejected connection", .greeting),
        ("authenticator failed", .auth),
    ]

    /// The step the log line names; for a plain reply only Postfix's "in reply to" counts, since
    /// the server's own words could name anything.
    private func detectStep(kind: SMTPExplainQuery.Kind) -> SMTPCommandStep? {
        if kind == .postfixLog, has("sasl "), has(" authentication failed") { return .auth }
        var best: (position: Int, step: SMTPCommandStep)?
        for (phrase, step) in Self.stepPhrases where kind != .reply || phrase.hasPrefix("in reply to ") {
            guard let position = find(phrase) else { continue }
            if let best, best.position <= position { continue }
            best = (position, step)
        }
        // The phrase nearest the start wins: it is the log's own words, not the quoted reply's.
        return best?.step
    }

    // MARK: - Replies

    private func readReply() -> Found? {
        let limits = SMTPLimits(maximumLineLength: SMTPExplainQuery.maximumLength, maximumReplyLines: 1000)
        guard let reply = try? SMTPReply(parsing: text, limits: limits) else { return nil }
        let enhanced = reply.enhancedStatusCode
        let lines = reply.lines.map { line -> Substring in
            var rest = Substring(line)
            if let first = rest.split(separator: " ", maxSplits: 1).first, let code = EnhancedStatusCode(String(first)),
               code.klass.rawValue == reply.code / 100 {
                rest = rest.dropFirst(first.count).drop { $0 == " " }
            }
            return rest
        }
        let joined = lines.filter { !$0.isEmpty }.joined(separator: " ")
        return Found(code: reply.code, enhanced: enhanced, text: joined, step: detectStep(kind: .reply), kind: .reply)
    }

    private static let markers = ["said: ", "smtp error from remote mail server after ", "reject: ", "refused to talk to me: ",
                                  "diagnostic-code:", "authenticator failed"]

    private func readEmbeddedReply(kind: SMTPExplainQuery.Kind, step: SMTPCommandStep?) -> Found? {
        let candidates = codeCandidates()
        guard !candidates.isEmpty else { return nil }
        let markerEnd = Self.markers.compactMap { marker in find(marker).map { $0 + marker.utf8.count } }.min()
        let chosen = markerEnd.flatMap { end in candidates.first { $0.start >= end } } ?? candidates[0]
        var position = chosen.start + 3
        if position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "-") { position += 1 }
        var enhanced: EnhancedStatusCode?
        if let token = enhancedCode(at: position), token.code.klass.rawValue == chosen.code / 100 {
            enhanced = token.code
            position = token.end
        }
        while position < bytes.count, bytes[position] == UInt8(ascii: " ") { position += 1 }
        var end = bytes[position...].firstIndex { $0 == 0x0A || $0 == 0x0D } ?? bytes.count
        // Postfix appends "(in reply to … command)" on the client side, "; from=<…> to=<…> proto=…" on the server side.
        for terminator in [" (in reply to ", "; from=<", "; to=<", "; proto="] {
            if let cut = find(terminator, from: position), cut < end { end = cut }
        }
        var replyText = String(decoding: bytes[position..<end], as: UTF8.self)
        if let enhanced {
            // Postfix flattens a multi-line reply onto one line, repeating "550-5.7.1" on each part.
            for separator in ["-", " "] {
                replyText = replyText.replacing("\(chosen.code)\(separator)\(enhanced) ", with: "")
            }
        }
        replyText = Self.droppingUnbalancedParentheses(replyText)
        if enhanced == nil, let dsn = dsnCode(), dsn.klass.rawValue == chosen.code / 100 { enhanced = dsn }
        return Found(code: chosen.code, enhanced: enhanced, text: replyText, step: step, kind: kind == .reply ? .reply : kind)
    }

    /// Log lines that carry no code, whose code the mail server's behaviour fixes.
    private func inferFromLog(kind: SMTPExplainQuery.Kind, step: SMTPCommandStep?) -> Found? {
        switch kind {
        case .postfixLog where has("sasl ") && has(" authentication failed"):
            // Postfix smtpd answers a failed SASL exchange with "535 5.7.8 Error: authentication failed: …".
            let reason = after(": authentication failed") ?? after("authentication failed") ?? ""
            return Found(code: 535, enhanced: EnhancedStatusCode(.permanentFailure, 7, 8), text: "authentication failed" + reason,
                         step: .auth, kind: .postfixLog, inferred: true)
        case .eximLog:
            guard let step, [.rcpt, .mail, .message, .ehlo, .helo, .greeting].contains(step), has("rejected") else { return nil }
            let temporary = has("temporarily rejected")
            let code = temporary ? 451 : (step == .greeting ? 554 : 550)
            let reason = after(">: ") ?? after("]: ") ?? ""
            return Found(code: code, enhanced: nil, text: reason, step: step, kind: .eximLog, inferred: true)
        default:
            return nil
        }
    }

    // MARK: - Codes

    /// A reply code: exactly three digits, 2–5, 0–5, 0–9 (RFC 5321 §4.2).
    static func replyCode(_ digits: [UInt8]) -> Int? {
        guard digits.count == 3, (UInt8(ascii: "2")...UInt8(ascii: "5")).contains(digits[0]),
              (UInt8(ascii: "0")...UInt8(ascii: "5")).contains(digits[1]), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digits[2])
        else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Places where a reply code stands as a word: after the start, a space or "(", before a
    /// space, a hyphen or the end of a line.
    private func codeCandidates() -> [(start: Int, code: Int)] {
        guard bytes.count >= 3 else { return [] }
        var result: [(start: Int, code: Int)] = []
        let before: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "("), UInt8(ascii: "\""), UInt8(ascii: "'")]
        let after: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "-")]
        for index in 0...(bytes.count - 3) {
            guard index == 0 || before.contains(bytes[index - 1]) else { continue }
            guard index + 3 == bytes.count || after.contains(bytes[index + 3]) else { continue }
            if let code = Self.replyCode(Array(bytes[index..<index + 3])) { result.append((index, code)) }
        }
        return result
    }

    /// An enhanced code starting exactly at `position`, ending before a space, punctuation or the end.
    private func enhancedCode(at position: Int) -> (code: EnhancedStatusCode, end: Int)? {
        guard position < bytes.count else { return nil }
        var end = position
        while end < bytes.count, end - position < 12, Self.isDigit(bytes[end]) || bytes[end] == UInt8(ascii: ".") { end += 1 }
        // "5.7.1." at the end of a sentence.
        var tokenEnd = end
        while tokenEnd > position, bytes[tokenEnd - 1] == UInt8(ascii: ".") { tokenEnd -= 1 }
        guard tokenEnd > position, end == bytes.count || !Self.isAlphanumeric(bytes[end]) else { return nil }
        guard let code = EnhancedStatusCode(String(decoding: bytes[position..<tokenEnd], as: UTF8.self)) else { return nil }
        return (code, end)
    }

    /// The first enhanced code in the text that stands alone: not inside a word, an address or a
    /// longer dotted number such as an IPv4 address (which `enhancedCode(at:)` reads whole).
    private func firstEnhancedCode(from start: Int) -> (code: EnhancedStatusCode, end: Int)? {
        var index = start
        while index < bytes.count {
            let standsAlone = index == 0 || !(Self.isAlphanumeric(bytes[index - 1]) || bytes[index - 1] == UInt8(ascii: "."))
            if standsAlone, Self.isDigit(bytes[index]), let token = enhancedCode(at: index) { return token }
            index += 1
        }
        return nil
    }

    /// Postfix's "dsn=5.7.1".
    private func dsnCode() -> EnhancedStatusCode? {
        guard let position = find("dsn=") else { return nil }
        return enhancedCode(at: position + 4)?.code
    }

    // MARK: - Helpers

    private func has(_ phrase: String) -> Bool { find(phrase) != nil }

    /// The first offset of `phrase` (lower case) in the lower-cased text.
    private func find(_ phrase: String, from start: Int = 0) -> Int? {
        let needle = Array(phrase.utf8)
        guard !needle.isEmpty, start >= 0, lowered.count - start >= needle.count else { return nil }
        var index = start
        while index <= lowered.count - needle.count {
            if lowered[index] == needle[0], lowered[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    /// The rest of the line after `phrase`, or nil.
    private func after(_ phrase: String) -> String? {
        guard let position = find(phrase) else { return nil }
        let start = position + phrase.utf8.count
        let end = bytes[start...].firstIndex { $0 == 0x0A || $0 == 0x0D } ?? bytes.count
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// Drops closing parentheses at the end that close nothing in the text (the one that ends
    /// Postfix's "status=bounced (…)").
    static func droppingUnbalancedParentheses(_ text: String) -> String {
        // On bytes: dropping Characters one by one from a long run of ")" is quadratic.
        let bytes = Array(text.utf8)
        let opens = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "(") ? 1 : 0) }
        var closes = bytes.reduce(0) { $0 + ($1 == UInt8(ascii: ")") ? 1 : 0) }
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: ")"), closes > opens {
            end -= 1
            closes -= 1
        }
        return end == bytes.count ? text : String(decoding: bytes[..<end], as: UTF8.self)
    }
}
