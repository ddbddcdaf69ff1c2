import MailAuditCore
import NIOCore
import NIOPosix

/// The TCP connections a test listener accepted: how many so far, and those still open, which
/// its `stop()` (or `deinit`) closes. Shared by ``HostileSMTPListener`` and ``SilentListener``.
final class AcceptedConnections: Sendable {
    private struct State {
        var count = 0
        var open: [ObjectIdentifier: any Channel] = [:]
    }

    private let state = Locked(State())

    /// Connections accepted so far.
    var count: Int { state.withLock { $0.count } }

    /// Counts `channel` and keeps it until it closes.
    func accepted(_ channel: any Channel) {
        state.withLock { state in
            state.count += 1
            state.open[ObjectIdentifier(channel)] = channel
        }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    /// The connections still open, which are forgotten: the caller closes them.
    func takeOpen() -> [any Channel] {
        state.withLock { state in
            defer { state.open = [:] }
            return Array(state.open.values)
        }
    }
}

extension ServerBootstrap {
    /// Records every accepted connection in `connections`, then gives it the handler `makeHandler` returns.
    func childChannelInitializer(
        recordingIn connections: AcceptedConnections, _ makeHandler: @escaping @Sendable () -> any ChannelHandler
    ) -> ServerBootstrap {
        childChannelInitializer { channel in
            connections.accepted(channel)
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(makeHandler())
            }
        }
    }
}
