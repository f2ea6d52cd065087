/// Reading a task's work directory (`corral alloc fs`): the same path on the scheduler, which checks the
/// caller and relays, and on the agent. A directory answers with a `FileListing` (JSON), a file with its
/// bytes from `offset` (at most `limit`) and the headers below.
public enum WorkFiles {
    /// The file's size in bytes.
    public static let sizeHeader = "Corral-File-Size"
    /// The offset to ask for next.
    public static let offsetHeader = "Corral-File-Offset"
    public static let defaultLimit = 1 << 20
    public static let maxLimit = 16 << 20

    /// `GET` path of `path` (relative to the work directory) in an allocation's work directory.
    public static func path(_ allocation: AllocationID, path: String, offset: UInt64 = 0, limit: Int? = nil) -> String {
        var query = "path=\(percentEncoded(path))&offset=\(offset)"
        if let limit { query += "&limit=\(limit)" }
        return "/v1/allocations/\(allocation)/fs?\(query)"
    }

    /// The path's components: empty ones and "." dropped; nil when one is ".." (no path leaves the work
    /// directory) or the path holds a NUL.
    public static func components(_ path: String) -> [String]? {
        guard !path.utf8.contains(0) else { return nil }
        let parts = path.split(separator: "/").map(String.init).filter { $0 != "." }
        return parts.contains("..") ? nil : parts
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII, c.isLetter || c.isNumber || "-._~/".contains(c) {
                out.append(c)
            } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

/// A directory of a task's work directory.
public struct FileListing: Sendable, Codable, Equatable {
    public struct Entry: Sendable, Codable, Equatable {
        public enum Kind: String, Sendable, Codable { case file, directory, symlink, other }
        public var name: String
        public var kind: Kind
        public var size: UInt64
        /// Permission bits.
        public var mode: UInt32
        /// Seconds since the Unix epoch.
        public var modified: Double

        public init(name: String, kind: Kind, size: UInt64, mode: UInt32, modified: Double) {
            self.name = name
            self.kind = kind
            self.size = size
            self.mode = mode
            self.modified = modified
        }
    }

    public var path: String
    public var entries: [Entry]
    /// Whether the task still runs (the listing may change).
    public var running: Bool

    public init(path: String, entries: [Entry], running: Bool) {
        self.path = path
        self.entries = entries
        self.running = running
    }
}
