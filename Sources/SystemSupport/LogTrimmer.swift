import CSandbox
import Foundation
import Synchronization

/// Keeps append-only files (task logs) within a bound while they are written, without copying a byte:
/// when a file holds more than `keep` bytes of data plus an eighth, its oldest bytes are punched out
/// (`fallocate(FALLOC_FL_PUNCH_HOLE)`, block-aligned), leaving the last `keep` to `keep + 4 KiB`: small,
/// frequent punches, so that a writer as fast as the page cache stays far below 3x `keep` while the
/// trimming thread (at a raised priority) wakes and punches. The
/// file's size, and so every byte's offset, stay as they were: an offset is a position in the stream
/// since it started, and the first byte still held is where `SEEK_DATA` finds data.
///
/// An inotify watch per file wakes a thread of its own on every write, so a task writing as fast as it
/// can is trimmed as it goes, not once per heartbeat; `trim` is also there for a caller to run itself.
public final class LogTrimmer: Sendable {
    public let keep: UInt64
    private let inotifyFD: Int32
    /// Watched files: the writable descriptor (owned by the caller, which unwatches before closing it) and
    /// the offset of the first byte still held.
    private let watched = Mutex<[Int32: (fd: Int32, start: UInt64)]>([:])

    /// Nil when inotify cannot be had (callers then trim on their own schedule).
    public init?(keep: UInt64) {
        let fd = corral_inotify_init()
        guard fd >= 0 else { return nil }
        self.keep = keep
        inotifyFD = fd
        let thread = Thread { [self] in self.run() }
        thread.name = "corral-log-trimmer"
        thread.start()
    }

    /// Watches `path` (opened by the caller as `fd`, writable): the watch's id, or nil (ENOSPC: the
    /// user's inotify watches are used up). The file is trimmed at once if it is already over.
    public func watch(path: String, fd: Int32) -> Int32? {
        let wd = corral_inotify_watch_modify(inotifyFD, path)
        guard wd >= 0 else { return nil }
        watched.withLock { files in
            var start = Self.firstData(fd)
            Self.trim(fd, start: &start, keep: keep)
            files[wd] = (fd, start)
        }
        return wd
    }

    /// Stops watching: once this returns, the descriptor is never used again here.
    public func unwatch(_ wd: Int32) {
        watched.withLock { _ = $0.removeValue(forKey: wd) }
        _ = corral_inotify_unwatch(inotifyFD, wd)
    }

    private func run() {
        // Woken by every write of every watched task: it must get the CPU at once to keep up with them.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, -20)  // 0: this thread, on Linux
        var wds = [Int32](repeating: 0, count: 256)
        while true {
            let n = wds.withUnsafeMutableBufferPointer { corral_inotify_read(inotifyFD, $0.baseAddress, 256) }
            guard n >= 0 else { return }
            // The lock is held while trimming, so an unwatched (and then closed, maybe reused) descriptor is
            // never punched.
            watched.withLock { files in
                for wd in Set(wds[0..<Int(n)]) {
                    guard var file = files[wd] else { continue }
                    if Self.trim(file.fd, start: &file.start, keep: keep) { files[wd] = file }
                }
            }
        }
    }

    /// The offset of the first byte of data `fd`'s file still holds (its size when none).
    public static func firstData(_ fd: Int32) -> UInt64 {
        let at = corral_seek_data(fd, 0)
        return at > 0 ? UInt64(at) : 0
    }

    /// Punches out all but the last `keep` bytes (block-aligned) when more than `keep` and an eighth (at
    /// least a block) are held;
    /// `start` is the first byte held, updated. Whether it punched.
    @discardableResult
    public static func trim(_ fd: Int32, start: inout UInt64, keep: UInt64) -> Bool {
        guard let size = FileIO.size(fd), size > start, size - start > keep + max(keep / 8, 4096) else { return false }
        let end = (size - keep) & ~UInt64(4095)
        guard end > start else { return false }
        guard corral_punch_hole(fd, Int64(start), Int64(end - start)) == 0 else { return false }
        start = end
        return true
    }
}
