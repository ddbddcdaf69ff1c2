public import Foundation
public import MailAuditCore

/// One HTTPS GET over the strict TLS client, for documents that must come from the named host
/// and nowhere else, such as an MTA-STS policy (RFC 8461 §3.3).
///
/// ```swift
/// let request = HTTPSRequest(address: IPAddress("192.0.2.80")!, host: "mta-sts.example.com", path: "/.well-known/mta-sts.txt")
/// switch request.get(deadline: .now + .seconds(10)) {
/// case .success(let response): print(response.status)
/// case .failure(let error): print(error)
/// }
/// ```
///
/// The certificate must chain to `trust`, be valid at `verificationTime` and name `host`, over
/// TLS 1.2 or later (``TLSVerificationMode/strict``). Redirects are returned, never followed;
/// the response is read within ``limits`` and the deadline. `get` blocks the calling thread up
/// to its deadline: call it from a dedicated thread.
public struct HTTPSRequest: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    /// The server name: sent as SNI and in the Host field, and checked against the certificate.
    public var host: String
    /// The path, starting with "/".
    public var path: String
    public var trust: TLSTrust
    /// The time certificates are judged at; nil means now.
    public var verificationTime: Date?
    public var limits: HTTPResponseLimits
    public var connectTimeout: Duration
    /// The media types asked for in the Accept field.
    public var accept: String

    public init(
        address: IPAddress, port: UInt16 = 443, host: String, path: String, trust: TLSTrust = .system, verificationTime: Date? = nil,
        limits: HTTPResponseLimits = HTTPResponseLimits(), connectTimeout: Duration = .seconds(5), accept: String = "text/plain"
    ) {
        self.address = address
        self.port = port
        self.host = host
        self.path = path
        self.trust = trust
        self.verificationTime = verificationTime
        self.limits = limits
        self.connectTimeout = connectTimeout
        self.accept = accept
    }

    /// The request's bytes: an HTTP/1.1 GET that asks the server to close the connection after.
    public var requestText: String {
        // The port belongs in Host when it is not the scheme's default (RFC 9110 §7.2).
        let hostField = port == 443 ? host : "\(host):\(port)"
        return "GET \(path) HTTP/1.1\r\nHost: \(hostField)\r\nUser-Agent: mailaudit\r\nAccept: \(accept)\r\nConnection: close\r\n\r\n"
    }

    /// The URL, for messages: `https://mta-sts.example.com/.well-known/mta-sts.txt`.
    public var url: String { "https://\(host)\(port == 443 ? "" : ":\(port)")\(path)" }

    /// Connects, sends the GET and reads the response; blocks up to `deadline`.
    ///
    /// - Returns: the response whatever its status, or why there is none: the TCP connection
    ///   failed, the TLS handshake failed or was aborted by verification, the connection timed
    ///   out or broke, or the response was malformed or too large.
    public func get(deadline: ContinuousClock.Instant) -> Result<HTTPResponse, HTTPSFetchError> {
        let configuration = TLSClientConfiguration.strict(serverName: host, trust: trust, verificationTime: verificationTime)
        let client: TLSClient
        do {
            client = try TLSClient.connect(to: address, port: port, configuration: configuration, connectTimeout: connectTimeout, deadline: deadline)
        } catch {
            switch error {
            case .connect(let failure): return .failure(.connect(failure))
            case .tls(let failure): return .failure(.tls(failure))
            }
        }
        defer { client.close() }
        do {
            try client.write(Array(requestText.utf8), deadline: deadline)
        } catch {
            return .failure(.stream(error))
        }
        var reader = HTTPResponseReader(limits: limits)
        while true {
            let chunk: [UInt8]
            do {
                chunk = try client.read(upTo: 16 * 1024, deadline: deadline)
            } catch {
                return .failure(.stream(error))
            }
            do throws(HTTPResponseError) {
                if case .complete(let response) = try reader.read(chunk, atEnd: chunk.isEmpty) { return .success(response) }
            } catch {
                return .failure(.response(error))
            }
        }
    }
}

/// Why an ``HTTPSRequest`` got no response.
public enum HTTPSFetchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The TCP connection failed: refused, timed out, unreachable.
    case connect(ConnectError)
    /// The TLS handshake failed, or strict verification aborted it.
    case tls(TLSFailure)
    /// Sending or reading timed out or broke after the handshake.
    case stream(StreamError)
    /// What came back is not a usable HTTP response.
    case response(HTTPResponseError)

    public var description: String {
        switch self {
        case .connect(let error): error.description
        case .tls(let error): error.description
        case .stream(.timedOut): "timed out waiting for the response"
        case .stream(let error): "the connection failed: \(error)"
        case .response(let error): error.description
        }
    }
}
