import Foundation
import JobstreamTestSupport
import Testing

@testable import JobstreamBackfill
@testable import JobstreamCSV
@testable import JobstreamFiles

@Suite("CSV limits and the file store's paths")
struct CSVLimitTests {
    let limits = CSVReader.Limits(fieldBytes: 10, fieldsPerRecord: 3, recordBytes: 20)

    func read(_ text: String, bufferSize: Int) throws -> [[String]] {
        let reader = CSVReader(bytes: Array(text.utf8), bufferSize: bufferSize, limits: limits)
        var records: [[String]] = []
        while let record = try reader.next() { records.append(record.fields) }
        return records
    }

    @Test(
        "a field, a record and a number of fields past their limits are refused on the same byte whatever the buffer",
        arguments: [1, 2, 7, 4096])
    func limitsHold(bufferSize: Int) throws {
        #expect(try read("a,b,c\n0123456789,x\n", bufferSize: bufferSize) == [["a", "b", "c"], ["0123456789", "x"]])
        let field = #expect(throws: CSVFormatError.self) { try read("a\n01234567890\n", bufferSize: bufferSize) }
        #expect(field == CSVFormatError(line: 2, field: 1, reason: "the field is longer than 10 bytes; at most 10 are read"))
        let quoted = #expect(throws: CSVFormatError.self) {
            try read("a\n\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\n", bufferSize: bufferSize)
        }
        #expect(quoted?.reason.contains("longer than 10 bytes") == true, "doubled quotes count too")
        let fields = #expect(throws: CSVFormatError.self) { try read("a,b,c,d\n", bufferSize: bufferSize) }
        #expect(fields == CSVFormatError(line: 1, field: nil, reason: "the record has more than 3 fields; at most 3 are read"))
        let record = #expect(throws: CSVFormatError.self) { try read("0123456789,0123456789\n", bufferSize: bufferSize) }
        #expect(record?.reason.hasPrefix("the record is longer than 20 bytes") == true)
    }

    @Test("a header without the key column names at most 12 of its columns, each cut")
    func shortHeaderMessage() throws {
        let header = (0..<40).map { "column-\($0)-" + String(repeating: "w", count: 100) }
        let problem = #expect(throws: FileProblem.self) { try RowValidator(action: .updateRatePlanCharge, header: header) }
        let text = try #require(problem?.description)
        #expect(text.contains("and 28 more") && text.utf8.count < 1500, "\(text.utf8.count) bytes")
    }

    @Test("the file store places files only under plain names, inside itself", arguments: ["..", ".", "a/b", "", "x\u{1}"])
    func placeRefuses(component: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = FileStore(root: folder.url.path)
        #expect(throws: FileProblem.self) { try store.place(["work", component, "f.csv"]) }
        #expect(throws: FileProblem.self) { try store.workFile(jobId: component, name: "unpacked.csv") }
    }

    @Test("a folder of the store that is a link out is refused")
    func linkedFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = FileStore(root: folder.url.appendingPathComponent("store").path)
        try FileManager.default.createDirectory(at: store.root.appendingPathComponent("work"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: folder.url.appendingPathComponent("outside"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            at: store.root.appendingPathComponent("work/job-1"),
            withDestinationURL: folder.url.appendingPathComponent("outside"))
        let problem = #expect(throws: FileProblem.self) { try store.workFile(jobId: "job-1", name: "unpacked.csv") }
        #expect(problem?.description.contains("leads outside the file store") == true)
    }

    @Test("an opened upload is read through its descriptor; the sweep removes only what nothing needs")
    func openedAndSwept() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let store = FileStore(root: folder.url.path)
        for path in [
            "uploads/orphan/a.csv", "uploads/running/b.csv", "work/ended/unpacked.csv", "work/running/unpacked.csv",
            "results/ended/.x.partial", "results/ended/x-result.csv",
        ] {
            _ = try folder.file(path, "a,b\n")
        }
        let opened = try store.open("uploads/running/b.csv")
        #expect(try String(contentsOf: opened.readableURL, encoding: .utf8) == "a,b\n")
        #expect(opened.readableURL.path.hasPrefix("/proc/self/fd/"))
        #expect(UploadedFile.size(of: opened.readableURL) == 4, "the size of the file, not of the descriptor's link")
        let removed = try await store.sweep(before: Date().addingTimeInterval(60)) { id in
            id == "running" ? .running : id == "ended" ? .ended : .unknown
        }
        #expect(removed == 3)
        let left = try FileManager.default.subpathsOfDirectory(atPath: folder.url.path).filter {
            $0.hasSuffix(".csv") || $0.hasSuffix(".partial")
        }
        #expect(Set(left) == ["uploads/running/b.csv", "work/running/unpacked.csv", "results/ended/x-result.csv"])
    }
}
