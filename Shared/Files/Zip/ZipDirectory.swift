import Foundation
import JobstreamMessages

/// One file of a zip archive, as its central directory describes it.
struct ZipEntry: Sendable, Hashable {
    var path: String
    /// 0: stored; 8: deflate.
    var method: UInt16
    var flags: UInt16
    var crc32: UInt32
    var compressedSize: UInt64
    var uncompressedSize: UInt64
    var localHeaderOffset: UInt64

    var isDirectory: Bool { path.hasSuffix("/") }
    var isEncrypted: Bool { flags & 1 != 0 }
}

/// Reads a zip archive's central directory (ZIP64 included): the list of its entries, and where an
/// entry's data begins. Every size and offset read from the file is checked against the file's own
/// size before it is used, and the directory's size is bounded, so a hostile archive can make this
/// neither read outside the file nor hold much in memory.
///
/// Written here rather than using ZIPFoundation for reading: its inflate loop never ends on a deflate
/// stream that stops early (it spins at full speed and ignores cancellation), and it offers no way to
/// read an entry's raw data to inflate it in bounded steps ourselves (``ZipInflater``).
struct ZipDirectory {
    /// The most bytes of central directory read: far more than a zip holding one CSV needs.
    static let maxDirectoryBytes = 4 << 20

    let entries: [ZipEntry]
    private let file: ZipFileReader

    init(file url: URL, name: String) throws(FileProblem) {
        do {
            file = try ZipFileReader(url: url)
        } catch {
            throw FileProblem("\(name) cannot be read: \(error.localizedDescription)")
        }
        do {
            entries = try Self.readEntries(file)
        } catch let problem as ZipFormatProblem {
            throw FileProblem("\(name) is not a readable zip file: \(problem.reason)")
        } catch {
            throw FileProblem("\(name) cannot be read: \(error.localizedDescription)")
        }
    }

    /// Where `entry`'s data begins (after its local header), checked to lie inside the file.
    func dataRange(of entry: ZipEntry) throws -> Range<UInt64> {
        let header = try file.read(at: entry.localHeaderOffset, count: 30)
        guard header.uint32(at: 0) == 0x0403_4b50 else { throw ZipFormatProblem("an entry's local header is missing") }
        let start = entry.localHeaderOffset + 30 + UInt64(header.uint16(at: 26)) + UInt64(header.uint16(at: 28))
        let (end, overflow) = start.addingReportingOverflow(entry.compressedSize)
        guard !overflow, end <= file.size else { throw ZipFormatProblem("an entry's data runs past the end of the file") }
        return start..<end
    }

