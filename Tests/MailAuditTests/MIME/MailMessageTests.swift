import Foundation
import MailAuditRecords
import Testing

/// The report mail: quoted-printable (RFC 2045 §6.7), encoded-words (RFC 2047), addresses
/// (RFC 5322 §3.4), and whole messages parsed back with the small MIME reader at the end.
struct MailMessageTests {
    // MARK: Quoted-printable

    struct QPExample: Sendable, CustomTestStringConvertible {
        var text: String
        var encoded: String
        var reason: String
        var testDescription: String { reason }
    }

    static let x75 = String(repeating: "x", count: 75)
    static let qpExamples: [QPExample] = [
        QPExample(text: "", encoded: "", reason: "nothing"),
        QPExample(text: "Hello, world!", encoded: "Hello, world!", reason: "rule 2: printable ASCII stands for itself"),
        QPExample(text: "a=b", encoded: "a=3Db", reason: "rule 1: \"=\" is =3D"),
        QPExample(text: "café", encoded: "caf=C3=A9", reason: "rule 1: octets over 126, upper-case hex"),
        QPExample(text: "bell\u{7}", encoded: "bell=07", reason: "rule 1: control characters"),
        QPExample(text: "trailing space ", encoded: "trailing space=20", reason: "rule 3: a space at the end of a line"),
        QPExample(text: "tab\t\nnext", encoded: "tab=09\r\nnext", reason: "rule 3: a tab before a line break"),
        QPExample(text: "in the middle \t ok", encoded: "in the middle \t ok", reason: "rule 3: inner white space stays"),
        QPExample(text: "two\nlines", encoded: "two\r\nlines", reason: "rule 4: LF becomes a CRLF hard break"),
        QPExample(text: "kept\r\nbreaks\r\n", encoded: "kept\r\nbreaks\r\n", reason: "rule 4: CRLF kept"),
        QPExample(text: "lone\rcr", encoded: "lone\r\ncr", reason: "rule 4: a lone CR is a line break"),
        QPExample(text: "\n\n", encoded: "\r\n\r\n", reason: "empty lines"),
        QPExample(text: x75 + "x", encoded: x75 + "x", reason: "rule 5: 76 characters fit"),
        QPExample(text: x75 + "xx", encoded: x75 + "=\r\nxx", reason: "rule 5: a soft break after 75"),
        QPExample(
            text: String(repeating: "x", count: 74) + "é", encoded: String(repeating: "x", count: 74) + "=\r\n=C3=A9",
            reason: "rule 5: never inside =XX"),
        QPExample(text: x75 + " yy", encoded: x75 + "=\r\n yy", reason: "rule 3/5: a space before a soft break stays"),
        QPExample(text: x75 + "  ", encoded: x75 + "=\r\n =20", reason: "rule 3: trailing space after a soft break"),
        QPExample(text: ".\nend", encoded: "=2E\r\nend", reason: "RFC 2049 §3: a lone dot"),
        QPExample(text: ".hidden", encoded: "=2Ehidden", reason: "RFC 2049 §3: a leading dot"),
        QPExample(text: "From here\nFromage", encoded: "=46rom here\r\nFromage", reason: "RFC 2049 §3: \"From \" at line start"),
        QPExample(text: x75 + ".x", encoded: x75 + "=\r\n=2Ex", reason: "a dot after a soft break"),
    ]

    @Test(arguments: qpExamples)
    func quotedPrintable(_ example: QPExample) {
        let encoded = QuotedPrintable.encode(example.text)
        #expect(encoded == example.encoded)
        #expect(MIME.decodeQuotedPrintable(encoded) == Data(Self.crlf(example.text).utf8))
    }

