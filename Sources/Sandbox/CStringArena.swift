#if canImport(Glibc)
    import Glibc
#endif

/// C strings that must outlive one call into CSandbox: copied with strdup, freed together.
final class CStringArena {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    /// A NUL-terminated copy of `string`.
    func string(_ string: String) -> UnsafePointer<CChar> {
        let copy = strdup(string)!
        owned.append(copy)
        return UnsafePointer(copy)
    }

    func optional(_ string: String?) -> UnsafePointer<CChar>? { string.map(self.string) }

    /// A NULL-terminated array of C strings (argv, envp); the array itself is freed with the arena.
    func array(_ strings: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let buffer = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: strings.count + 1)
        for (i, s) in strings.enumerated() { buffer[i] = string(s) }
        buffer[strings.count] = nil
        owned.append(UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: CChar.self))
        return UnsafePointer(buffer)
    }

    deinit {
        for pointer in owned { free(pointer) }
    }
}
