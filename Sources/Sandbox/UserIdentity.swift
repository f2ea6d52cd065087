#if canImport(Glibc)
    import Glibc
#endif

/// A resolved user: uid, primary gid and supplementary groups. Resolved in the agent, never in the
/// child (NSS lookups are not safe after clone).
public struct UserIdentity: Sendable, Equatable, Codable {
    public var name: String
    public var uid: uid_t
    public var gid: gid_t
    public var groups: [gid_t]

    /// A name from the passwd database, or a numeric uid (its gid is then the same number unless the
    /// database knows the uid).
    public static func resolve(_ spec: String) throws(SandboxError) -> UserIdentity {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let numeric = uid_t(spec)
        let rc =
            numeric.map { getpwuid_r($0, &pwd, &buffer, buffer.count, &result) }
            ?? getpwnam_r(spec, &pwd, &buffer, buffer.count, &result)
        guard rc == 0, result != nil else {
            if let uid = numeric { return UserIdentity(name: spec, uid: uid, gid: gid_t(uid), groups: [gid_t(uid)]) }
            throw SandboxError(.user, "user \"\(spec)\" does not exist on this host")
        }
        let name = String(cString: pwd.pw_name)
        var count: Int32 = 64
        var groups = [gid_t](repeating: 0, count: Int(count))
        if getgrouplist(pwd.pw_name, pwd.pw_gid, &groups, &count) < 0 {
            groups = [gid_t](repeating: 0, count: Int(count))
            _ = getgrouplist(pwd.pw_name, pwd.pw_gid, &groups, &count)
        }
        return UserIdentity(
            name: name, uid: pwd.pw_uid, gid: pwd.pw_gid, groups: Array(groups.prefix(Int(max(count, 0)))))
    }
}
