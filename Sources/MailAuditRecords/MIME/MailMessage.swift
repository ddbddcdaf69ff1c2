public import Foundation

/// An email message, such as the scheduled audit's report, rendered as MIME text ready for
/// SMTP DATA.
///
/// ```swift
/// let message = MailMessage(
///     from: MailAddress(parsing: "mailaudit <mailaudit@example.com>")!,
///     to: [MailAddress(parsing: "ops@example.com")!],
///     subject: "mailaudit: example.com — 2 new failures",
///     date: now,
///     textBody: text,
///     htmlBody: html,
///     attachments: [MailAttachment(filename: "report.json", contentType: "application/json", data: json)])
/// let data = message.rendered()   // "From: mailaudit <mailaudit@example.com>\r\nTo: ops@example.com\r\n…"
/// ```
///
/// The structure (RFC 2046 §5.1):
/// - text only: one `text/plain` part;
/// - text and HTML: `multipart/alternative` holding `text/plain` then `text/html` (§5.1.4: the
///   preferred form last);
/// - with attachments: `multipart/mixed` holding the text (or the alternative) and then each
///   attachment.
///
/// Text parts are UTF-8 in quoted-printable (RFC 2045 §6.7), attachments base64 (§6.8), so every
/// line is short whatever the input. Headers are folded at 78 characters (RFC 5322 §2.1.1);
/// non-ASCII text in the Subject, display names and extra headers becomes RFC 2047
/// encoded-words; control characters (CR and LF among them) in any of them become spaces, so no
/// value can start a new header field.
public struct MailMessage: Sendable {
    public var from: MailAddress
    /// The recipients. An empty list is written `To: undisclosed-recipients:;` (RFC 5322 §3.4).
    public var to: [MailAddress]
    /// Any text; it may be non-ASCII.
    public var subject: String
    /// The Date header, written in UTC.
    public var date: Date
    /// The Message-ID, `<unique@domain>` (RFC 5322 §3.6.4); see ``makeID(domain:)``. One of
    /// another form is replaced by a fresh ID when the message is rendered.
    public var messageID: String
    /// The plain-text body. Line ends may be LF or CRLF.
    public var textBody: String
    /// An HTML rendering of the same content, or nil.
    public var htmlBody: String?
    public var attachments: [MailAttachment]
    /// More header fields, written after the standard ones, in order: for example
    /// `("X-Mailer", "mailaudit 1.2")`. An `Auto-Submitted` field here replaces the default
    /// `auto-generated`; fields the message writes itself (From, To, Subject, Date, Message-ID,
    /// MIME-Version and the Content- fields) are ignored, and so is a field whose name is not
    /// printable ASCII without ":" (RFC 5322 §3.6.8). Values are neutralised like the Subject.
    public var extraHeaders: [(String, String)]

    public init(
        from: MailAddress, to: [MailAddress], subject: String, date: Date, messageID: String? = nil,
        textBody: String, htmlBody: String? = nil, attachments: [MailAttachment] = [],
        extraHeaders: [(String, String)] = []
    ) {
        self.from = from
        self.to = to
        self.subject = subject
        self.date = date
        self.messageID = messageID ?? Self.makeID(domain: from.domain)
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.attachments = attachments
        self.extraHeaders = extraHeaders
    }

    /// A new unique Message-ID, `<6f1c…-…@domain>` (RFC 5322 §3.6.4), from a random UUID.
    public static func makeID(domain: String) -> String {
        let host = String(String.UnicodeScalarView(domain.unicodeScalars.filter(MailAddress.isDomainCharacter)))
        return "<\(UUID().uuidString.lowercased())@\(host.isEmpty ? "localhost" : host)>"
    }

