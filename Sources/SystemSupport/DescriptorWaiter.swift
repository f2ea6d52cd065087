import CSandbox
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Waits for file descriptors without polling loops: one epoll instance and one thread serve every
/// waiter (pidfds becoming readable when a process exits, cgroup.events signalling EPOLLPRI on change).
public final class DescriptorWaiter: Sendable {
    public static let shared = DescriptorWaiter()

    private struct State: ~Copyable {
        var nextID: UInt64 = 1
        var waiters: [UInt64: (fd: Int32, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let epollFD: Int32
    private let state = Mutex(State())

    private init() {
        epollFD = corral_epoll_create()
        precondition(epollFD >= 0, "epoll_create1 failed: errno \(-epollFD)")
        let fd = epollFD
        let thread = Thread { [self] in self.run(fd) }
        thread.start()
    }

    /// Suspends until `fd` reports one of `events` (EPOLLIN for pidfds, EPOLLPRI for cgroup.events).
    /// Cancelling the calling task ends the wait early. The caller keeps ownership of `fd`.
    public func wait(for fd: Int32, events: UInt32 = UInt32(CORRAL_EPOLLIN)) async {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                state.withLock { $0.waiters[id] = (fd, continuation) }
                if corral_epoll_add(epollFD, fd, events | UInt32(CORRAL_EPOLLONESHOT), id) != 0 || Task.isCancelled {
                    // Not pollable (or cancelled before we got here): report "ready" so the caller re-checks.
                    resume(id)
                }
            }
        } onCancel: {
            resume(id)
        }
    }

    /// Removes the registration (a fired one-shot stays in the set, disabled) and wakes the waiter once.
    private func resume(_ id: UInt64) {
        guard let waiter = state.withLock({ $0.waiters.removeValue(forKey: id) }) else { return }
        corral_epoll_del(epollFD, waiter.fd)
        waiter.continuation.resume()
    }

    private func run(_ fd: Int32) {
        var cookies = [UInt64](repeating: 0, count: 64)
        while true {
            let n = cookies.withUnsafeMutableBufferPointer {
                corral_epoll_wait(fd, $0.baseAddress, Int32($0.count), -1)
            }
            if n < 0 { continue }  // EINTR
            for i in 0..<Int(n) { resume(cookies[i]) }
        }
    }
}
