public import Foundation
import MailAuditCore
import MailAuditSMTP

/// The lines of a domains file (or standard input) as ``DomainLine`` values, read on demand: a
/// line is read only when the audit is ready for another domain, so a list of millions costs no
/// more memory than a list of ten. Reads happen on a thread of their own, never blocking the
/// cooperative pool while a pipe waits. A line longer than ``maximumLineLength`` is a bad line.
public struct DomainLineReader: AsyncSequence, Sendable {
    public typealias Element = DomainLine
    public static let maximumLineLength = 1024

    private let handle: FileHandleBox

    public init(_ handle: FileHandle) { self.handle = FileHandleBox(handle) }

    public func makeAsyncIterator() -> Iterator { Iterator(handle: handle) }

    public struct Iterator: AsyncIteratorProtocol {
        let handle: FileHandleBox
        private var buffer: [UInt8] = []
        private var start = 0
        private var line = 0
        private var atEnd = false
        private static let reader = DedicatedThreads(limit: 1)

        init(handle: FileHandleBox) { self.handle = handle }

        public mutating func next() async -> DomainLine? {
            while true {
                if let newline = buffer[start...].firstIndex(of: 10) {
                    let bytes = buffer[start..<newline]
                    start = newline + 1
                    line += 1
                    return parse(bytes)
                }
                if buffer.count - start > DomainLineReader.maximumLineLength {
                    // Keep nothing of an overlong line: report it, then drop bytes up to its end.
                    let excerpt = String(decoding: buffer[start..<(start + 60)], as: UTF8.self)
                    line += 1
                    let number = line
                    await skipToNextLine()
                    return .bad(BadDomainLine(line: number, text: excerpt + "…",
                                              reason: "the line is longer than \(DomainLineReader.maximumLineLength) bytes"))
                }
                if atEnd {
                    guard start < buffer.count else { return nil }
                    let bytes = buffer[start...]
                    start = buffer.count
                    line += 1
                    return parse(bytes)
                }
                await fill()
            }
        }

        private mutating func fill() async {
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            let handle = self.handle
            let chunk = await Self.reader.run { handle.read() }
            if chunk.isEmpty { atEnd = true } else { buffer += chunk }
        }

        private mutating func skipToNextLine() async {
            while true {
                if let newline = buffer[start...].firstIndex(of: 10) {
                    start = newline + 1
                    return
                }
                buffer.removeAll(keepingCapacity: true)
                start = 0
                if atEnd { return }
                await fill()
            }
        }

        private func parse(_ bytes: ArraySlice<UInt8>) -> DomainLine {
            DomainList.parse(Substring(String(decoding: bytes, as: UTF8.self)), line: line)
        }
    }
}

/// A file handle handed to the reading thread; used by one reader at a time.
final class FileHandleBox: @unchecked Sendable {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }

    /// Up to 64 KiB, or nothing at the end of the file (or on an error).
    func read() -> [UInt8] {
        guard let data = try? handle.read(upToCount: 65_536) else { return [] }
        return [UInt8](data)
    }
}