    /// The reader agrees with the soft-break example of RFC 2045 §6.7 rule 5.
    @Test func readerDecodesTheRFCExample() {
        let encoded = "Now's the time =\r\nfor all folk to come=\r\n to the aid of their country."
        #expect(
            String(decoding: MIME.decodeQuotedPrintable(encoded), as: UTF8.self)
                == "Now's the time for all folk to come to the aid of their country.")
    }

    @Test(arguments: [
        String(repeating: "ä", count: 200),
        String(repeating: "= ", count: 100),
        String(repeating: "a", count: 300) + "\n" + String(repeating: " ", count: 90),
        "🇩🇪👩‍👩‍👧 " + String(repeating: "漢字", count: 50),
    ])
    func quotedPrintableLinesAreShort(_ text: String) {
        let encoded = QuotedPrintable.encode(text)
        for line in encoded.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 76)
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"), "no trailing white space")
        }
        #expect(MIME.decodeQuotedPrintable(encoded) == Data(Self.crlf(text).utf8))
    }

    // MARK: Encoded-words

    @Test(arguments: [
        ("Prüfung bestanden", ["=?utf-8?Q?Pr=C3=BCfung_bestanden?="]),
        ("監査レポート", ["=?utf-8?B?55uj5p+744Os44Od44O844OI?="]),
        ("a_b=c? and some text", ["=?utf-8?Q?a=5Fb=3Dc=3F_and_some_text?="]),
        ("Jörg", ["=?utf-8?B?SsO2cmc=?="]),  // B is one character shorter than Q here
        ("", []),
    ] as [(String, [String])])
    func encodedWords(text: String, words: [String]) {
        #expect(EncodedWord.encode(text) == words)
    }

    @Test(arguments: [
        String(repeating: "Grüße ", count: 40),
        String(repeating: "監", count: 100),
        String(repeating: "👩‍👩‍👧", count: 20),
        "e\u{301}" + String(repeating: "\u{301}", count: 40),  // one grapheme longer than a word
    ])
    func encodedWordsAreShortAndWhole(_ text: String) {
        let words = EncodedWord.encode(text, firstMaximumLength: 60)
        #expect(words.first.map { $0.utf8.count <= 60 } == true)
        #expect(words.allSatisfy { $0.utf8.count <= EncodedWord.maximumLength })
        // Each word holds whole characters: it decodes to valid UTF-8 on its own.
        for word in words {
            #expect(MIME.decodeHeader(word).unicodeScalars.allSatisfy { $0 != "\u{FFFD}" })
        }
        #expect(MIME.decodeHeader(words.joined(separator: "\r\n ")) == text)
    }

    // MARK: Addresses

    @Test(arguments: [
        ("ops@example.com", nil, "ops@example.com", "ops@example.com"),
        ("  ops@Example.COM ", nil, "ops@example.com", "ops@example.com"),
        ("<ops@example.com>", nil, "ops@example.com", "ops@example.com"),
        ("Ops Team <ops@example.com>", "Ops Team", "ops@example.com", "Ops Team <ops@example.com>"),
        ("\"Doe, John\" <john.doe@example.com>", "Doe, John", "john.doe@example.com", "\"Doe, John\" <john.doe@example.com>"),
        ("\"say \\\"hi\\\"\" <a@example.com>", "say \"hi\"", "a@example.com", "\"say \\\"hi\\\"\" <a@example.com>"),
        ("Jörg <jm@bücher.example>", "Jörg", "jm@xn--bcher-kva.example", "=?utf-8?B?SsO2cmc=?= <jm@xn--bcher-kva.example>"),
        ("o'brien+tag@example.org", nil, "o'brien+tag@example.org", "o'brien+tag@example.org"),
        ("=?utf-8?Q?x?= <a@example.com>", "=?utf-8?Q?x?=", "a@example.com", "=?utf-8?B?PT91dGYtOD9RP3g/PQ==?= <a@example.com>"),
    ] as [(String, String?, String, String)])
    func parsesAddress(text: String, name: String?, address: String, header: String) throws {
        let parsed = try #require(MailAddress(parsing: text))
        #expect(parsed.displayName == name)
        #expect(parsed.address == address)
        #expect(parsed.headerText == header)
        #expect(MailAddress(parsing: parsed.description) == parsed, "parsing the rendering gives the same value")
    }

    @Test(arguments: [
        ("", "empty"),
        ("ops", "no @"),
        ("ops@", "no domain"),
        ("@example.com", "no local part"),
        ("a b@example.com", "a space in the local part"),
        ("ops@exa mple.com", "a space in the domain"),
        ("ops@example.com\r\nBcc: victim@example.com", "a line break"),
        ("Name\n <ops@example.com>", "a line break in the display name"),
        ("ops@localhost", "a single-label domain"),
        ("ops@-bad.example", "a hyphen at a label's edge"),
        ("ops@example..com", "an empty label"),
        ("a..b@example.com", "two dots in the local part"),
        (".a@example.com", "a leading dot"),
        ("a(b)@example.com", "a special in the local part"),
        ("x@[192.0.2.1]", "an address literal"),
        ("x@192.0.2.1", "an IP address as domain"),
        ("Name <ops@example.com", "an unclosed angle bracket"),
        ("\"Name <ops@example.com>", "an unclosed quote"),
        (String(repeating: "a", count: 65) + "@example.com", "a local part over 64 octets"),
    ])
    func rejectsAddress(text: String, reason: String) {
        #expect(MailAddress(parsing: text) == nil, "\(reason)")
    }

    // MARK: Whole messages

    struct Case: Sendable, CustomTestStringConvertible {
        var reason: String
        var subject: String
        var text: String
        var html: String? = nil
        var attachments: [MailAttachment] = []
        var testDescription: String { reason }
    }

    static let trickyText = [
        "Hello ops,",
        "",
        ".",
        ".a line that starts with a dot",
        "From the auditor: a line that starts with \"From \"",
        "trailing spaces   ",
        "trailing tab\t",
        "equals = signs =3D and =?utf-8?Q?x?=",
        String(repeating: "a long line, ", count: 20),
        String(repeating: "x", count: 1200),
        "Ünïcödé: Prüfung, 監査, 👩‍👩‍👧, \u{2028}separator",
        "--=_seed.0 looks like a boundary",
        "",
    ].joined(separator: "\n")

    static let json = Data(#"{"domain":"example.com","findings":[{"id":"spf.too-many-lookups"}]}"#.utf8)
    static let binary = Data((0..<1000).map { UInt8($0 % 256) })

    static let cases: [Case] = [
        Case(reason: "plain ASCII, text only", subject: "mailaudit: example.com ok", text: "All checks passed.\n"),
        Case(reason: "text without a final line break", subject: "no newline", text: "last line"),
        Case(reason: "empty text", subject: "", text: ""),
        Case(reason: "tricky text only", subject: "Prüfung: 2 neue Fehler — example.com", text: trickyText),
        Case(
            reason: "text and HTML", subject: "監査レポート example.com", text: trickyText,
            html: "<html><body><p>" + String(repeating: "Prüfung &amp; ok ", count: 30) + "</p>\n</body></html>\n"),
        Case(
            reason: "text and attachment", subject: "report", text: "See the attachment.\n",
            attachments: [MailAttachment(filename: "report.json", contentType: "application/json", data: json)]),
        Case(
            reason: "text, HTML and attachments", subject: String(repeating: "long subject ", count: 12), text: trickyText,
            html: "<p>.dot</p>\nFrom me\n",
            attachments: [
                MailAttachment(filename: "report.json", contentType: "application/json", data: json),
                MailAttachment(filename: "Prüfbericht für März.json", contentType: "application/json", data: json),
                MailAttachment(
                    filename: String(repeating: "very-long-name-", count: 8) + ".bin", contentType: "application/octet-stream",
                    data: binary),
                MailAttachment(filename: "say \"hi\".txt", contentType: "text/plain; charset=utf-8", data: Data("hi\n".utf8)),
                MailAttachment(filename: "empty.dat", contentType: "not a type\r\nBcc: x", data: Data()),
                MailAttachment(filename: "=_seed.0.txt", contentType: "text/plain", data: Data("boundary bait".utf8)),
            ]),
    ]

    static let date = Date(timeIntervalSince1970: 1_796_158_800)  // Tue, 01 Dec 2026 21:00:00 +0000

    static func message(_ example: Case) -> MailMessage {
        MailMessage(
            from: MailAddress(parsing: "mailaudit <mailaudit@example.com>")!,
            to: [MailAddress(parsing: "ops@example.com")!, MailAddress(parsing: "Jörg Müller <jm@example.net>")!],
            subject: example.subject, date: date, messageID: "<run-1@example.com>",
            textBody: example.text, htmlBody: example.html, attachments: example.attachments,
            extraHeaders: [("X-Mailer", "mailaudit 1.0")])
    }

    @Test(arguments: cases)
    func roundTrips(_ example: Case) throws {
        let rendered = Self.message(example).rendered(boundarySeed: "seed")
        Self.expectWellFormed(rendered, lineLimit: 78)
        let message = try MIME.Entity(parsing: rendered)

        #expect(message.header("From") == "mailaudit <mailaudit@example.com>")
        #expect(message.header("To").map(MIME.decodeHeader) == "ops@example.com, Jörg Müller <jm@example.net>")
        #expect(message.header("Subject").map(MIME.decodeHeader) ?? "" == example.subject)
        #expect(message.header("Date") == "Tue, 01 Dec 2026 21:00:00 +0000")
        #expect(message.header("Message-ID") == "<run-1@example.com>")
        #expect(message.header("MIME-Version") == "1.0")
        #expect(message.header("Auto-Submitted") == "auto-generated")
        #expect(message.header("X-Mailer") == "mailaudit 1.0")
        #expect(message.headers.filter { $0.name.lowercased() == "content-type" }.count == 1)

        // The structure of RFC 2046 §5.1.
        var textPart = message
        var htmlPart: MIME.Entity?
        var attachmentParts: [MIME.Entity] = []
        if example.attachments.isEmpty {
            if example.html != nil {
                #expect(message.mediaType == "multipart/alternative")
                try #require(message.parts.count == 2)
                (textPart, htmlPart) = (message.parts[0], message.parts[1])
            } else {
                #expect(message.mediaType == "text/plain")
            }
        } else {
            #expect(message.mediaType == "multipart/mixed")
            try #require(message.parts.count == 1 + example.attachments.count)
            attachmentParts = Array(message.parts.dropFirst())
            if example.html != nil {
                let alternative = message.parts[0]
                #expect(alternative.mediaType == "multipart/alternative")
                try #require(alternative.parts.count == 2)
                (textPart, htmlPart) = (alternative.parts[0], alternative.parts[1])
            } else {
                textPart = message.parts[0]
            }
        }

        #expect(textPart.mediaType == "text/plain")
        #expect(textPart.parameter("charset") == "utf-8")
        #expect(textPart.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(textPart.decodedBody == Data(Self.crlf(example.text).utf8))
        if let html = example.html {
            #expect(htmlPart?.mediaType == "text/html")
            #expect(htmlPart?.parameter("charset") == "utf-8")
            #expect(htmlPart?.decodedBody == Data(Self.crlf(html).utf8))
        }
        for (part, attachment) in zip(attachmentParts, example.attachments) {
            #expect(part.header("Content-Transfer-Encoding") == "base64")
            #expect(part.disposition == "attachment")
            #expect(part.parameter("filename", in: "Content-Disposition") == attachment.filename)
            #expect(part.decodedBody == attachment.data)
        }
    }

    @Test func typesOfAttachments() throws {
        let example = Self.cases.last!
        let message = try MIME.Entity(parsing: Self.message(example).rendered(boundarySeed: "seed"))
        let types = message.parts.dropFirst().map(\.mediaType)
        #expect(types == ["application/json", "application/json", "application/octet-stream", "text/plain", "application/octet-stream", "text/plain"])
        #expect(message.parts[4].parameter("charset") == "utf-8")
        // The filename "=_seed.0.txt" holds the seeded boundary's prefix: the boundary moved on.
        #expect(message.parameter("boundary") == "=_seed.1.0")
    }

    @Test func aSeedGivesTheSameMessageAndNoSeedARandomBoundary() throws {
        let example = Self.cases[4]
        #expect(Self.message(example).rendered(boundarySeed: "seed") == Self.message(example).rendered(boundarySeed: "seed"))
        let first = try MIME.Entity(parsing: Self.message(example).rendered()).parameter("boundary")
        let second = try MIME.Entity(parsing: Self.message(example).rendered()).parameter("boundary")
        #expect(first != nil && first != second)
        #expect(first.map { $0.utf8.count <= 70 } == true, "RFC 2046 §5.1.1: at most 70 characters")
    }

    @Test func theMessagePassesSMTPData() throws {
        for example in Self.cases {
            let data = try SMTPMessageData(message: Self.message(example).rendered())
            #expect(data.lineCount > 5)
        }
    }

    // MARK: Subjects

    @Test(arguments: [
        "mailaudit: example.com",
        "",
        "Prüfung",
        "監査レポート: example.com で 2 件の新しい失敗",
        String(repeating: "word ", count: 40) + "end",
        String(repeating: "Grüße aus Köln ", count: 20),
        "two  spaces",
        " leading and trailing ",
        "=?utf-8?Q?not_an_encoded_word?=",
        String(repeating: "x", count: 120),
        "tab\tinside",
        "emoji 👩‍👩‍👧 and flags 🇩🇪🇫🇷",
    ])
    func subjectDecodesBack(_ subject: String) throws {
        var message = Self.message(Self.cases[0])
        message.subject = subject
        let rendered = message.rendered()
        Self.expectWellFormed(rendered, lineLimit: 78)
        let parsed = try MIME.Entity(parsing: rendered)
        let expected = subject.replacingOccurrences(of: "\t", with: " ")
        #expect(parsed.header("Subject").map(MIME.decodeHeader) ?? "" == expected)
    }

    /// Only the words that need it are encoded; ASCII words stay readable (RFC 2047 §5 (1)).
    @Test func asciiWordsOfASubjectStayPlain() throws {
        var message = Self.message(Self.cases[0])
        message.subject = "mailaudit: Prüfung — 2 new failures on example.com"
        let rendered = message.rendered()
        let subject = try #require(try MIME.Entity(parsing: rendered).header("Subject"))
        #expect(subject.hasPrefix("mailaudit: =?utf-8?"))
        #expect(subject.hasSuffix("?= 2 new failures on example.com"))
        #expect(MIME.decodeHeader(subject) == message.subject)
    }

    // MARK: Header injection

    struct Injection: Sendable, CustomTestStringConvertible {
        var reason: String
        var subject = "ok"
        var displayName = "mailaudit"
        var extra: (String, String) = ("X-Mailer", "mailaudit")
        var messageID = "<id@example.com>"
        var testDescription: String { reason }
    }

    static let injections: [Injection] = [
        Injection(reason: "CRLF in the subject", subject: "hi\r\nBcc: victim@example.com"),
        Injection(reason: "LF in the subject", subject: "hi\nBcc: victim@example.com"),
        Injection(reason: "CR in the subject", subject: "hi\rBcc: victim@example.com"),
        Injection(reason: "a blank line in the subject", subject: "hi\r\n\r\nbody injected"),
        Injection(reason: "non-ASCII subject with LF", subject: "Prüfung\nBcc: victim@example.com"),
        Injection(reason: "Unicode line separator", subject: "hi\u{2028}Bcc: victim@example.com"),
        Injection(reason: "NEL", subject: "hi\u{85}Bcc: victim@example.com"),
        Injection(reason: "CRLF in a display name", displayName: "Evil\r\nBcc: victim@example.com"),
        Injection(reason: "CRLF in an extra value", extra: ("X-Mailer", "m\r\nBcc: victim@example.com")),
        Injection(reason: "CRLF in an extra name", extra: ("X-Mailer\r\nBcc", "victim@example.com")),
        Injection(reason: "colon in an extra name", extra: ("Bcc: victim@example.com\r\nX", "1")),
        Injection(reason: "CRLF in the Message-ID", messageID: "<id@example.com>\r\nBcc: victim@example.com"),
    ]

    @Test(arguments: injections)
    func headerInjectionIsNeutralised(_ example: Injection) throws {
        let message = MailMessage(
            from: MailAddress(address: "mailaudit@example.com", displayName: example.displayName)!,
            to: [MailAddress(parsing: "ops@example.com")!], subject: example.subject, date: Self.date,
            messageID: example.messageID, textBody: "body\n", extraHeaders: [example.extra])
        let rendered = message.rendered()
        Self.expectWellFormed(rendered, lineLimit: 998)
        let parsed = try MIME.Entity(parsing: rendered)
        #expect(!parsed.headers.contains { $0.name.lowercased() == "bcc" }, "no Bcc field")
        let headerLines = rendered.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n")
        #expect(!headerLines.contains { $0.lowercased().hasPrefix("bcc") }, "no line starts with Bcc")
        #expect(parsed.decodedBody == Data("body\r\n".utf8), "the body is untouched")
        let names: Set = [
            "From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted", "X-Mailer",
            "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
        ]
        #expect(parsed.headers.allSatisfy { names.contains($0.name) }, "only the expected fields")
        #expect(parsed.header("Message-ID")?.hasSuffix("@example.com>") == true)
    }

    @Test func aControlCharacterInTheSubjectBecomesASpace() throws {
        var message = Self.message(Self.cases[0])
        message.subject = "hi\r\nBcc: victim@example.com"
        let parsed = try MIME.Entity(parsing: message.rendered())
        #expect(parsed.header("Subject").map(MIME.decodeHeader) == "hi  Bcc: victim@example.com")
    }

    // MARK: Other headers

    @Test(arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"),
        (1_796_158_800, "Tue, 01 Dec 2026 21:00:00 +0000"),
        (951_827_696.9, "Tue, 29 Feb 2000 12:34:56 +0000"),
        (-1, "Wed, 31 Dec 1969 23:59:59 +0000"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 +0000"),
        (-2_208_988_800, "Mon, 01 Jan 1900 00:00:00 +0000"),
    ] as [(Double, String)])
    func dateHeader(seconds: Double, expected: String) throws {
        var message = Self.message(Self.cases[0])
        message.date = Date(timeIntervalSince1970: seconds)
        #expect(try MIME.Entity(parsing: message.rendered()).header("Date") == expected)
    }

    @Test func messageIDs() {
        let first = MailMessage.makeID(domain: "example.com")
        #expect(first.hasPrefix("<") && first.hasSuffix("@example.com>"))
        #expect(first.utf8.count == 1 + 36 + 1 + 11 + 1)
        #expect(first != MailMessage.makeID(domain: "example.com"))
        #expect(MailMessage.makeID(domain: "evil>\r\nBcc: x").hasSuffix("@evilBccx>"))
    }

    @Test func extraHeaders() throws {
        var message = Self.message(Self.cases[0])
        message.extraHeaders = [
            ("Auto-Submitted", "auto-replied"), ("Content-Type", "text/html"), ("X-Report", "Prüfung  ok"),
            ("List-Id", "mailaudit   <audit.example.com>"),
        ]
        let parsed = try MIME.Entity(parsing: message.rendered())
        #expect(parsed.headers.filter { $0.name == "Auto-Submitted" }.map(\.value) == ["auto-replied"])
        #expect(parsed.mediaType == "text/plain", "an extra Content-Type is ignored")
        #expect(parsed.header("X-Report").map(MIME.decodeHeader) == "Prüfung ok")
        #expect(parsed.header("List-Id") == "mailaudit <audit.example.com>")
    }

    @Test func noRecipients() throws {
        var message = Self.message(Self.cases[0])
        message.to = []
        #expect(try MIME.Entity(parsing: message.rendered()).header("To") == "undisclosed-recipients:;")
    }

    @Test func manyRecipientsFold() throws {
        var message = Self.message(Self.cases[0])
        message.to = (1...20).map { MailAddress(address: "ops\($0)@example.com", displayName: "Ops Nº\($0)")! }
        let rendered = message.rendered()
        Self.expectWellFormed(rendered, lineLimit: 78)
        let to = try MIME.Entity(parsing: rendered).header("To").map(MIME.decodeHeader)
        #expect(to == (1...20).map { "Ops Nº\($0) <ops\($0)@example.com>" }.joined(separator: ", "))
    }

    // MARK: Helpers

    static func crlf(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\n", with: "\r\n")
    }

    /// CRLF everywhere, no bare CR or LF, ASCII only, lines within `lineLimit` (and 998).
    static func expectWellFormed(_ rendered: String, lineLimit: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(rendered.utf8)
        #expect(bytes.allSatisfy { $0 < 0x80 }, "7-bit", sourceLocation: sourceLocation)
        #expect(rendered.hasSuffix("\r\n"), "ends with CRLF", sourceLocation: sourceLocation)
        for (index, byte) in bytes.enumerated() {
            if byte == 13 { #expect(index + 1 < bytes.count && bytes[index + 1] == 10, "bare CR at \(index)", sourceLocation: sourceLocation) }
            if byte == 10 { #expect(index > 0 && bytes[index - 1] == 13, "bare LF at \(index)", sourceLocation: sourceLocation) }
        }
        for line in rendered.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= min(lineLimit, 998), "line too long: \(line.prefix(40))…", sourceLocation: sourceLocation)
        }
    }
}

