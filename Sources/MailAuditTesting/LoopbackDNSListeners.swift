import MailAuditCore
import NIOCore
import NIOPosix

/// The UDP and TCP listeners of a scripted DNS server on one loopback port (``DNSProxy``,
/// ``HostileDNSServer``): bound by ``start(group:udp:tcp:)``, closed by ``stop()`` or when
/// their owner goes away. TCP messages carry their two-octet length (RFC 1035 §4.2.2).
final class LoopbackDNSListeners: Sendable {
    private let bound = Locked<LoopbackBinder.Bound?>(nil)

    var port: UInt16? { bound.withLock { $0?.port } }

    /// Binds both on a free port of 127.0.0.1, each channel with a handler from its factory.
    func start(group: any EventLoopGroup, udp makeUDP: @escaping @Sendable () -> any ChannelHandler,
               tcp makeTCP: @escaping @Sendable () -> any ChannelHandler) async throws(HarnessError) {
        let result = try await LoopbackBinder.bind(
            udp: {
                DatagramBootstrap(group: group).channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(makeUDP()) }
                }
            },
            tcp: {
                ServerBootstrap(group: group).childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LengthPrefixedDecoder()))
                        try channel.pipeline.syncOperations.addHandler(makeTCP())
                    }
                }
            })
        bound.withLock { $0 = result }
    }

    /// Closes both listeners. Queries in flight may still be answered.
    func stop() async {
        guard let result = bound.withLock({ state -> LoopbackBinder.Bound? in
            defer { state = nil }
            return state
        }) else { return }
        for channel in result.channels { try? await channel.close() }
    }

    deinit {
        if let result = bound.withLock({ $0 }) {
            for channel in result.channels { channel.close(promise: nil) }
        }
    }
}
