import MailAuditTLS
import Testing

/// The HTTP/1.1 response reader the MTA-STS policy fetch uses.
@Suite("MTA-STS HTTP response reader")
struct MTASTSHTTPResponseTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static let small = HTTPResponseLimits(headerBytes: 200, bodyBytes: 10)

    /// (response bytes, the peer closed, expected body, why it is complete).
    static let complete: [(String, Bool, String, String)] = [
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, "hello", "Content-Length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello, and more", false, "hello", "bytes past Content-Length are not the body"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", false, "hello world",
         "chunked, with a chunk extension"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n", false, "abc", "chunked with a trailer"),
        ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close", true, "until close", "no length: the body ends with the connection"),
        ("HTTP/1.0 200 OK\nContent-Length: 2\n\nok", false, "ok", "bare LF line ends and HTTP/1.0"),
        ("HTTP/1.1 301 Moved Permanently\r\nLocation: https://elsewhere.example/\r\nContent-Length: 0\r\n\r\n", false, "", "a redirect"),
        ("HTTP/1.1 204 No Content\r\n\r\n", false, "", "204 has no body"),
    ]

    @Test("complete responses are read", arguments: complete)
    func reads(_ text: String, _ atEnd: Bool, _ body: String, _ why: String) throws {
        let progress = try HTTPResponse.parse(Self.bytes(text), atEnd: atEnd)
        guard case .complete(let response) = progress else {
            Issue.record("\(why): not complete")
            return
        }
        #expect(response.body == Self.bytes(body), "\(why)")
    }

    @Test("a response read a byte at a time is the same response", arguments: complete)
    func byteAtATime(_ text: String, _ atEnd: Bool, _ body: String, _ why: String) throws {
        var reader = HTTPResponseReader()
        var result: HTTPResponse?
        for byte in Self.bytes(text) where result == nil {
            if case .complete(let response) = try reader.read([byte], atEnd: false) { result = response }
        }
        if result == nil, atEnd, case .complete(let response) = try reader.read([], atEnd: true) { result = response }
        #expect(result?.body == Self.bytes(body), "\(why)")
        if case .complete(let whole) = try HTTPResponse.parse(Self.bytes(text), atEnd: atEnd) { #expect(result == whole, "\(why)") }
    }

    @Test func headersAreKeptAndFoundWithoutRegardToCase() throws {
        let text = "HTTP/1.1 301 Moved Permanently\r\nLOCATION:  https://elsewhere.example/ \r\nContent-Length: 0\r\n\r\n"
        guard case .complete(let response) = try HTTPResponse.parse(Self.bytes(text), atEnd: false) else {
            Issue.record("not complete")
            return
        }
        #expect(response.status == 301 && response.reason == "Moved Permanently")
        #expect(response.header("location") == "https://elsewhere.example/")
        #expect(response.headLines == ["HTTP/1.1 301 Moved Permanently", "LOCATION: https://elsewhere.example/", "Content-Length: 0"])
    }

    /// (bytes so far, why more must be read).
    static let incomplete: [(String, String)] = [
        ("HTTP/1.1 200 OK\r\nContent-Le", "the head is not finished"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", "the body is shorter than Content-Length"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "no last chunk yet"),
    ]

    @Test("incomplete responses ask for more", arguments: incomplete)
    func needsMore(_ text: String, _ why: String) throws {
        #expect(try HTTPResponse.parse(Self.bytes(text), atEnd: false) == .needMore, "\(why)")
        #expect(throws: HTTPResponseError.truncated, "\(why), and the peer closed") {
            try HTTPResponse.parse(Self.bytes(text), atEnd: true)
        }
    }

    @Test func aBodyWithoutLengthEndsOnlyWithTheConnection() throws {
        #expect(try HTTPResponse.parse(Self.bytes("HTTP/1.1 200 OK\r\n\r\nsome"), atEnd: false) == .needMore)
    }

    /// (bytes, error, why).
    static let bad: [(String, HTTPResponseError, String)] = [
        ("SMTP 220 hello\r\n\r\n", .badStatusLine("SMTP 220 hello"), "not HTTP"),
        ("HTTP/1.1 2000 OK\r\n\r\n", .badStatusLine("HTTP/1.1 2000 OK"), "a status code has three digits"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", .badHeader("no colon here"), "a header needs ':'"),
        ("HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\n\r\n", .badHeader(" folded"), "line folding is obsolete"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", .bodyTooLarge(limit: 10), "a declared body over the limit"),
        ("HTTP/1.1 200 OK\r\n\r\n12345678901", .bodyTooLarge(limit: 10), "a close-delimited body over the limit"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n123456\r\n5\r\n12345\r\n", .bodyTooLarge(limit: 10),
         "chunks adding up over the limit"),
        ("HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 300), .headerTooLarge(limit: 200), "a head over the limit"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .badContentLength("-1"), "a length is digits"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", .badContentLength("1, 2"), "two lengths that differ"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding("gzip"), "only chunked is read"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .badChunk("\"zz\" is not a chunk size"), "a chunk size is hex"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", .badChunk("a chunk is longer than its size says"),
         "data past the chunk size"),
    ]

    @Test("malformed and oversized responses are refused", arguments: bad)
    func refuses(_ text: String, _ error: HTTPResponseError, _ why: String) {
        #expect(throws: error, "\(why)") {
            try HTTPResponse.parse(Self.bytes(text), atEnd: false, limits: Self.small)
        }
    }

    @Test func theRequestAsksForTheHostAndPath() {
        let request = HTTPSRequest(address: .v4([127, 0, 0, 1]), port: 8443, host: "mta-sts.example.com", path: "/.well-known/mta-sts.txt")
        #expect(request.requestText.hasPrefix("GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: mta-sts.example.com:8443\r\n"))
        #expect(request.requestText.hasSuffix("Connection: close\r\n\r\n"))
        #expect(request.url == "https://mta-sts.example.com:8443/.well-known/mta-sts.txt")
        let standard = HTTPSRequest(address: .v4([127, 0, 0, 1]), host: "mta-sts.example.com", path: "/x")
        #expect(standard.requestText.contains("\r\nHost: mta-sts.example.com\r\n"), "no port in Host for 443")
    }
}
