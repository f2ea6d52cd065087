/// The one rule for names that become paths, cgroup names and hostnames (task ids, images, jobs,
/// tenants): 1...maxLength characters of `A-Z a-z 0-9 . _ -`, and not "." or "..".
public enum Names {
    public static func isValid(_ name: String, maxLength: Int) -> Bool {
        !name.isEmpty && name.utf8.count <= maxLength && name != "." && name != ".."
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x2e
                    || c == 0x2d || c == 0x5f
            }
    }
}
