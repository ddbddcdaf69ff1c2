/// The quoted-printable content transfer encoding (RFC 2045 §6.7) for text bodies.
///
/// ```swift
/// QuotedPrintable.encode("Prüfung = ok \nnext")   // "Pr=C3=BCfung =3D ok=20\r\nnext"
/// ```
///
/// The encoder works on the UTF-8 octets of the text and follows the five rules of §6.7:
/// octets other than printable ASCII and `=` become `=XX` with upper-case hex (rules 1 and 2),
/// a space or tab at the end of a line is encoded (rule 3), line breaks of the text (CR LF, a lone
/// LF or a lone CR) become CRLF hard breaks (rule 4), and no encoded line is longer than 76
/// characters: longer lines end in a soft break `=` CRLF, never inside an `=XX` triplet (rule 5).
///
/// Two more encodings follow the robustness advice of RFC 2049 §3: a physical line never starts
/// with `.` (written `=2E`, so a transport that forgets dot-stuffing cannot end the message), nor
/// with `From ` (written `=46rom `, so an mbox store cannot rewrite it to `>From `).
public enum QuotedPrintable {
    /// The longest encoded line, the soft-break `=` included (RFC 2045 §6.7 rule 5).
    public static let maximumLineLength = 76

    /// Encodes `text` as quoted-printable with CRLF line breaks.
    ///
    /// The result has no line break after the last line unless `text` ends with one.
    public static func encode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        var line: [UInt8] = []
        var previousWasCR = false
        var first = true
        func flush() {
            if !first { out += "\r\n" }
            first = false
            encodeLine(line, into: &out)
            line.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            switch byte {
            case 13:
                flush()
                previousWasCR = true
                continue
            case 10:
                if !previousWasCR { flush() }
            default:
                line.append(byte)
            }
            previousWasCR = false
        }
        // A text that ends with a line break ends with CRLF; otherwise the last line is written as is.
        if !line.isEmpty {
            flush()
        } else if !first {
            out += "\r\n"
        }
        return out
    }

    /// One line of the text (no line break inside) as one or more encoded lines joined by soft breaks.
    private static func encodeLine(_ bytes: [UInt8], into out: inout String) {
        // Each octet becomes one unit: itself, or "=XX".
        var units: [String] = bytes.enumerated().map { index, byte in
            let isLast = index == bytes.count - 1
            switch byte {
            case 33...60, 62...126: return String(UnicodeScalar(byte))
            case 32 where !isLast, 9 where !isLast: return String(UnicodeScalar(byte))  // rule 3: not at the end
            default: return hex(byte)
            }
        }
        var length = 0
        for index in units.indices {
            if length == 0 { guardLineStart(&units, at: index, bytes: bytes) }
            let unit = units[index]
            let isLast = index == units.count - 1
            // Room for the soft break's "=" unless this unit ends the line.
            let limit = isLast ? maximumLineLength : maximumLineLength - 1
            if length + unit.utf8.count > limit {
                out += "=\r\n"
                length = 0
                guardLineStart(&units, at: index, bytes: bytes)
            }
            out += units[index]
            length += units[index].utf8.count
        }
    }

    /// RFC 2049 §3: keep "." and "From " away from the start of a physical line.
    private static func guardLineStart(_ units: inout [String], at index: Int, bytes: [UInt8]) {
        if units[index] == "." {
            units[index] = hex(UInt8(ascii: "."))
        } else if units[index] == "F", bytes[index...].starts(with: Array("From ".utf8)) {
            units[index] = hex(UInt8(ascii: "F"))
        }
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [UInt8(ascii: "="), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }
}
