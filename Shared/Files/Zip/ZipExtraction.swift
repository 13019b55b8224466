import CompressNIO
import Foundation
import JobstreamMessages
import NIOCore

/// Unpacks one entry of a zip archive to a file, in bounded steps: at most 64 KiB of packed data is
/// inflated at a time, and between steps the extraction checks its time limit and whether it should
/// stop (a cancel, a lost claim, a shutdown). The entry's declared size is checked against the limits
/// before anything is written, and the output may never pass it; at the end the size and the CRC-32
/// must be the declared ones. A deflate stream that ends early, never ends, or makes no progress
/// therefore fails within one step of its packed data running out.
struct ZipExtraction {
    let directory: ZipDirectory
    let entry: ZipEntry
    let name: String
    let limits: FileLimits

    /// Why the entry cannot be unpacked under the limits, or nil: checked before reading its data.
    func problem() -> String? {
        if entry.isEncrypted { return "the .csv file in \(name) is encrypted; upload it without a password" }
        guard entry.method == 0 || entry.method == 8 else {
            return "the .csv file in \(name) is compressed with method \(entry.method); only stored and deflate entries are read"
        }
        if entry.uncompressedSize > UInt64(limits.unpackedBytes) {
            return
                "the .csv file in \(name) unpacks to \(entry.uncompressedSize) bytes; at most \(limits.unpackedBytes) (--max-unpacked-bytes)"
        }
        // A small file may compress very well; the ratio counts beyond the first MiB.
        if entry.uncompressedSize > 1 << 20,
            entry.uncompressedSize / max(1, entry.compressedSize) > UInt64(limits.compressionRatio)
        {
            return "the .csv file in \(name) unpacks to \(entry.uncompressedSize) bytes from \(entry.compressedSize), "
                + "more than \(limits.compressionRatio) times its packed size (--max-zip-ratio)"
        }
        return nil
    }

    /// Writes the entry's data to `destination`. `shouldStop` is asked between steps; when it says
    /// yes the extraction ends with `CancellationError`.
    func unpack(to destination: URL, shouldStop: () -> Bool) throws {
        if let problem = problem() { throw FileProblem(problem) }
        let range: Range<UInt64>
        do {
            range = try directory.dataRange(of: entry)
        } catch let problem as ZipFormatProblem {
            throw FileProblem("\(name) is not a readable zip file: \(problem.reason)")
        }
        guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: destination.path])
        }
        let output = try FileHandle(forWritingTo: destination)
        defer { try? output.close() }
        let deadline = ContinuousClock.now + limits.unpackTime
        var sink = ZipSink(output: output, declaredSize: entry.uncompressedSize, name: name)
        var inflater = entry.method == 8 ? try ZipInflater() : nil
        var position = range.lowerBound
        while position < range.upperBound {
            if shouldStop() { throw CancellationError() }
            guard ContinuousClock.now < deadline else {
                throw FileProblem("unpacking the .csv file in \(name) took longer than \(limits.unpackTime) (--unpack-timeout)")
            }
            let step = Int(min(UInt64(ZipInflater.inputStep), range.upperBound - position))
            let packed = try directory.read(at: position, count: step)
            position += UInt64(step)
            if inflater != nil {
                let ended = try inflater!.inflate(packed, into: &sink, shouldStop: shouldStop)
                if ended {
                    inflater = nil
                    break
                }
            } else {
                try sink.write(packed)
            }
        }
        if inflater != nil, entry.method == 8, !sink.isComplete {
            throw FileProblem(
                "the .csv file in \(name) is damaged: its compressed data ends before the file does "
                    + "(\(sink.written) of \(entry.uncompressedSize) bytes unpacked)")
        }
        try sink.finish(expectedCRC: entry.crc32)
    }
}

/// Where unpacked bytes go: counted against the declared size, checksummed, written in pieces.
struct ZipSink {
    let output: FileHandle
    let declaredSize: UInt64
    let name: String
    private(set) var written: UInt64 = 0
    private var crc = CRC32()

    init(output: FileHandle, declaredSize: UInt64, name: String) {
        self.output = output
        self.declaredSize = declaredSize
        self.name = name
    }

    var isComplete: Bool { written == declaredSize }

    mutating func write(_ bytes: some Collection<UInt8>) throws {
        guard written + UInt64(bytes.count) <= declaredSize else {
            throw FileProblem("the .csv file in \(name) is damaged: it unpacks to more than its declared \(declaredSize) bytes")
        }
        crc.update(bytes)
        try output.write(contentsOf: Data(bytes))
        written += UInt64(bytes.count)
    }

    func finish(expectedCRC: UInt32) throws {
        guard written == declaredSize else {
            throw FileProblem(
                "the .csv file in \(name) is damaged: it unpacks to \(written) bytes, not its declared \(declaredSize)")
        }
        guard crc.value == expectedCRC else {
            throw FileProblem("the .csv file in \(name) is damaged: its checksum does not match")
        }
    }
}

/// Raw deflate (zip method 8) through zlib, one bounded call at a time (compress-nio's
/// `ZlibDecompressor`): each call consumes input, produces output, or ends the stream — a call that
/// does none of these is refused as a stream that makes no progress.
struct ZipInflater {
    static let inputStep = 64 << 10
    static let outputStep = 256 << 10

    private let decompressor: ZlibDecompressor
    private var output = ByteBufferAllocator().buffer(capacity: outputStep)

    init() throws {
        decompressor = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
    }

    /// Inflates `packed` into `sink`; returns true when the deflate stream ended.
    mutating func inflate(_ packed: [UInt8], into sink: inout ZipSink, shouldStop: () -> Bool) throws -> Bool {
        var input = ByteBuffer(bytes: packed)
        while input.readableBytes > 0 {
            if shouldStop() { throw CancellationError() }
            output.clear(minimumCapacity: Self.outputStep)
            let before = input.readableBytes
            var needsInput = false, outputFull = false
            do {
                try decompressor.inflate(from: &input, to: &output)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                outputFull = true
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                needsInput = true
            } catch {
                throw FileProblem("the .csv file in \(sink.name) is damaged: its deflate data is not valid (\(error))")
            }
            let produced = output.readableBytes
            if produced > 0 { try sink.write(output.readableBytesView) }
            let consumed = before - input.readableBytes
            if needsInput { return false }
            if outputFull { continue }
            // A call that returns normally with input left has reached the end of the stream.
            if input.readableBytes > 0 { return true }
            if consumed == 0 && produced == 0 {
                throw FileProblem("the .csv file in \(sink.name) is damaged: its deflate data makes no progress")
            }
        }
        return false
    }
}

/// The CRC-32 (IEEE 802.3, as zip uses it) of the bytes given so far.
struct CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    private var crc: UInt32 = 0xFFFF_FFFF

    mutating func update(_ bytes: some Collection<UInt8>) {
        let table = Self.table
        var crc = self.crc
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        self.crc = crc
    }

    var value: UInt32 { crc ^ 0xFFFF_FFFF }
}
