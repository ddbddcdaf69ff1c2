/// A credential, such as an SMTP password. It prints, logs and encodes as `<redacted>`
/// wherever it goes, so a transcript, a log line or a report cannot show it by mistake;
/// only code inside this package can read the value, through ``revealed``.
///
/// ```swift
/// let password = Secret("hunter2")
/// print(password)          // <redacted>
/// "\(password)"            // "<redacted>"
/// ```
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable, Encodable {
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The value itself, for the one place that must send it (a SASL response).
    package var revealed: String { value }

    public var isEmpty: Bool { value.isEmpty }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
