import NIOCore
import NIOPosix

/// Binds a UDP channel and/or a TCP server channel on 127.0.0.1 on one port chosen by the
/// kernel, retrying when the TCP side of that port is taken.
enum LoopbackBinder {
    struct Bound {
        var udp: (any Channel)?
        var tcp: (any Channel)?
        var port: UInt16
        var channels: [any Channel] { [udp, tcp].compactMap { $0 } }
    }

    static func bind(
        udp makeUDP: (() -> DatagramBootstrap)?, tcp makeTCP: (() -> ServerBootstrap)?
    ) async throws(HarnessError) -> Bound {
        var lastError = "nothing to bind"
        for _ in 0..<20 {
            var udp: (any Channel)?
            do {
                var port = 0
                if let makeUDP {
                    let channel = try await makeUDP().bind(host: Loopback.host, port: 0).get()
                    udp = channel
                    port = channel.localAddress?.port ?? 0
                }
                var tcp: (any Channel)?
                if let makeTCP {
                    let channel = try await makeTCP()
                        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                        .bind(host: Loopback.host, port: port).get()
                    tcp = channel
                    port = channel.localAddress?.port ?? 0
                }
                return Bound(udp: udp, tcp: tcp, port: UInt16(port))
            } catch {
                lastError = "\(error)"
                try? await udp?.close()
            }
        }
        throw .socket("could not bind 127.0.0.1: \(lastError)")
    }
}

/// Splits a TCP stream into DNS messages, each preceded by a two-octet length (RFC 1035 §4.2.2).
struct LengthPrefixedDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              buffer.readableBytes >= 2 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2)
        guard let message = buffer.readSlice(length: Int(length)) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

extension ByteBuffer {
    /// The message with its two-octet length prefix, for writing to a TCP stream.
    var lengthPrefixed: ByteBuffer {
        var framed = ByteBuffer()
        framed.reserveCapacity(readableBytes + 2)
        framed.writeInteger(UInt16(truncatingIfNeeded: readableBytes))
        framed.writeImmutableBuffer(self)
        return framed
    }

    var allBytes: [UInt8] { getBytes(at: readerIndex, length: readableBytes) ?? [] }
}

extension TimeAmount {
    /// A duration clamped to zero and above.
    init(clamping duration: Duration) {
        self = duration > .zero ? TimeAmount(duration) : .zero
    }
}
