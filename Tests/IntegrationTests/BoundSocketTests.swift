import Foundation
import MailAuditCore
@testable import MailAuditTesting
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The harness closes each descriptor once. A second close of a number that another thread has
/// just been given closes that thread's file: a concurrent `Process.run()` then failed with
/// "Bad file descriptor" (seen in a test run under load).
@Suite(.tags(.harness))
struct BoundSocketTests {
    @Test func aSocketThatCannotBindIsClosedOnce() throws {
        let held = try BoundSocket(type: SOCK_STREAM, port: 0)
        let port = held.port
        #expect(port != 0)
        let stop = Locked(false)
        let lost = Locked(0)
        // Opens /dev/null again and again, and checks the descriptor is still its own before closing it.
        let watcher = Thread {
            while !stop.withLock({ $0 }) {
                let descriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { continue }
                var spin = 0
                for _ in 0..<200 { spin &+= 1 }
                var info = stat()
                if fstat(descriptor, &info) != 0 || info.st_mode & S_IFMT != S_IFCHR {
                    lost.withLock { $0 += 1 }
                }
                if close(descriptor) != 0 { lost.withLock { $0 += 1 } }
            }
        }
        watcher.start()
        var otherFailures: [String] = []
        withExtendedLifetime(held) {
            for _ in 0..<20_000 {
                do {
                    _ = try BoundSocket(type: SOCK_STREAM, port: port)
                    otherFailures.append("bound a port that is taken")
                } catch {
                    if !"\(error)".contains("in use") { otherFailures.append("\(error)") }
                }
            }
        }
        stop.withLock { $0 = true }
        while !watcher.isFinished { usleep(1_000) }
        #expect(lost.withLock { $0 } == 0, "descriptors closed under the watcher")
        #expect(otherFailures.isEmpty, "\(otherFailures.prefix(3))")
    }
}
