import MailAuditRecords
import Testing

/// What `mailaudit explain` accepts: codes, replies, Postfix and Exim log lines (SMTPExplainQuery).
struct SMTPExplainInputTests {
    struct Good: Sendable, CustomTestStringConvertible {
        var input: String
        var source: SMTPExplainQuery.Kind
        var code: Int?
        var enhanced: String?
        var step: SMTPCommandStep?
        var text: String?
        var category: SMTPCategory
        var inferred = false
        var testDescription: String { "\(source): \(input.prefix(70))" }
    }

    static let postfixBounce = "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: to=<a@b.c>, relay=mx.b.c[192.0.2.1]:25, delay=1, "
        + "delays=0.1/0/0.2/0.7, dsn=5.7.1, status=bounced (host mx.b.c[192.0.2.1] said: 550 5.7.1 Relay access denied "
        + "(in reply to RCPT TO command))"

    static let good: [Good] = [
        Good(input: "535", source: .bareCode, code: 535, step: nil, text: "", category: .authentication),
        Good(input: "  421\n", source: .bareCode, code: 421, step: nil, text: "", category: .rateLimit),
        Good(input: "5.7.8", source: .enhancedCode, enhanced: "5.7.8", text: "", category: .authentication),
        Good(input: "4.2.2", source: .enhancedCode, enhanced: "4.2.2", text: "", category: .recipient),
        Good(input: "5.7.139", source: .enhancedCode, enhanced: "5.7.139", text: "", category: .authentication),
        Good(input: "550 5.7.1 <x@y>: Relay access denied", source: .reply, code: 550, enhanced: "5.7.1",
             text: "<x@y>: Relay access denied", category: .policy),
        Good(input: "535 5.7.8", source: .reply, code: 535, enhanced: "5.7.8", text: "", category: .authentication),
        Good(input: "550-5.7.26 Unauthenticated email from example.com is not accepted due to\r\n550-5.7.26 domain's DMARC policy.\r\n550 5.7.26 Contact the administrator.",
             source: .reply, code: 550, enhanced: "5.7.26",
             text: "Unauthenticated email from example.com is not accepted due to domain's DMARC policy. Contact the administrator.",
             category: .reputation),
        Good(input: "421 mx.example.com Too many concurrent SMTP connections; please try again later.", source: .reply, code: 421,
             text: "mx.example.com Too many concurrent SMTP connections; please try again later.", category: .rateLimit),
        // Postfix, client side: the step from "in reply to".
        Good(input: postfixBounce, source: .postfixLog, code: 550, enhanced: "5.7.1", step: .rcpt, text: "Relay access denied", category: .policy),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: to=<a@b.c>, relay=mx.b.c[192.0.2.1]:25, dsn=5.7.26, status=bounced "
             + "(host mx.b.c[192.0.2.1] said: 550-5.7.26 This mail is unauthenticated 550 5.7.26 Learn more. - gsmtp (in reply to end of DATA command))",
             source: .postfixLog, code: 550, enhanced: "5.7.26", step: .message, text: "This mail is unauthenticated Learn more. - gsmtp",
             category: .reputation),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: to=<a@b.c>, relay=mx.b.c[192.0.2.1]:25, dsn=4.2.0, status=deferred "
             + "(host mx.b.c[192.0.2.1] said: 450 4.2.0 <a@b.c>: Recipient address rejected: Greylisted (in reply to RCPT TO command))",
             source: .postfixLog, code: 450, enhanced: "4.2.0", step: .rcpt, text: "<a@b.c>: Recipient address rejected: Greylisted",
             category: .policy),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: to=<a@b.c>, relay=mx.b.c[192.0.2.1]:25, dsn=5.1.8, status=bounced "
             + "(host mx.b.c[192.0.2.1] said: 553 5.1.8 <s@t.u>: Sender address rejected: Domain not found (in reply to MAIL FROM command))",
             source: .postfixLog, code: 553, enhanced: "5.1.8", step: .mail, text: "<s@t.u>: Sender address rejected: Domain not found",
             category: .sender),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: to=<a@b.c>, relay=mx.b.c[192.0.2.1]:25, dsn=5.0.0, status=bounced "
             + "(host mx.b.c[192.0.2.1] said: 554 Transaction failed (in reply to DATA command))",
             source: .postfixLog, code: 554, enhanced: "5.0.0", step: .data, text: "Transaction failed", category: .content),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: host mx.b.c[192.0.2.1] refused to talk to me: 554 5.7.1 Client host blocked using zen.spamhaus.org",
             source: .postfixLog, code: 554, enhanced: "5.7.1", step: .greeting, text: "Client host blocked using zen.spamhaus.org",
             category: .reputation),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: SASL authentication failed; server mx.b.c[192.0.2.1] said: 535 5.7.8 Error: authentication failed: authentication failure",
             source: .postfixLog, code: 535, enhanced: "5.7.8", step: .auth, text: "Error: authentication failed: authentication failure",
             category: .authentication),
        // Postfix, server side: the step from the verb.
        Good(input: "Dec  1 10:00:00 host postfix/smtpd[456]: NOQUEUE: reject: RCPT from x.example[198.51.100.4]: 554 5.7.1 <a@b>: Relay access denied; "
             + "from=<s@t.u> to=<a@b> proto=ESMTP helo=<x.example>",
             source: .postfixLog, code: 554, enhanced: "5.7.1", step: .rcpt, text: "<a@b>: Relay access denied", category: .policy),
        Good(input: "Dec  1 10:00:00 host postfix/smtpd[456]: NOQUEUE: reject: MAIL from x.example[198.51.100.4]: 530 5.7.0 Must issue a STARTTLS command first; "
             + "proto=ESMTP helo=<x.example>",
             source: .postfixLog, code: 530, enhanced: "5.7.0", step: .mail, text: "Must issue a STARTTLS command first", category: .tls),
        Good(input: "Dec  1 10:00:00 host postfix/submission/smtpd[789]: warning: unknown[192.0.2.7]: SASL LOGIN authentication failed: authentication failure",
             source: .postfixLog, code: 535, enhanced: "5.7.8", step: .auth, text: "authentication failed: authentication failure",
             category: .authentication, inferred: true),
        Good(input: "Dec  1 10:00:00 host postfix/smtp[123]: 4B2C: to=<a@b.c>, relay=none, delay=1, dsn=5.4.4, status=bounced (Host or domain name not found. "
             + "Name service error for name=b.c type=A: Host not found)",
             source: .postfixLog, enhanced: "5.4.4", category: .dns),
        // Exim: the step from "after …".
        Good(input: "2026-12-01 10:00:00 1abcDE-000123-AB ** a@b.c R=dnslookup T=remote_smtp H=mx.b.c [192.0.2.1]: SMTP error from remote mail server "
             + "after RCPT TO:<a@b.c>: 550 5.1.1 <a@b.c>: Recipient address rejected: User unknown",
             source: .eximLog, code: 550, enhanced: "5.1.1", step: .rcpt, text: "<a@b.c>: Recipient address rejected: User unknown",
             category: .recipient),
        Good(input: "2026-12-01 10:00:00 1abcDE-000123-AB == a@b.c R=dnslookup T=remote_smtp defer (-44) H=mx.b.c [192.0.2.1]: SMTP error from "
             + "remote mail server after pipelined MAIL FROM:<s@t.u> SIZE=1234: 451 4.7.1 Greylisted, try again later",
             source: .eximLog, code: 451, enhanced: "4.7.1", step: .mail, text: "Greylisted, try again later", category: .policy),
        Good(input: "2026-12-01 10:00:00 1abcDE-000123-AB ** a@b.c R=dnslookup T=remote_smtp H=mx.b.c [192.0.2.1] X=TLS1.3:TLS_AES_256_GCM_SHA384:256 "
             + "CV=yes: SMTP error from remote mail server after end of data: 554 5.7.1 Message rejected as spam",
             source: .eximLog, code: 554, enhanced: "5.7.1", step: .message, text: "Message rejected as spam", category: .content),
        Good(input: "2026-12-01 10:00:00 1abcDE-000123-AB ** a@b.c R=dnslookup T=remote_smtp H=mx.b.c [192.0.2.1]: SMTP error from remote mail server "
             + "after initial connection: 554 mx.b.c ESMTP not accepting messages",
             source: .eximLog, code: 554, step: .greeting, text: "mx.b.c ESMTP not accepting messages", category: .reputation),
        Good(input: "2026-12-01 10:00:00 1abcDE-000123-AB ** a@b.c R=smarthost T=remote_smtp H=smtp.example.net [192.0.2.9]: SMTP error from remote "
             + "mail server after AUTH PLAIN: 535 5.7.8 Authentication credentials invalid",
             source: .eximLog, code: 535, enhanced: "5.7.8", step: .auth, text: "Authentication credentials invalid", category: .authentication),
        Good(input: "2026-12-01 10:00:00 H=(x.example) [198.51.100.4] F=<s@t.u> rejected RCPT <a@b.c>: relay not permitted",
             source: .eximLog, code: 550, step: .rcpt, text: "relay not permitted", category: .policy, inferred: true),
        Good(input: "2026-12-01 10:00:00 dovecot_login authenticator failed for (x.example) [198.51.100.4]:50000: 535 Incorrect authentication data (set_id=joe)",
             source: .eximLog, code: 535, step: .auth, text: "Incorrect authentication data (set_id=joe)", category: .authentication),
        // Anything else with a code in it.
        Good(input: "Diagnostic-Code: smtp; 550 5.1.1 <a@b.c>... User unknown", source: .logLine, code: 550, enhanced: "5.1.1",
             text: "<a@b.c>... User unknown", category: .recipient),
        Good(input: "some log: result dsn=5.7.1 queued", source: .logLine, enhanced: "5.7.1", category: .policy),
        Good(input: "Status: 5.2.2", source: .logLine, enhanced: "5.2.2", category: .recipient),
        // Colours from a log viewer are removed; other control characters escaped.
        Good(input: "\u{1B}[31m550\u{1B}[0m 5.1.1 User unknown", source: .reply, code: 550, enhanced: "5.1.1", text: "User unknown",
             category: .recipient),
        Good(input: "550 5.7.1 \u{1B}]0;title\u{07}Relay access denied \u{202E}x", source: .reply, code: 550, enhanced: "5.7.1",
             text: "Relay access denied \\u{202E}x", category: .policy),
    ]

    @Test(arguments: good)
    func reads(_ example: Good) throws {
        let query = try SMTPExplainQuery(parsing: example.input)
        #expect(query.source == example.source)
        #expect(query.code == example.code)
        #expect(query.enhancedCode?.description == example.enhanced)
        #expect(query.step == example.step)
        if let text = example.text { #expect(query.text == text) }
        #expect(query.inferred == example.inferred)
        let explanation = query.explanation
        #expect(explanation.category == example.category, "\(explanation.meaning)")
        #expect(explanation.step == example.step)
        #expect(explanation.code == example.code)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var input: String
        var error: SMTPExplainInputError
        var reason: String
        var testDescription: String { reason }
    }

    static let bad: [Bad] = [
        Bad(input: "hello", error: .noCode("hello"), reason: "words without a code"),
        Bad(input: "", error: .empty, reason: "nothing"),
        Bad(input: " \t\r\n ", error: .empty, reason: "only white space"),
        Bad(input: "999", error: .invalidReplyCode("999"), reason: "999 is no reply code"),
        Bad(input: "600", error: .invalidReplyCode("600"), reason: "first digit above 5"),
        Bad(input: "260", error: .invalidReplyCode("260"), reason: "second digit above 5"),
        Bad(input: "25", error: .invalidReplyCode("25"), reason: "two digits"),
        Bad(input: "5350", error: .invalidReplyCode("5350"), reason: "four digits"),
        Bad(input: "6.1.1", error: .invalidEnhancedCode("6.1.1"), reason: "class 6"),
        Bad(input: "2.", error: .invalidEnhancedCode("2."), reason: "a class alone"),
        Bad(input: "5.7", error: .invalidEnhancedCode("5.7"), reason: "two parts"),
        Bad(input: "5.7.1234", error: .invalidEnhancedCode("5.7.1234"), reason: "a detail of four digits"),
        Bad(input: "X.7.8", error: .invalidEnhancedCode("X.7.8"), reason: "a registry key without a class"),
        Bad(input: "connect to mx.b.c[192.0.2.1]:25: Connection timed out", error: .noCode("connect to mx.b.c[192.0.2.1]:25: Connection timed out"),
            reason: "a log line without a code"),
        Bad(input: String(repeating: "550 x", count: 20_000), error: .tooLong(bytes: 100_000, limit: 65_536), reason: "100 KB"),
        Bad(input: "\u{1B}[31mhello\u{1B}[0m\u{07}", error: .noCode("hello"), reason: "colour codes and a bell around words"),
        Bad(input: "\u{01}\u{02}\u{7F}", error: .empty, reason: "control characters only"),
        Bad(input: "hi \u{202E}there", error: .noCode("hi \\u{202E}there"), reason: "a bidirectional override is escaped"),
    ]

    @Test(arguments: bad)
    func rejects(_ example: Bad) {
        #expect(throws: example.error) { try SMTPExplainQuery(parsing: example.input) }
    }

    @Test func errorsSayWhatIsWrong() {
        #expect(SMTPExplainInputError.noCode("hello").description.contains("no SMTP reply code"))
        #expect(SMTPExplainInputError.invalidReplyCode("999").description.contains("999"))
        #expect(SMTPExplainInputError.invalidEnhancedCode("6.1.1").description.contains("5.7.8"))
        #expect(SMTPExplainInputError.tooLong(bytes: 100_000, limit: 65_536).description.contains("65536"))
        #expect(!SMTPExplainInputError.empty.description.isEmpty)
    }

    @Test func longExcerptsAreCut() throws {
        let words = String(repeating: "word ", count: 100)
        #expect(throws: SMTPExplainInputError.noCode(String(words.prefix(80)) + "…")) { try SMTPExplainQuery(parsing: words) }
    }

    @Test func sanitizedEscapesEveryControlCharacter() {
        let all = String(String.UnicodeScalarView((UInt32(0)...0x9F).compactMap { Unicode.Scalar($0) }))
        let clean = SMTPExplainQuery.sanitized(all + "\u{202A}\u{2066}\u{200F}")
        #expect(!clean.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(!clean.unicodeScalars.contains { [0x202A, 0x2066, 0x200F].contains($0.value) })
        #expect(clean.contains("\\x1B"))
        #expect(SMTPExplainQuery.sanitized("plain text") == "plain text")
    }

    @Test func nothingIsLeftRawInTheText() throws {
        let query = try SMTPExplainQuery(parsing: "550 5.7.1 a\u{08}b\u{1B}c\u{9B}2Jd\u{85}e")
        #expect(!query.text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }

    /// Inputs near the size limit that would be slow for a careless reader come back at once.
    @Test(arguments: [
        "Dec  1 postfix/smtp[1]: said: 550 x" + String(repeating: ")", count: 65_000),
        String(repeating: "550 ", count: 16_000),
        String(repeating: "1.", count: 32_000),
        "postfix/smtpd: reject: RCPT from " + String(repeating: "(in reply to ", count: 5_000),
        String(repeating: "250-x\r\n", count: 9_000) + "250 end",
        String(repeating: "\u{1B}[", count: 30_000),
    ])
    func largeInputsAreRead(_ input: String) {
        #expect(input.utf8.count <= SMTPExplainQuery.maximumLength)
        if let query = try? SMTPExplainQuery(parsing: input) { _ = query.explanation }
    }

    /// Odd input never traps: a fixed pseudo-random walk over characters that matter to the reader.
    @Test func oddInputNeverTraps() {
        let alphabet = Array("0123455.-: ()<>[]=;\"'\r\n\t\u{1B}\u{9B}]\\xX said: reject: after dsn= in reply to RCPT TO command postfix/ ** 5.7.1 550 4")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<2000 {
            var text = ""
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 58)
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                text.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            if let query = try? SMTPExplainQuery(parsing: text) {
                _ = query.explanation
                #expect(query.code != nil || query.enhancedCode != nil)
            }
        }
    }
}
