extension Cgroup {
    /// The CPU weight a yielding task gets: the lowest there is (v2 `cpu.weight` 1, v1 `cpu.shares` 2), so
    /// that any other task on the node runs first.
    public static let yieldingWeight: UInt64 = 1

    /// Makes a reclaimable task yield to the rest of its node, or stop yielding: its CPU weight to the
    /// lowest (or back to the default), and a soft memory limit at `memoryBytes` (v2 `memory.high`, above
    /// which the kernel reclaims its pages and slows it; v1 `memory.soft_limit_in_bytes`, down to which the
    /// kernel reclaims it first when the host runs short), nil to lift it. Written where each controller
    /// lives on this host.
    public func setYielding(_ yielding: Bool, memoryBytes: UInt64?) throws(CgroupError) {
        let weight = yielding ? Self.yieldingWeight : 100
        if limitsAreUnified, let dir = unifiedPath {
            try CgroupFile.write("\(weight)", to: dir + "/cpu.weight")
            try CgroupFile.write(memoryBytes.map { "\($0)" } ?? "max", to: dir + "/memory.high")
            return
        }
        if let dir = legacyPaths["cpu"] {
            try CgroupFile.write("\(max(2, weight * 1024 / 100))", to: dir + "/cpu.shares")
        }
        if let dir = legacyPaths["memory"] {
            try CgroupFile.write(memoryBytes.map { "\($0)" } ?? "-1", to: dir + "/memory.soft_limit_in_bytes")
        }
    }
}