    /// Reads `count` bytes at `offset` of the archive.
    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        try file.read(at: offset, count: count)
    }

    private static func readEntries(_ file: ZipFileReader) throws -> [ZipEntry] {
        // The end-of-central-directory record: in the last 22 bytes plus a comment of up to 64 KiB.
        let tailLength = Int(min(file.size, 22 + 65_535))
        let tail = try file.read(at: file.size - UInt64(tailLength), count: tailLength)
        guard tailLength >= 22,
            let end = stride(from: tailLength - 22, through: 0, by: -1).first(where: { tail.uint32(at: $0) == 0x0605_4b50 })
        else {
            throw ZipFormatProblem("it has no end-of-central-directory record")
        }
        let endOffset = file.size - UInt64(tailLength) + UInt64(end)
        var count = UInt64(tail.uint16(at: end + 10))
        var directorySize = UInt64(tail.uint32(at: end + 12))
        var directoryOffset = UInt64(tail.uint32(at: end + 16))
        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // ZIP64: a locator just before the record points at the ZIP64 end record.
            guard endOffset >= 20 else { throw ZipFormatProblem("its ZIP64 locator is missing") }
            let locator = try file.read(at: endOffset - 20, count: 20)
            guard locator.uint32(at: 0) == 0x0706_4b50 else { throw ZipFormatProblem("its ZIP64 locator is missing") }
            let record = try file.read(at: locator.uint64(at: 8), count: 56)
            guard record.uint32(at: 0) == 0x0606_4b50 else { throw ZipFormatProblem("its ZIP64 end record is missing") }
            count = record.uint64(at: 32)
            directorySize = record.uint64(at: 40)
            directoryOffset = record.uint64(at: 48)
        }
        guard directorySize <= UInt64(maxDirectoryBytes) else {
            throw ZipFormatProblem("its directory is \(directorySize) bytes; at most \(maxDirectoryBytes) are read")
        }
        let (directoryEnd, overflow) = directoryOffset.addingReportingOverflow(directorySize)
        guard !overflow, directoryEnd <= file.size else { throw ZipFormatProblem("its directory lies outside the file") }
        let directory = try file.read(at: directoryOffset, count: Int(directorySize))
        var entries: [ZipEntry] = []
        var position = 0
        // 46 bytes is the smallest directory entry: the count is bounded by the directory's size.
        while entries.count < min(count, UInt64(directory.count / 46)) {
            guard position + 46 <= directory.count, directory.uint32(at: position) == 0x0201_4b50 else {
                throw ZipFormatProblem("its directory is damaged")
            }
            let nameLength = Int(directory.uint16(at: position + 28))
            let extraLength = Int(directory.uint16(at: position + 30))
            let commentLength = Int(directory.uint16(at: position + 32))
            let next = position + 46 + nameLength + extraLength + commentLength
            guard next <= directory.count else { throw ZipFormatProblem("its directory is damaged") }
            let nameBytes = directory[(position + 46)..<(position + 46 + nameLength)]
            var entry = ZipEntry(
                path: String(decoding: nameBytes, as: UTF8.self),
                method: directory.uint16(at: position + 10), flags: directory.uint16(at: position + 8),
                crc32: directory.uint32(at: position + 16), compressedSize: UInt64(directory.uint32(at: position + 20)),
                uncompressedSize: UInt64(directory.uint32(at: position + 24)),
                localHeaderOffset: UInt64(directory.uint32(at: position + 42)))
            try readZip64Extra(
                Array(directory[(position + 46 + nameLength)..<(position + 46 + nameLength + extraLength)]),
                into: &entry)
            entries.append(entry)
            position = next
        }
        return entries
    }

    /// The ZIP64 extra field holds, in this order, those of the sizes and the offset whose 32-bit
    /// fields are all ones.
    private static func readZip64Extra(_ extra: [UInt8], into entry: inout ZipEntry) throws {
        var position = 0
        while position + 4 <= extra.count {
            let id = extra.uint16(at: position)
            let length = Int(extra.uint16(at: position + 2))
            guard position + 4 + length <= extra.count else { throw ZipFormatProblem("an entry's extra field is damaged") }
            if id == 0x0001 {
                var field = position + 4
                func next() throws -> UInt64 {
                    guard field + 8 <= position + 4 + length else {
                        throw ZipFormatProblem("an entry's ZIP64 field is too short")
                    }
                    defer { field += 8 }
                    return extra.uint64(at: field)
                }
                if entry.uncompressedSize == 0xFFFF_FFFF { entry.uncompressedSize = try next() }
                if entry.compressedSize == 0xFFFF_FFFF { entry.compressedSize = try next() }
                if entry.localHeaderOffset == 0xFFFF_FFFF { entry.localHeaderOffset = try next() }
            }
            position += 4 + length
        }
    }
}

/// Why an archive could not be read, in words.
struct ZipFormatProblem: Error {
    let reason: String

    init(_ reason: String) {
        self.reason = reason
    }
}

/// Reads pieces of a file at given offsets, refusing any outside it.
final class ZipFileReader {
    private let handle: FileHandle
    let size: UInt64

    init(url: URL) throws {
        handle = try FileHandle(forReadingFrom: url)
        size = try handle.seekToEnd()
    }

    deinit {
        try? handle.close()
    }

    func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= size else { throw ZipFormatProblem("a record lies outside the file") }
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: count) ?? Data()
        guard data.count == count else { throw ZipFormatProblem("the file ended early") }
        return [UInt8](data)
    }
}

extension [UInt8] {
    /// Little-endian integers at `offset`, as the zip format writes them.
    func uint16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    func uint32(at offset: Int) -> UInt32 {
        UInt32(uint16(at: offset)) | UInt32(uint16(at: offset + 2)) << 16
    }

    func uint64(at offset: Int) -> UInt64 {
        UInt64(uint32(at: offset)) | UInt64(uint32(at: offset + 4)) << 32
    }
}
