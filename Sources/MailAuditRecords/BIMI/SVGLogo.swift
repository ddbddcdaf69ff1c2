/// A BIMI indicator: an SVG document (draft-brand-indicators-for-message-identification-10
/// §4.3.2), judged against the SVG Tiny Portable/Secure profile receivers require
/// (draft-svg-tiny-ps-abrotman): `baseProfile="tiny-ps"`, `version="1.2"`, a `<title>`, and no
/// scripts, animation, raster images, event handlers or references outside the document.
///
/// ```swift
/// let logo = try SVGLogo(parsing: Array(svgText.utf8))
/// logo.title      // "Example Brand"
/// logo.problems   // [] for a Tiny PS logo; [.baseProfile(nil), .noTitle] for a plain SVG
/// ```
public struct SVGLogo: Hashable, Sendable {
    public static let namespace = "http://www.w3.org/2000/svg"
    /// Elements the profile leaves out: scripting, animation, raster images, foreign content.
    public static let forbiddenElements: Set<String> = [
        "script", "handler", "animate", "animateColor", "animateMotion", "animateTransform", "set", "discard",
        "image", "foreignObject", "audio", "video", "iframe",
    ]

    public var outline: XMLOutline
    /// The text of the root's `<title>`, when there is one.
    public var title: String?
    /// What keeps the logo from the Tiny PS profile, in document order; empty when it conforms.
    public var problems: [SVGTinyPSProblem]

    /// Reads `body` as an SVG document and judges its profile.
    ///
    /// - Throws: ``SVGLogoError``: the body is gzip-compressed (SVGZ, not read here), is not
    ///   well-formed XML, or its root element is not `<svg>`.
    public init(parsing body: [UInt8]) throws(SVGLogoError) {
        if body.starts(with: [0x1F, 0x8B]) { throw .compressed }
        do throws(XMLOutlineError) {
            outline = try XMLOutline(parsing: body)
        } catch {
            throw .notXML(error)
        }
        guard outline.root.localName == "svg" else { throw .notSVG(root: outline.root.name) }
        title = outline.elements.first { $0.depth == 1 && $0.localName == "title" }?.text
        problems = Self.problems(outline, title: title)
    }

    static func problems(_ outline: XMLOutline, title: String?) -> [SVGTinyPSProblem] {
        let root = outline.root
        var problems: [SVGTinyPSProblem] = []
        if !root.attributes.contains(where: { ($0.name == "xmlns" || $0.name.hasPrefix("xmlns:")) && $0.value == namespace }) {
            problems.append(.noNamespace)
        }
        if root.attribute("baseProfile") != "tiny-ps" { problems.append(.baseProfile(root.attribute("baseProfile"))) }
        if root.attribute("version") != "1.2" { problems.append(.version(root.attribute("version"))) }
        if title?.isEmpty ?? true { problems.append(.noTitle) }
        let position = root.attributes.map(\.name).filter { $0 == "x" || $0 == "y" }
        if !position.isEmpty { problems.append(.rootPosition(position)) }
        if let box = root.attribute("viewBox") {
            let numbers = box.split { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" }.compactMap { Double($0) }
            if numbers.count == 4, numbers[2] != numbers[3] { problems.append(.notSquare(viewBox: box)) }
        }
        if outline.declaresEntities { problems.append(.entityDeclarations) }
        var forbidden: [String] = []
        for element in outline.elements {
            if Self.forbiddenElements.contains(element.localName), !forbidden.contains(element.localName) {
                forbidden.append(element.localName)
                problems.append(.forbiddenElement(element.localName))
            }
            for attribute in element.attributes {
                let local = attribute.name.split(separator: ":").last.map(String.init) ?? attribute.name
                if local.lowercasedASCII.hasPrefix("on") {
                    problems.append(.eventAttribute(element: element.localName, attribute: attribute.name))
                } else if local == "href", !attribute.value.hasPrefix("#") {
                    problems.append(.externalReference(element: element.localName, attribute.value))
                } else if let target = Self.externalURLTarget(attribute.value) {
                    problems.append(.externalReference(element: element.localName, target))
                }
            }
        }
        return problems
    }

    /// The target of a `url(…)` that points outside the document, as in `fill="url(https://…)"`.
    static func externalURLTarget(_ value: String) -> String? {
        var rest = Substring(value)
        while let range = rest.firstRange(of: "url(") {
            let target = rest[range.upperBound...].prefix { $0 != ")" }
            let bare = target.trimmingCharacters(where: { $0 == " " || $0 == "\"" || $0 == "'" })
            if !bare.hasPrefix("#") { return String(target) }
            rest = rest[range.upperBound...]
        }
        return nil
    }
}

/// Why a logo is not an SVG document.
public enum SVGLogoError: Error, Hashable, Sendable, CustomStringConvertible {
    /// gzip data (SVGZ), which this audit does not decompress.
    case compressed
    case notXML(XMLOutlineError)
    /// A well-formed document whose root element is not `<svg>`.
    case notSVG(root: String)

    public var description: String {
        switch self {
        case .compressed: "the body is gzip-compressed (SVGZ)"
        case .notXML(let error): "the body is not well-formed XML (\(error))"
        case .notSVG(let root): "the root element is <\(root)>, not <svg>"
        }
    }
}

/// One way an SVG logo falls outside the SVG Tiny PS profile.
public enum SVGTinyPSProblem: Hashable, Sendable, CustomStringConvertible {
    /// The root does not declare the SVG namespace.
    case noNamespace
    /// `baseProfile` is missing or not `tiny-ps`.
    case baseProfile(String?)
    /// `version` is missing or not `1.2`.
    case version(String?)
    /// The root has no `<title>` child with text: the brand's name.
    case noTitle
    /// `x` or `y` on the root element.
    case rootPosition([String])
    /// A `viewBox` whose width and height differ: logos are shown in a square or a circle.
    case notSquare(viewBox: String)
    /// A document type declaration with entity declarations.
    case entityDeclarations
    case forbiddenElement(String)
    /// An event handler attribute such as `onload`.
    case eventAttribute(element: String, attribute: String)
    /// An `href` or `url(…)` that points outside the document.
    case externalReference(element: String, String)

    public var description: String {
        switch self {
        case .noNamespace: "the root does not declare xmlns=\"\(SVGLogo.namespace)\""
        case .baseProfile(let value): value.map { "baseProfile is \"\($0)\", not \"tiny-ps\"" } ?? "the root has no baseProfile=\"tiny-ps\""
        case .version(let value): value.map { "version is \"\($0)\", not \"1.2\"" } ?? "the root has no version=\"1.2\""
        case .noTitle: "there is no <title> with the brand's name under the root"
        case .rootPosition(let names): "the root element has \(names.joined(separator: " and ")) attributes, which the profile forbids"
        case .notSquare(let box): "the viewBox \"\(box)\" is not square"
        case .entityDeclarations: "the document declares XML entities"
        case .forbiddenElement(let name): "<\(name)> is not allowed (no scripts, animation, raster images or foreign content)"
        case .eventAttribute(let element, let attribute): "<\(element)> has the event handler \(attribute)"
        case .externalReference(let element, let target): "<\(element)> refers outside the document to \"\(target)\""
        }
    }
}
