import Synchronization

/// A value that threads share behind a lock: Synchronization's `Mutex`, plus what
/// ThreadSanitizer needs to see it.
///
/// On Linux `Mutex` takes its lock with futex system calls, which ThreadSanitizer does not
/// intercept, so under TSan every access inside `withLock` looks like a race. Built with
/// `-D TSAN_VISIBLE_LOCKS` (scripts/tsan does), each critical section also tells TSan that it
/// acquires and releases the lock; TSan then reports only real races. Other builds are `Mutex`.
public struct Locked<Value: ~Copyable>: ~Copyable, Sendable {
    private let mutex: Mutex<Value>
    #if TSAN_VISIBLE_LOCKS
    private let identity = LockIdentity()
    #endif

    public init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    public borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if TSAN_VISIBLE_LOCKS
        let address = identity.address
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            tsanAcquire(address)
            defer { tsanRelease(address) }
            return try body(&value)
        }
        #else
        return try mutex.withLock(body)
        #endif
    }
}

#if TSAN_VISIBLE_LOCKS
/// An address that stands for one lock in TSan's happens-before bookkeeping.
private final class LockIdentity: Sendable {
    var address: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
}

// The TSan runtime's annotations (sanitizer/tsan_interface.h); present only in a -sanitize=thread link.
@_silgen_name("__tsan_acquire")
private func tsanAcquire(_ address: UnsafeMutableRawPointer)

@_silgen_name("__tsan_release")
private func tsanRelease(_ address: UnsafeMutableRawPointer)
#endif
