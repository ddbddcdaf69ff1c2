public import Foundation

/// A file attached to a ``MailMessage``, such as the audit's `report.json`.
///
/// ```swift
/// MailAttachment(filename: "report.json", contentType: "application/json", data: json)
/// ```
///
/// It is sent in base64 (RFC 2045 §6.8, lines of 76 characters) with
/// `Content-Disposition: attachment; filename="report.json"` (RFC 2183 §2.3); a name that is
/// not ASCII, or is long, is written with RFC 2231 (`filename*=utf-8''r%C3%A9sum%C3%A9.json`).
public struct MailAttachment: Hashable, Sendable {
    /// The name a mail client offers when saving the file.
    public var filename: String
    /// The media type, such as `application/json` or `text/csv; charset=utf-8` (RFC 2045 §5.1).
    /// One that is not `type/subtype` is sent as `application/octet-stream`.
    public var contentType: String
    /// The content.
    public var data: Data

    public init(filename: String, contentType: String, data: Data) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }

    /// The media type as it goes into Content-Type: `type/subtype` tokens, lower-cased, then any
    /// parameters that are well formed printable ASCII; `application/octet-stream` otherwise.
    var checkedContentType: [String] {
        let parts = contentType.split(separator: ";", omittingEmptySubsequences: false).map {
            String($0).trimmingCharacters(where: HeaderText.isWhitespace)
        }
        let types = parts[0].split(separator: "/", omittingEmptySubsequences: false)
        guard types.count == 2, HeaderText.isToken(types[0]), HeaderText.isToken(types[1]) else {
            return ["application/octet-stream"]
        }
        let parameters = parts.dropFirst().filter { parameter in
            guard let equals = parameter.firstIndex(of: "=") else { return false }
            let name = parameter[..<equals]
            let value = parameter[parameter.index(after: equals)...]
            return HeaderText.isToken(name) && name.lowercased() != "name"
                && (HeaderText.isToken(value) || isQuotedString(value))
        }
        return [parts[0].lowercased()] + parameters
    }

    private func isQuotedString(_ text: Substring) -> Bool {
        text.count >= 2 && text.hasPrefix("\"") && MailAddress.unquote(String(text)) != nil
            && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
    }
}
