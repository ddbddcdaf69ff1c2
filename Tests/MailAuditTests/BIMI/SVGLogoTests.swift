import MailAuditRecords
import Testing

@Suite("BIMI logo: XML scan, SVG Tiny PS profile, PEM evidence")
struct SVGLogoTests {
    static let tinyPS = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- the brand -->
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.2" baseProfile="tiny-ps" viewBox="0 0 100 100">
          <title>Example &amp; Co</title>
          <defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>
          <circle cx="50" cy="50" r="40" fill="url(#g)"/>
          <use xlink:href="#g"/>
          <text x="10" y="20"><![CDATA[A < B]]></text>
        </svg>

        """

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func aTinyPSLogoHasNoProblems() throws {
        let logo = try SVGLogo(parsing: Self.bytes(Self.tinyPS))
        #expect(logo.problems == [])
        #expect(logo.title == "Example & Co", "references in text are decoded")
        #expect(logo.outline.elements.map(\.localName) == ["svg", "title", "defs", "linearGradient", "stop", "circle", "use", "text"])
        #expect(logo.outline.elements.map(\.depth) == [0, 1, 1, 2, 3, 1, 1, 1])
    }

    /// (document, the error, why it is not well-formed).
    static let notWellFormed: [(String, XMLOutlineError.Reason, String)] = [
        ("", .noElement, "nothing"),
        ("just text", .textOutsideRoot, "text is not a document"),
        ("<svg><g></svg>", .mismatchedEndTag(expected: "g", found: "svg"), "tags must nest"),
        ("<svg>", .unclosed("svg"), "the root is never closed"),
        ("<svg></svg><svg></svg>", .secondRoot("svg"), "one root element"),
        ("<svg a=1></svg>", .badAttribute, "attribute values are quoted"),
        ("<svg a='1' a='2'></svg>", .duplicateAttribute("a"), "an attribute once per element"),
        ("<svg a='1'b='2'></svg>", .badAttribute, "attributes are separated by whitespace"),
        ("<svg><title>&nbsp;</title></svg>", .badReference("&nbsp;"), "HTML entities are not XML's"),
        ("<svg><!-- open </svg>", .unterminated("a comment"), "a comment without its end"),
        ("<svg a='1></svg>", .unterminated("the value of a"), "a value without its closing quote"),
        ("<!DOCTYPE html>\n<html><head><meta charset=utf-8></head></html>", .badAttribute, "an HTML page"),
    ]

    @Test("malformed documents are refused", arguments: notWellFormed)
    func malformed(_ text: String, _ reason: XMLOutlineError.Reason, _ why: String) {
        do {
            _ = try XMLOutline(parsing: Self.bytes(text))
            Issue.record("\(why): accepted")
        } catch {
            #expect(error.reason == reason, "\(why): \(error)")
        }
    }

    @Test func bytesThatAreNotTextOrNotSVGAreNotALogo() {
        #expect(throws: SVGLogoError.notXML(XMLOutlineError(offset: 0, reason: .notUTF8))) {
            try SVGLogo(parsing: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0xFF, 0xFE])
        }
        #expect(throws: SVGLogoError.notSVG(root: "html")) { try SVGLogo(parsing: Self.bytes("<html><body>logo</body></html>")) }
        #expect(throws: SVGLogoError.compressed) { try SVGLogo(parsing: [0x1F, 0x8B, 0x08, 0x00]) }
        #expect(throws: Never.self, "a namespace prefix on the root") {
            try SVGLogo(parsing: Self.bytes("<s:svg xmlns:s='http://www.w3.org/2000/svg'/>"))
        }
    }

    static let root = #"xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny-ps""#

    /// (document, the problems, why).
    static let profiles: [(String, [SVGTinyPSProblem], String)] = [
        ("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'><title>B</title></svg>", [.baseProfile(nil), .version(nil)], "plain SVG"),
        ("<svg \(root) baseProfile2='x'><title>  </title></svg>", [.noTitle], "an empty title is none"),
        ("<svg version='1.2' baseProfile='tiny'><title>B</title></svg>", [.noNamespace, .baseProfile("tiny")], "no namespace; SVG Tiny is not Tiny PS"),
        ("<svg \(root)><g><title>B</title></g></svg>", [.noTitle], "the title belongs directly under the root"),
        ("<svg \(root) x='0' y='0'><title>B</title></svg>", [.rootPosition(["x", "y"])], "no x or y on the root"),
        ("<svg \(root) viewBox='0 0 200 100'><title>B</title></svg>", [.notSquare(viewBox: "0 0 200 100")], "a wide logo"),
        ("<svg \(root)><title>B</title><script>alert(1)</script></svg>", [.forbiddenElement("script")], "no scripts"),
        ("<svg \(root)><title>B</title><rect><animate/><animate/></rect><set/></svg>", [.forbiddenElement("animate"), .forbiddenElement("set")],
         "no animation; each element named once"),
        ("<svg \(root)><title>B</title><image href='data:image/png;base64,AA=='/></svg>",
         [.forbiddenElement("image"), .externalReference(element: "image", "data:image/png;base64,AA==")], "no raster images"),
        ("<svg \(root) onload='x()'><title>B</title></svg>", [.eventAttribute(element: "svg", attribute: "onload")], "no event handlers"),
        ("<svg \(root)><title>B</title><use xlink:href='http://evil.example/a.svg#x'/></svg>",
         [.externalReference(element: "use", "http://evil.example/a.svg#x")], "no references outside the document"),
        ("<svg \(root)><title>B</title><rect style=\"fill: url( 'https://x.example/p' )\"/></svg>",
         [.externalReference(element: "rect", " 'https://x.example/p' ")], "nor through url()"),
        ("<!DOCTYPE svg [<!ENTITY e 'x'>]><svg \(root)><title>&e;</title></svg>", [.entityDeclarations], "entities are declared, not expanded"),
    ]

    @Test("the SVG Tiny PS profile", arguments: profiles)
    func profile(_ text: String, _ problems: [SVGTinyPSProblem], _ why: String) throws {
        #expect(try SVGLogo(parsing: Self.bytes(text)).problems == problems, "\(why)")
    }

    static let certificate = "MIIBszCCAVmgAwIBAgIUQ2hlY2sgb25seSB0aGUgYXJtb3VyAA=="

    @Test func evidenceIsPEMCertificates() throws {
        let two = "subject=CN=brand\n-----BEGIN CERTIFICATE-----\n\(Self.certificate)\n-----END CERTIFICATE-----\n"
            + "-----BEGIN CERTIFICATE-----\r\nTWFu\r\n-----END CERTIFICATE-----\r\n"
        let pem = try PEMCertificates(parsing: Self.bytes(two))
        #expect(pem.count == 2)
        #expect(pem.certificates[1] == Array("Man".utf8))
        #expect(throws: PEMError.noCertificate) { try PEMCertificates(parsing: Self.bytes("<html>Not found</html>")) }
        #expect(throws: PEMError.noCertificate) { try PEMCertificates(parsing: Self.bytes("-----BEGIN PRIVATE KEY-----\nTWFu\n-----END PRIVATE KEY-----\n")) }
        #expect(throws: PEMError.unterminated) { try PEMCertificates(parsing: Self.bytes("-----BEGIN CERTIFICATE-----\nTWFu\n")) }
        #expect(throws: PEMError.badBase64) {
            try PEMCertificates(parsing: Self.bytes("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n"))
        }
    }
}
