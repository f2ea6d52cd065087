import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One member of a tar archive, with the PAX and GNU long-name extensions already applied.
struct TarEntry {
    enum Kind: Equatable {
        case file, hardLink, symlink, characterDevice, blockDevice, directory, fifo, other(UInt8)
    }

    var path: String
    var kind: Kind
    var mode: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: UInt64
    var linkTarget: String
}

/// A streaming reader of ustar/PAX/GNU tar archives from a file descriptor. It trusts nothing: sizes and
/// header checksums are checked, names are returned as written (the caller decides what a safe path is),
/// and extension headers are bounded (1 MiB).
struct TarReader {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    /// Bytes of the current entry's data not yet read.
    private var remaining: UInt64 = 0
    /// Padding after the current entry's data.
    private var padding: UInt64 = 0

    init(fd: Int32) { self.fd = fd }

    /// The next entry, or nil at the end of the archive. The previous entry's unread data is skipped.
    mutating func next() throws(Failure) -> TarEntry? {
        try skip(remaining + padding)
        (remaining, padding) = (0, 0)
        var longName: String?
        var longLink: String?
        var pax: [String: String] = [:]
        while true {
            var header = [UInt8](repeating: 0, count: 512)
            let got = try readFully(&header)
            if got == 0 || header.allSatisfy({ $0 == 0 }) { return nil }
            guard got == 512 else { throw Failure(description: "the archive ends inside a header") }
            try Self.checkChecksum(header)
            let size = try Self.number(header[124..<136], "size")
            let type = header[156]
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard size <= 1 << 20 else { throw Failure(description: "an extension header of \(size) bytes") }
                var data = [UInt8](repeating: 0, count: Int(size))
                guard try readFully(&data) == data.count else { throw Failure(description: "truncated extension") }
                try skip(Self.pad(size))
                if type == UInt8(ascii: "x") {
                    pax.merge(try Self.paxRecords(data)) { _, new in new }
                } else {
                    let text = String(decoding: data.prefix { $0 != 0 }, as: UTF8.self)
                    if type == UInt8(ascii: "L") { longName = text } else { longLink = text }
                }
                continue
            case UInt8(ascii: "g"):
                try skip(size + Self.pad(size))  // global PAX headers: nothing we use
                continue
            default: break
            }
            var path = Self.string(header[0..<100])
            if header[257..<262].elementsEqual("ustar".utf8) {
                let prefix = Self.string(header[345..<500])
                if !prefix.isEmpty { path = prefix + "/" + path }
            }
            path = pax["path"] ?? longName ?? path
            let link = pax["linkpath"] ?? longLink ?? Self.string(header[157..<257])
            let kind: TarEntry.Kind =
                switch type {
                case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): .file
                case UInt8(ascii: "1"): .hardLink
                case UInt8(ascii: "2"): .symlink
                case UInt8(ascii: "3"): .characterDevice
                case UInt8(ascii: "4"): .blockDevice
                case UInt8(ascii: "5"): .directory
                case UInt8(ascii: "6"): .fifo
                default: .other(type)
                }
            let entrySize = pax["size"].flatMap { UInt64($0) } ?? size
            let stored = kind == .file ? entrySize : (kind == .other(type) ? entrySize : 0)
            remaining = stored
            padding = Self.pad(stored)
            var uid = try Self.number(header[108..<116], "uid")
            var gid = try Self.number(header[116..<124], "gid")
            if let value = pax["uid"].flatMap({ UInt64($0) }) { uid = value }
            if let value = pax["gid"].flatMap({ UInt64($0) }) { gid = value }
            return TarEntry(
                path: path, kind: kind, mode: UInt32(try Self.number(header[100..<108], "mode") & 0o7777),
                uid: UInt32(truncatingIfNeeded: uid), gid: UInt32(truncatingIfNeeded: gid), size: stored,
                linkTarget: link)
        }
    }

    /// Copies the current entry's data to `out` (a descriptor), 64 KiB at a time.
    mutating func copyData(to out: Int32) throws(Failure) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while remaining > 0 {
            var chunk = Array(buffer.prefix(Int(min(UInt64(buffer.count), remaining))))
            let got = try readFully(&chunk)
            guard got == chunk.count else { throw Failure(description: "the archive ends inside a file") }
            var written = 0
            while written < got {
                let n = chunk.withUnsafeBytes { write(out, $0.baseAddress! + written, got - written) }
                guard n > 0 else { throw Failure(description: "cannot write: errno \(errno)") }
                written += n
            }
            remaining -= UInt64(got)
            buffer = chunk.count == buffer.count ? chunk : buffer
        }
    }

    private func readFully(_ buffer: inout [UInt8]) throws(Failure) -> Int {
        var total = 0
        let count = buffer.count
        while total < count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, count - total) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw Failure(description: "cannot read the archive: errno \(errno)") }
            if n == 0 { break }
            total += n
        }
        return total
    }

    private func skip(_ count: UInt64) throws(Failure) {
        guard count > 0 else { return }
        if lseek(fd, off_t(count), SEEK_CUR) >= 0 { return }
        var left = count
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while left > 0 {
            var chunk = Array(buffer.prefix(Int(min(UInt64(buffer.count), left))))
            let got = try readFully(&chunk)
            guard got > 0 else { throw Failure(description: "the archive ends early") }
            left -= UInt64(got)
            buffer = chunk.count == buffer.count ? chunk : buffer
        }
    }

    static func pad(_ size: UInt64) -> UInt64 { (512 - size % 512) % 512 }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field, or GNU's base-256 form (high bit set).
    static func number(_ bytes: ArraySlice<UInt8>, _ field: String) throws(Failure) -> UInt64 {
        if let first = bytes.first, first & 0x80 != 0 {
            var value: UInt64 = UInt64(first & 0x7f)
            for byte in bytes.dropFirst() {
                guard value >> 56 == 0 else { throw Failure(description: "\(field) overflows") }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = UInt64(text, radix: 8) else {
            throw Failure(description: "\(field) \"\(text)\" is not octal")
        }
        return value
    }

    static func checkChecksum(_ header: [UInt8]) throws(Failure) {
        let stored = try number(header[148..<156], "checksum")
        var sum: UInt64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : UInt64(byte) }
        guard sum == stored else {
            throw Failure(description: "a header's checksum is wrong (\(stored), computed \(sum))")
        }
    }

    /// "LEN key=value\n" records.
    static func paxRecords(_ data: [UInt8]) throws(Failure) -> [String: String] {
        var records: [String: String] = [:]
        var at = 0
        while at < data.count {
            guard let space = data[at...].firstIndex(of: 0x20),
                let length = Int(String(decoding: data[at..<space], as: UTF8.self)), length > 0,
                at + length <= data.count
            else { throw Failure(description: "a PAX header is malformed") }
            let record = data[(space + 1)..<(at + length - 1)]
            if let equals = record.firstIndex(of: UInt8(ascii: "=")) {
                records[String(decoding: record[..<equals], as: UTF8.self)] = String(
                    decoding: record[(equals + 1)...], as: UTF8.self)
            }
            at += length
        }
        return records
    }
}