/// A small MIME reader for the tests: header fields, multipart bodies, quoted-printable,
/// base64, RFC 2047 encoded-words and RFC 2231 parameters. It trusts its input far more than
/// a real reader should.
enum MIME {
    struct ParseError: Error, CustomStringConvertible { var description: String }

    struct Entity {
        var headers: [(name: String, value: String)] = []
        var body = ""
        var parts: [Entity] = []

        init(parsing text: String) throws {
            guard let split = text.range(of: "\r\n\r\n") else {
                // Only a header section (a part whose body is empty has the blank line, so this is odd).
                throw ParseError(description: "no blank line after the header section")
            }
            let headerText = text[..<split.lowerBound]
            body = String(text[split.upperBound...])
            for line in headerText.components(separatedBy: "\r\n") {
                if line.hasPrefix(" ") || line.hasPrefix("\t") {
                    guard !headers.isEmpty else { throw ParseError(description: "a continuation line first") }
                    headers[headers.count - 1].value += line  // unfolding removes the CRLF only (RFC 5322 §2.2.3)
                } else {
                    guard let colon = line.firstIndex(of: ":") else { throw ParseError(description: "no colon in \(line)") }
                    headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
                }
            }
            headers = headers.map { ($0.name, $0.value.trimmingCharacters(in: .whitespaces)) }
            if mediaType.hasPrefix("multipart/") {
                guard let boundary = parameter("boundary") else { throw ParseError(description: "no boundary") }
                parts = try Self.split("\r\n" + body, boundary: boundary).map(Entity.init(parsing:))
            }
        }

