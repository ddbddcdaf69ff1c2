import MailAuditRecords
import MailAuditSMTP
import MailAuditTLS
import Testing

/// A stream that plays back scripted chunks and records what is written; when the script
/// runs out it either times out or reports the end of the stream.
final class ScriptedStream: ByteStream {
    enum End { case timeout, closed }

    var chunks: [[UInt8]]
    /// Chunks produced on demand once `chunks` is empty (an endless server); nil for none.
    var endless: (() -> [UInt8])?
    let end: End
    private(set) var written: [UInt8] = []
    private(set) var bytesServed = 0
    private(set) var isClosed = false

    init(_ chunks: [String], end: End = .closed, endless: (() -> [UInt8])? = nil) {
        self.chunks = chunks.map { Array($0.utf8) }
        self.end = end
        self.endless = endless
    }

    func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(StreamError) -> [UInt8] {
        if chunks.isEmpty, let endless { chunks.append(endless()) }
        guard !chunks.isEmpty else {
            if end == .timeout { throw .timedOut }
            return []
        }
        var chunk = chunks.removeFirst()
        if chunk.count > maxBytes {
            chunks.insert(Array(chunk[maxBytes...]), at: 0)
            chunk = Array(chunk[..<maxBytes])
        }
        bytesServed += chunk.count
        return chunk
    }

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(StreamError) {
        guard !isClosed else { throw .closed }
        written += bytes
    }

    func close() { isClosed = true }

    var writtenText: String { String(decoding: written, as: UTF8.self) }
}

/// The SMTP client over a scripted stream: framing, limits, errors and the transcript.
struct SMTPClientTests {
    let soon = ContinuousClock.now + .seconds(5)

    @Test func readsAReplySplitAcrossChunks() throws {
        let stream = ScriptedStream(["22", "0-mx.exa", "mple.com hi\r", "\n220 ready\r\n"])
        let client = SMTPClient(stream: stream)
        let reply = try client.readReply(deadline: soon)
        #expect(reply == SMTPReply(code: 220, lines: ["mx.example.com hi", "ready"]))
        #expect(client.transcript.map(\.description) == ["S: 220-mx.example.com hi", "S: 220 ready"])
    }

    @Test func keepsBytesOfTheNextReply() throws {
        let stream = ScriptedStream(["220 hi\r\n250-a\r\n250 b\r\n"])
        let client = SMTPClient(stream: stream)
        #expect(try client.readReply(deadline: soon).code == 220)
        #expect(try client.readReply(deadline: soon).lines == ["a", "b"])
    }

    @Test func commandsEndInCRLF() throws {
        let stream = ScriptedStream(["250 ok\r\n"])
        let client = SMTPClient(stream: stream)
        _ = try client.command("EHLO probe.example", deadline: soon)
        #expect(stream.writtenText == "EHLO probe.example\r\n")
        #expect(client.transcript.first?.description == "C: EHLO probe.example")
    }

    @Test(arguments: ["EHLO a\r\nMAIL FROM:<x>", "EHLO a\nRCPT TO:<y>", "EHLO a\r"])
    func refusesLineBreaksInACommand(command: String) {
        let stream = ScriptedStream([])
        let client = SMTPClient(stream: stream)
        #expect(throws: SMTPClientError.self) { try client.send(command, deadline: soon) }
        #expect(stream.written.isEmpty)
    }

    @Test func endlessLineStopsAtTheLimit() {
        let stream = ScriptedStream(["220 "], endless: { Array(repeating: UInt8(ascii: "x"), count: 1000) })
        let client = SMTPClient(stream: stream)
        #expect(throws: SMTPClientError.malformedReply(.lineTooLong(3004))) { try client.readReply(deadline: soon) }
        #expect(stream.bytesServed < 2048 + 4096, "memory stays bounded")
        #expect(client.transcript.last?.text.hasPrefix("server sent 3004 bytes without an end of line") == true)
    }

    @Test func aLongLineWithItsEndInOneChunkIsStillTooLong() {
        let stream = ScriptedStream(["220 " + String(repeating: "y", count: 3000) + "\r\n"])
        let client = SMTPClient(stream: stream)
        #expect(throws: SMTPClientError.malformedReply(.lineTooLong(3004))) { try client.readReply(deadline: soon) }
    }

    @Test func tooManyLinesInOneReply() {
        let stream = ScriptedStream([], endless: { Array("250-again\r\n".utf8) })
        let client = SMTPClient(stream: stream, limits: SMTPLimits(maximumReplyLines: 10))
        #expect(throws: SMTPClientError.malformedReply(.tooManyLines(11))) { try client.readReply(deadline: soon) }
    }

    @Test func dripThenSilenceTimesOut() {
        let stream = ScriptedStream(["2", "2", "0", "-"], end: .timeout)
        let client = SMTPClient(stream: stream)
        #expect(throws: SMTPClientError.timedOut) { try client.readReply(deadline: soon) }
        #expect(client.transcript.last?.text == "partial line, then timed out: 220-")
    }

    @Test func closedMidReply() {
        let stream = ScriptedStream(["220-first\r\n220 sec"])
        let client = SMTPClient(stream: stream)
        #expect(throws: SMTPClientError.closed) { try client.readReply(deadline: soon) }
        #expect(client.transcript.map(\.description) == ["S: 220-first", "* partial line, then the connection closed: 220 sec"])
    }

    @Test func badCodeIsAProtocolError() {
        let client = SMTPClient(stream: ScriptedStream(["HTTP/1.1 400 Bad Request\r\n"]))
        #expect(throws: SMTPClientError.malformedReply(.invalidCode("HTTP/1.1 400 Bad Request"))) { try client.readReply(deadline: soon) }
        #expect(client.transcript.first?.description == "S: HTTP/1.1 400 Bad Request", "the bad line is kept as evidence")
    }

    @Test(arguments: [
        ("AUTH PLAIN AHVzZXIAc2VjcmV0", false, "AUTH PLAIN <redacted>"),
        ("auth login dXNlcg==", false, "auth login <redacted>"),
        ("AUTH LOGIN", false, "AUTH LOGIN"),
        ("c2VjcmV0", true, "<redacted>"),
        ("EHLO probe.example", false, "EHLO probe.example"),
    ])
    func secretsAreRedactedInTheTranscript(command: String, secret: Bool, shown: String) throws {
        let stream = ScriptedStream(["235 ok\r\n"])
        let client = SMTPClient(stream: stream)
        _ = try client.command(command, secret: secret, deadline: soon)
        #expect(client.transcript.first?.text == shown)
        #expect(stream.writtenText == command + "\r\n", "the server still gets the real line")
    }

    @Test func transcriptIsBounded() throws {
        let stream = ScriptedStream([], endless: { Array("250 ok\r\n".utf8) })
        let client = SMTPClient(stream: stream, maximumTranscriptLines: 5)
        for _ in 0..<10 { _ = try client.readReply(deadline: soon) }
        #expect(client.transcript.count == 6)
        #expect(client.transcript.last?.text == "transcript cut at 5 lines")
    }

    @Test func startTLSNeedsAPlainConnection() {
        let client = SMTPClient(stream: ScriptedStream([]))
        #expect(throws: SMTPClientError.invalidCommand("TLS is already on")) {
            try client.startTLS(configuration: TLSClientConfiguration(serverName: "mx.example"), deadline: soon)
        }
    }
}
