import Crypto
import Foundation
import JobstreamTestSupport
import Synchronization
import Testing
import ZIPFoundation

@testable import JobstreamBackfill
@testable import JobstreamFiles

@Suite("Uploaded files and the file store")
struct FileTests {
    @Test(
        "paths outside the file store are refused and never read",
        arguments: [
            "/etc/passwd", "../outside.csv", "uploads/../../outside.csv", "", "link/secret.csv",
        ])
    func refusesEscapes(path: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        _ = try folder.file("outside/secret.csv", "a,b\n")
        let store = FileStore(root: folder.url.appendingPathComponent("store").path)
        try FileManager.default.createDirectory(at: store.root, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: store.root.appendingPathComponent("link"),
            withDestinationURL: folder.url.appendingPathComponent("outside"))
        let problem = #expect(throws: FileProblem.self) { try store.resolve(path) }
        #expect(problem?.description.contains("refused, not read") == true)
    }

    @Test("a path inside the file store resolves")
    func resolvesInside() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = FileStore(root: folder.url.path)
        let file = try folder.file("uploads/job/f.csv", "a\n")
        #expect(try store.resolve("uploads/job/f.csv").path == file.standardizedFileURL.path)
    }

    @Test("MD5: the right checksum passes, any other fails saying both")
    func md5() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = try folder.file("f.csv", "Charge Id,Amount\nRPC-1,2\n")
        let sum = Insecure.MD5.hash(data: try Data(contentsOf: url)).map { String(format: "%02x", $0) }.joined()
        let file = UploadedFile(url: url, name: "f.csv")
        try file.verifyMD5(sum.uppercased())
        let problem = #expect(throws: FileProblem.self) { try file.verifyMD5(String(repeating: "0", count: 32)) }
        #expect(problem?.description.contains(sum) == true)
        #expect(throws: FileProblem.self) { try file.verifyMD5("not-a-sum") }
    }

    @Test("a zip holding one CSV is unpacked; none or several fail the file")
    func zips() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        func zip(_ name: String, entries: [String: String]) throws -> UploadedFile {
            let url = folder.url.appendingPathComponent(name)
            let archive = try Archive(url: url, accessMode: .create)
            for (path, text) in entries.sorted(by: { $0.key < $1.key }) {
                let data = Data(text.utf8)
                try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            return UploadedFile(url: url, name: name)
        }
        let one = try zip("one.zip", entries: ["data/charges.csv": "Charge Id,Amount\nRPC-1,2\n", "readme.txt": "hi"])
        let unpacked = try one.csv { folder.url.appendingPathComponent("unpacked.csv") }
        #expect(try String(contentsOf: unpacked, encoding: .utf8) == "Charge Id,Amount\nRPC-1,2\n")
        let none = try zip("none.zip", entries: ["readme.txt": "hi"])
        #expect(throws: FileProblem("the zip file none.zip holds no .csv file")) {
            try none.csv { folder.url.appendingPathComponent("u2.csv") }
        }
        let two = try zip("two.zip", entries: ["a.csv": "x\n", "b.csv": "y\n"])
        let problem = #expect(throws: FileProblem.self) { try two.csv { folder.url.appendingPathComponent("u3.csv") } }
        #expect(problem?.description.contains("holds 2 .csv files (\"a.csv\", \"b.csv\")") == true)
        let notZip = UploadedFile(url: try folder.file("fake.zip", "not a zip"), name: "fake.zip")
        #expect(throws: FileProblem("fake.zip is not a readable zip file: it has no end-of-central-directory record")) {
            try notZip.csv { folder.url.appendingPathComponent("u4.csv") }
        }
    }

    @Test(
        "whole-file defects fail the file with a reason",
        arguments: [
            ("empty.csv", "", "empty.csv is empty (0 bytes)"),
            ("header.csv", "Charge Id,Amount\r\n", "header.csv has a header but no rows"),
            (
                "quotes.csv", "Charge Id,Amount\nRPC-1,\"2\n",
                "quotes.csv is not a valid CSV file: line 2, field 2: a quoted field starting here is never closed (a missing \")"
            ),
            ("columns.csv", "Id,Amount\nRPC-1,2\n", nil),
        ])
    func fileDefects(name: String, text: String, expected: String?) async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = try folder.file(name, text)
        let problem = await #expect(throws: FileProblem.self) {
            _ = try await BackfillFileScan.validate(
                csvURL: url, fileName: name, action: .updateRatePlanCharge,
                refuse: { _ in }, isCanceled: { false })
        }
        if let expected { #expect(problem?.description == expected) }
    }

    @Test("a valid file's rows are walked in order with their verdicts; duplicates are refused on every row")
    func scan() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let url = try folder.file("f.csv", "Charge Id,Amount,Note\nRPC-1,1,a\nRPC-2,x,b\nRPC-1,3,c\nRPC-4,4,d\n")
        let refused = RefusedRows()
        let file = try await BackfillFileScan.validate(
            csvURL: url, fileName: "f.csv", action: .updateRatePlanCharge,
            refuse: { refused.add($0) }, isCanceled: { false })
        #expect(file.rowCount == 4)
        #expect(refused.rows.map(\.row).sorted() == [1, 2, 3])
        var verdicts: [Int: Bool] = [:]
        try await file.forEachRow { row, _, verdict in
            if case .success = verdict { verdicts[row] = true } else { verdicts[row] = false }
        }
        #expect(verdicts == [1: false, 2: false, 3: false, 4: true])
        // The records alone, as the result and preview files read them: every row, refused or not.
        var records: [(Int, [String])] = []
        try await file.forEachRecord { row, fields in records.append((row, fields)) }
        #expect(records.map(\.0) == [1, 2, 3, 4])
        #expect(records.map(\.1) == [["RPC-1", "1", "a"], ["RPC-2", "x", "b"], ["RPC-1", "3", "c"], ["RPC-4", "4", "d"]])
    }
}

/// Collects refused rows reported by a scan.
final class RefusedRows: Sendable {
    private let collected = Mutex<[(row: Int, error: String)]>([])
    var rows: [(row: Int, error: String)] { collected.withLock { $0 } }
    func add(_ batch: [(row: Int, error: String)]) { collected.withLock { $0 += batch } }
}
