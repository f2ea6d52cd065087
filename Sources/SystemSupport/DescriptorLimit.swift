import Glibc

/// The process's limit on open descriptors.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard one; on failure, the soft limit kept and errno.
    @discardableResult
    public static func raise() -> (soft: UInt64, errno: Int32)? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return nil }
        let soft = UInt64(limit.rlim_cur)
        limit.rlim_cur = limit.rlim_max
        return setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? nil : (soft, Glibc.errno)
    }

    /// The soft limit now.
    public static var current: UInt64 {
        var limit = rlimit()
        return getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? UInt64(limit.rlim_cur) : 1024
    }
}