    /// The whole message with CRLF line endings, ready for SMTP DATA. Every line is at most
    /// 998 octets and, but for an unbreakable address or Message-ID, at most 78. The SMTP
    /// layer does the dot-stuffing (`SMTPMessageData`); this text is not dot-stuffed.
    ///
    /// - Parameter boundarySeed: the base of the multipart boundaries, for reproducible output
    ///   in tests; nil picks a random one. Either way the boundary is checked against the
    ///   content and changed until it does not occur there (RFC 2046 §5.1.1).
    public func rendered(boundarySeed: String? = nil) -> String {
        var header = ""
        header += HeaderText.field("From", from.headerTokens())
        header += HeaderText.field("To", recipientTokens)
        header += HeaderText.field(
            "Subject",
            HeaderText.unstructured(
                subject, headerName: "Subject", longestWord: HeaderText.preferredLineLength - "Subject: ".count))
        header += "Date: \(HeaderText.date(date))\r\n"
        header += "Message-ID: \(checkedMessageID)\r\n"
        let extras = checkedExtraHeaders
        if !extras.contains(where: { $0.name.lowercased() == "auto-submitted" }) {
            // RFC 3834 §5: a report sent by a program, not in reply to a message.
            header += "Auto-Submitted: auto-generated\r\n"
        }
        for (name, value) in extras {
            let longest = HeaderText.maximumLineLength - name.utf8.count - 2
            header += HeaderText.field(name, Self.extraValueTokens(value, name: name, longestWord: longest))
        }
        header += "MIME-Version: 1.0\r\n"

        let body = bodyPart
        let content = body.content
        var base = boundarySeed.map(Self.boundaryBase) ?? Self.randomBoundaryBase()
        var attempt = 0
        while content.contains("=_\(base).") {
            attempt += 1
            base = boundarySeed == nil ? Self.randomBoundaryBase() : "\(Self.boundaryBase(boundarySeed!)).\(attempt)"
        }
        let (partHeader, partBody) = body.rendered(boundaryBase: base, depth: 0)
        return header + partHeader + "\r\n" + partBody
    }

    // MARK: Headers

    private var recipientTokens: [String] {
        guard !to.isEmpty else { return ["undisclosed-recipients:;"] }
        var tokens: [String] = []
        for (index, recipient) in to.enumerated() {
            var addressTokens = recipient.headerTokens()
            if index < to.count - 1 { addressTokens[addressTokens.count - 1] += "," }
            tokens += addressTokens
        }
        return tokens
    }

    /// ``messageID`` when it is `<left@right>` in printable ASCII without spaces (RFC 5322
    /// §3.6.4), white space around it aside; otherwise a fresh ID, so a bad value can never
    /// break the header section.
    private var checkedMessageID: String {
        let id = HeaderText.neutralised(messageID).trimmingCharacters(where: HeaderText.isWhitespace)
        let inner = id.dropFirst().dropLast()
        let parts = inner.split(separator: "@", omittingEmptySubsequences: false)
        let isValid =
            id.hasPrefix("<") && id.hasSuffix(">") && id.utf8.count <= 900
            && parts.count == 2 && parts.allSatisfy { !$0.isEmpty }
            && inner.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" }
        return isValid ? id : Self.makeID(domain: from.domain)
    }

    /// Fields the message writes itself, which an extra header may not repeat.
    private static let reservedNames: Set<String> = [
        "from", "to", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "content-disposition",
    ]

    private var checkedExtraHeaders: [(name: String, value: String)] {
        extraHeaders.compactMap { name, value in
            guard let name = HeaderText.fieldName(name), !Self.reservedNames.contains(name.lowercased()) else {
                return nil
            }
            return (name, value)
        }
    }

    /// An extra header's value: printable ASCII keeps its words (runs of white space become one
    /// space, which suits structured fields too); other words become encoded-words.
    static func extraValueTokens(_ value: String, name: String, longestWord: Int) -> [String] {
        let collapsed = HeaderText.neutralised(value).split(separator: " ").joined(separator: " ")
        return HeaderText.words(collapsed, firstRoom: HeaderText.preferredLineLength - name.utf8.count - 2) { word in
            word.utf8.count <= longestWord && word.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F }
        }
    }

    // MARK: Body

    private var bodyPart: MIMEPart {
        let text = MIMEPart.text(textBody, subtype: "plain")
        var main = text
        if let htmlBody {
            main = .multipart(subtype: "alternative", parts: [text, .text(htmlBody, subtype: "html")])
        }
        guard !attachments.isEmpty else { return main }
        return .multipart(subtype: "mixed", parts: [main] + attachments.map(MIMEPart.attachment))
    }

    /// bchars (RFC 2046 §5.1.1) without the space, at most 60 of them.
    private static func boundaryBase(_ seed: String) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'()+_,-./:=?".unicodeScalars)
        let kept = String(String.UnicodeScalarView(seed.unicodeScalars.filter { allowed.contains($0) }.prefix(60)))
        return kept.isEmpty ? "mailaudit" : kept
    }

    private static func randomBoundaryBase() -> String {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in letters.randomElement(using: &generator)! })
    }
}

