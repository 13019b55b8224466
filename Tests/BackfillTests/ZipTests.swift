import Foundation
import JobstreamTestSupport
import Synchronization
import Testing
import ZIPFoundation

@testable import JobstreamBackfill
@testable import JobstreamFiles

/// The zip reader against archives ZIPFoundation writes, and hostile ones written by hand.
@Suite("Zips: read in bounded steps")
struct ZipTests {
    let folder: TemporaryFolder

    init() throws {
        folder = try TemporaryFolder()
    }

    func zip(_ name: String, _ text: String, compression: CompressionMethod = .deflate) throws -> UploadedFile {
        let url = folder.url.appendingPathComponent(name)
        let archive = try Archive(url: url, accessMode: .create)
        let data = Data(text.utf8)
        try archive.addEntry(
            with: "charges.csv", type: .file, uncompressedSize: Int64(data.count),
            compressionMethod: compression
        ) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
        return UploadedFile(url: url, name: name)
    }

    /// A zip of one deflate entry whose data is `deflate` and whose directory declares `size` and `crc`.
    func handMade(_ name: String, deflate: [UInt8], declaredSize: UInt32, crc: UInt32 = 0) throws -> UploadedFile {
        func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF)] }
        func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
        let path = Array("charges.csv".utf8)
        let local =
            le32(0x0403_4b50) + le16(20) + le16(0) + le16(8) + le16(0) + le16(0) + le32(crc)
            + le32(UInt32(deflate.count)) + le32(declaredSize) + le16(path.count) + le16(0) + path
        let central =
            le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(8) + le16(0) + le16(0) + le32(crc)
            + le32(UInt32(deflate.count)) + le32(declaredSize) + le16(path.count) + le16(0) + le16(0) + le16(0)
            + le16(0) + le32(0) + le32(0) + path
        let end =
            le32(0x0605_4b50) + le16(0) + le16(0) + le16(1) + le16(1) + le32(UInt32(central.count))
            + le32(UInt32(local.count + deflate.count)) + le16(0)
        return UploadedFile(url: try folder.file(name, local + deflate + central + end), name: name)
    }

    func unpack(
        _ file: UploadedFile, limits: FileLimits = .standard, shouldStop: @escaping () -> Bool = { false }
    ) throws -> String {
        let target = folder.url.appendingPathComponent("unpacked-\(UUID().uuidString).csv")
        return try String(contentsOf: file.csv(limits: limits, unpackingTo: { target }, shouldStop: shouldStop), encoding: .utf8)
    }

    @Test("deflated and stored entries of every size unpack to what was packed", arguments: [0, 1, 1000, 300_000, 2_000_000])
    func roundTrip(rows: Int) throws {
        defer { folder.remove() }
        let text = "Charge Id,Amount\n" + (0..<rows).map { "RPC-\($0),\($0 % 997).25\n" }.joined()
        #expect(try unpack(try zip("deflated.zip", text)) == text)
        #expect(try unpack(try zip("stored.zip", text, compression: .none)) == text)
    }

    @Test("a deflate stream that never ends fails at once, saying its data ends early")
    func neverEnding() throws {
        defer { folder.remove() }
        let file = try handMade("endless.zip", deflate: [0x00], declaredSize: 100)
        let problem = #expect(throws: FileProblem.self) { try unpack(file) }
        #expect(
            problem?.description
                == "the .csv file in endless.zip is damaged: its compressed data ends before the file does (0 of 100 bytes unpacked)"
        )
    }

    @Test("data that is not deflate, or unpacks to more or less than declared, or to another checksum, fails")
    func damaged() throws {
        defer { folder.remove() }
        let garbage = try handMade("garbage.zip", deflate: [0xFF, 0xFF, 0xFF, 0xFF], declaredSize: 10)
        #expect((#expect(throws: FileProblem.self) { try unpack(garbage) })?.description.contains("damaged") == true)
        // "hi\n" as one final stored block, declared 2 bytes: it unpacks to more.
        let stored: [UInt8] = [0x01, 0x03, 0x00, 0xFC, 0xFF] + Array("hi\n".utf8)
        let longer = try handMade("longer.zip", deflate: stored, declaredSize: 2)
        #expect(
            (#expect(throws: FileProblem.self) { try unpack(longer) })?.description.contains("more than its declared 2 bytes")
                == true)
        let shorter = try handMade("shorter.zip", deflate: stored, declaredSize: 5)
        #expect((#expect(throws: FileProblem.self) { try unpack(shorter) })?.description.contains("3 of 5 bytes") == true)
        let checksum = try handMade("checksum.zip", deflate: stored, declaredSize: 3, crc: 12345)
        #expect(
            (#expect(throws: FileProblem.self) { try unpack(checksum) })?.description.contains("checksum does not match") == true)
        let right = try handMade("right.zip", deflate: stored, declaredSize: 3, crc: 0xed6f_7a7a)
        #expect(try unpack(right) == "hi\n")
    }

    @Test("a zip past its limits is refused before anything is unpacked")
    func limits() throws {
        defer { folder.remove() }
        let bomb = try zip("bomb.zip", "Charge Id,Amount\n" + String(repeating: "RPC-1,1\n", count: 500_000))
        let ratio = #expect(throws: FileProblem.self) { try unpack(bomb) }
        #expect(ratio?.description.contains("more than 200 times its packed size (--max-zip-ratio)") == true)
        var small = FileLimits.standard
        small.unpackedBytes = 1000
        small.compressionRatio = 1_000_000
        let size = #expect(throws: FileProblem.self) { try unpack(bomb, limits: small) }
        #expect(size?.description.contains("at most 1000 (--max-unpacked-bytes)") == true)
        small.fileBytes = 10
        let file = #expect(throws: FileProblem.self) { try unpack(bomb, limits: small) }
        #expect(file?.description.contains("at most 10 (--max-file-bytes)") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).allSatisfy { !$0.hasPrefix("unpacked") })
    }

    @Test("unpacking stops when asked between steps, leaving no partial file")
    func stops() throws {
        defer { folder.remove() }
        let text = "Charge Id,Amount\n" + (0..<200_000).map { "RPC-\($0),\($0 % 997).25\n" }.joined()
        let file = try zip("big.zip", text)
        let asked = Mutex(0)
        #expect(throws: CancellationError.self) {
            try unpack(file) {
                asked.withLock {
                    $0 += 1
                    return $0 > 3
                }
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).allSatisfy { !$0.contains("partial") })
    }
}