        /// RFC 2046 §5.1.1: the parts between `CRLF --boundary` delimiters, up to `--boundary--`.
        static func split(_ body: String, boundary: String) throws -> [String] {
            var pieces = body.components(separatedBy: "\r\n--" + boundary)
            guard pieces.count >= 3 else { throw ParseError(description: "too few delimiters") }
            pieces.removeFirst()  // the preamble
            guard pieces.removeLast().hasPrefix("--") else { throw ParseError(description: "no close delimiter") }
            return try pieces.map { piece in
                guard let lineEnd = piece.range(of: "\r\n"), piece[..<lineEnd.lowerBound].allSatisfy({ $0 == " " || $0 == "\t" }) else {
                    throw ParseError(description: "text after a delimiter")
                }
                return String(piece[lineEnd.upperBound...])
            }
        }

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }

        var mediaType: String {
            header("Content-Type").map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces).lowercased() }
                ?? "text/plain"
        }

        var disposition: String? {
            header("Content-Disposition").map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) }
        }

        /// A parameter of Content-Type (or another field), with RFC 2231 sections and charsets.
        func parameter(_ name: String, in field: String = "Content-Type") -> String? {
            guard let value = header(field) else { return nil }
            var plain: [String: String] = [:]
            for piece in value.split(separator: ";").dropFirst() {
                guard let equals = piece.firstIndex(of: "=") else { continue }
                let key = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
                var text = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                if text.hasPrefix("\"") {
                    text = String(text.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
                        .replacingOccurrences(of: "\\\\", with: "\\")
                }
                plain[key] = text
            }
            if let direct = plain[name.lowercased()] { return direct }
            // name*=charset''value, or name*0*=charset''…; name*1*=…
            var encoded = plain[name.lowercased() + "*"]
            if encoded == nil {
                var sections: [String] = []
                while let section = plain["\(name.lowercased())*\(sections.count)*"] { sections.append(section) }
                if !sections.isEmpty { encoded = sections.joined() }
            }
            guard let encoded, let quote = encoded.range(of: "''") else { return nil }
            #expect(encoded[..<quote.lowerBound].lowercased() == "utf-8")
            return encoded[quote.upperBound...].removingPercentEncoding
        }

        var decodedBody: Data {
            switch header("Content-Transfer-Encoding")?.lowercased() {
            case "quoted-printable": decodeQuotedPrintable(body)
            case "base64": Data(base64Encoded: body.replacingOccurrences(of: "\r\n", with: "")) ?? Data("<bad base64>".utf8)
            default: Data(body.utf8)
            }
        }
    }

    /// RFC 2045 §6.7: soft breaks removed, `=XX` decoded, hard breaks kept.
    static func decodeQuotedPrintable(_ text: String) -> Data {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "=") {
                if index + 2 < bytes.count, bytes[index + 1] == 13, bytes[index + 2] == 10 {
                    index += 3
                    continue
                }
                if index + 2 < bytes.count, let value = UInt8(String(decoding: bytes[index + 1...index + 2], as: UTF8.self), radix: 16) {
                    out.append(value)
                    index += 3
                    continue
                }
                out.append(UInt8(ascii: "?"))  // malformed; the tests would notice
                index += 1
                continue
            }
            out.append(bytes[index])
            index += 1
        }
        return Data(out)
    }

    /// An unstructured header value with RFC 2047 encoded-words decoded; white space between
    /// two adjacent encoded-words is dropped (§6.2), other white space kept.
    static func decodeHeader(_ value: String) -> String {
        let unfolded = value.replacingOccurrences(of: "\r\n", with: "")
        var out = ""
        var pendingSpace = ""
        var previousWasEncoded = false
        var current = ""
        func finishToken() {
            guard !current.isEmpty else { return }
            if let decoded = decodeWord(current) {
                out += (previousWasEncoded ? "" : pendingSpace) + decoded
                previousWasEncoded = true
            } else {
                out += pendingSpace + current
                previousWasEncoded = false
            }
            pendingSpace = ""
            current = ""
        }
        for character in unfolded {
            if character == " " || character == "\t" {
                finishToken()
                pendingSpace.append(character)
            } else {
                current.append(character)
            }
        }
        finishToken()
        return out + pendingSpace
    }

    /// One `=?charset?encoding?text?=` word, or nil when `word` is not one.
    static func decodeWord(_ word: String) -> String? {
        guard word.hasPrefix("=?"), word.hasSuffix("?="), word.utf8.count <= 75 else { return nil }
        let inner = word.dropFirst(2).dropLast(2).split(separator: "?", omittingEmptySubsequences: false)
        guard inner.count == 3, inner[0].lowercased() == "utf-8" else { return nil }
        switch inner[1].uppercased() {
        case "B":
            return Data(base64Encoded: String(inner[2])).map { String(decoding: $0, as: UTF8.self) }
        case "Q":
            let text = inner[2].replacingOccurrences(of: "_", with: " ")
            return String(decoding: decodeQuotedPrintable(text), as: UTF8.self)
        default:
            return nil
        }
    }
}