extension MailAddress {
    /// The part after the "@".
    var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }

    static func isDomainCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "-", ".": true
        default: false
        }
    }
}

/// One MIME entity: a leaf with its own header fields and encoded body, or a multipart.
indirect enum MIMEPart {
    /// `fields` are complete header lines, each ending in CRLF.
    case leaf(fields: String, body: String)
    case multipart(subtype: String, parts: [MIMEPart])

    /// A UTF-8 text part in quoted-printable. The body always ends in CRLF: a text without a
    /// final line break gets a soft one (`=` CRLF), which decodes to nothing.
    static func text(_ text: String, subtype: String) -> MIMEPart {
        var body = QuotedPrintable.encode(text)
        if !body.isEmpty && !body.hasSuffix("\r\n") { body += "=\r\n" }
        return .leaf(
            fields: "Content-Type: text/\(subtype); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
            body: body)
    }

    /// An attachment in base64 (RFC 2045 §6.8) with its Content-Disposition (RFC 2183).
    static func attachment(_ attachment: MailAttachment) -> MIMEPart {
        let contentType = attachment.checkedContentType
        let typeTokens = contentType.enumerated().map { $0.offset < contentType.count - 1 ? $0.element + ";" : $0.element }
        let filename = attachment.filename.isEmpty ? "attachment" : attachment.filename
        var fields = ""
        fields += HeaderText.field("Content-Type", withParameter(typeTokens, HeaderText.parameter("name", filename)))
        fields += "Content-Transfer-Encoding: base64\r\n"
        fields += HeaderText.field("Content-Disposition", withParameter(["attachment"], HeaderText.parameter("filename", filename)))
        let body = Base64.encodeLines(attachment.data)
        return .leaf(fields: fields, body: body.isEmpty ? "" : body + "\r\n")
    }

    private static func withParameter(_ tokens: [String], _ parameter: [String]) -> [String] {
        var tokens = tokens
        tokens[tokens.count - 1] += ";"
        return tokens + parameter
    }

    /// Everything a boundary must not occur in: the leaves' fields and bodies.
    var content: String {
        switch self {
        case .leaf(let fields, let body): fields + body
        case .multipart(_, let parts): parts.map(\.content).joined(separator: "\n")
        }
    }

    /// The entity's header fields and its body. Nested multiparts take the boundaries
    /// `=_base.0`, `=_base.1`, …: none is a prefix of another, and `=_` cannot occur in
    /// quoted-printable or base64 text.
    func rendered(boundaryBase: String, depth: Int) -> (fields: String, body: String) {
        switch self {
        case .leaf(let fields, let body):
            return (fields, body)
        case .multipart(let subtype, let parts):
            let boundary = "=_\(boundaryBase).\(depth)"
            let fields = "Content-Type: multipart/\(subtype);\r\n boundary=\"\(boundary)\"\r\n"
            // RFC 2046 §5.1.1: the CRLF before each delimiter belongs to the delimiter.
            var body = depth == 0 ? "This is a multi-part message in MIME format.\r\n" : ""
            for part in parts {
                let (partFields, partBody) = part.rendered(boundaryBase: boundaryBase, depth: depth + 1)
                body += "--\(boundary)\r\n\(partFields)\r\n\(partBody)\r\n"
            }
            body += "--\(boundary)--\r\n"
            return (fields, body)
        }
    }
}
