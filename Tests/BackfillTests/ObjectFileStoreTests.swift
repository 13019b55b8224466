import Foundation
import JobstreamMessages
import JobstreamTestSupport
import Testing

@testable import JobstreamFiles

/// The file store with its files in an object store (an in-memory one at the seam): what it reads,
/// writes and leaves behind in its scratch folder.
@Suite("The file store in an object store")
struct ObjectFileStoreTests {
    static func withStore(_ body: (FileStore, InMemoryObjectStorage, TemporaryFolder) async throws -> Void) async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let objects = InMemoryObjectStorage()
        try await body(FileStore(root: folder.url.path, objects: objects), objects, folder)
    }

    /// The regular files in the scratch folder.
    static func scratchFiles(_ folder: TemporaryFolder) -> [String] {
        let enumerator = FileManager.default.enumerator(at: folder.url, includingPropertiesForKeys: [.isRegularFileKey])
        return (enumerator?.allObjects as? [URL] ?? []).filter {
            (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
        }
        .map(\.lastPathComponent)
    }

    @Test("an upload goes to the object store, and a job reads it back without leaving a copy in the scratch folder")
    func uploadAndFetch() async throws {
        try await Self.withStore { files, objects, folder in
            let source = try TemporaryFolder()
            defer { source.remove() }
            let csv = Array("Charge Id,Booking Date\nRPC-00000001,2025-01-15\n".utf8)
            let reference = try await files.storeUpload(from: try source.file("charges.csv", csv), jobId: "job-1")
            #expect(reference.path == "uploads/job-1/charges.csv" && reference.sizeBytes == Int64(csv.count))
            #expect(objects.bytes("uploads/job-1/charges.csv") == csv)
            #expect(Self.scratchFiles(folder).isEmpty)

            let fetched = try await files.fetch(reference.path, forJob: "job-1")
            #expect(try Data(contentsOf: fetched.readableURL) == Data(csv), "the open file reads the object")
            #expect(Self.scratchFiles(folder).isEmpty, "the downloaded copy has no name once opened")
            #expect(try await files.size(reference.path) == Int64(csv.count))
            #expect(try await files.size("uploads/job-1/other.csv") == nil)
        }
    }

    @Test(
        "a path that is absolute, climbs out or has an empty, dot or control part is refused before the object store is asked",
        arguments: [
            "/etc/passwd", "../outside.csv", "uploads/../../x.csv", "uploads//x.csv", "uploads/./x.csv", "uploads/\u{1}.csv",
        ])
    func refusedKeys(path: String) async throws {
        try await Self.withStore { files, objects, _ in
            objects.put(path, [1])
            await #expect(throws: FileProblem.self) { _ = try await files.fetch(path, forJob: "job-1") }
            await #expect(throws: FileProblem.self) { _ = try await files.size(path) }
        }
    }

    @Test("a missing object is a file problem that names the path")
    func missing() async throws {
        try await Self.withStore { files, _, _ in
            await #expect {
                _ = try await files.fetch("uploads/job-1/none.csv", forJob: "job-1")
            } throws: { error in
                (error as? FileProblem)?.description == "the file \"uploads/job-1/none.csv\" is not in the file store"
            }
        }
    }

    @Test("a result is uploaded under its run's key; abandoning it removes that key only")
    func keptResult() async throws {
        try await Self.withStore { files, objects, folder in
            let result = try files.resultFile(jobId: "job-1", uploadedName: "charges.csv")
            objects.put("results/job-1/run-1/charges-result.csv", Array("new owner's".utf8))
            let partial = result.url.deletingLastPathComponent().appendingPathComponent(".partial")
            try Data("mine".utf8).write(to: partial)
            let kept = try await files.keep(partial, as: result, run: 2)
            #expect(kept.relative == "results/job-1/run-2/charges-result.csv")
            #expect(objects.bytes(kept.relative) == Array("mine".utf8))
            #expect(Self.scratchFiles(folder).isEmpty, "the written file is removed once uploaded")
            try kept.takeWhileHeld()
            await kept.abandon()
            #expect(objects.keys == ["results/job-1/run-1/charges-result.csv"], "another run's result is left alone")
        }
    }

    @Test("a folder store keeps a result by moving it into place inside the transaction")
    func keptInFolder() async throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let files = FileStore(root: folder.url.path)
        let result = try files.resultFile(jobId: "job-1", uploadedName: "charges.csv")
        let partial = result.url.deletingLastPathComponent().appendingPathComponent(".partial")
        try Data("mine".utf8).write(to: partial)
        let kept = try await files.keep(partial, as: result, run: 2)
        #expect(kept.relative == "results/job-1/charges-result.csv")
        #expect(!FileManager.default.fileExists(atPath: result.url.path), "nothing is in place before the job ends")
        try kept.takeWhileHeld()
        #expect(try Data(contentsOf: result.url) == Data("mine".utf8))
    }

    @Test("a sweep removes old uploads and results of jobs not in the log, and nothing of a job it knows or of a new one")
    func sweep() async throws {
        try await Self.withStore { files, objects, _ in
            let old = Date().addingTimeInterval(-7200)
            objects.put("uploads/gone-1/a.csv", [1], written: old)
            objects.put("results/gone-1/run-1/a-result.csv", [1], written: old)
            objects.put("uploads/running-1/a.csv", [1], written: old)
            objects.put("results/ended-1/run-1/a-result.csv", [1], written: old)
            objects.put("uploads/fresh-1/a.csv", [1])
            let removed = try await files.sweep(before: Date().addingTimeInterval(-3600)) { id in
                id.hasPrefix("running") ? .running : id.hasPrefix("ended") ? .ended : .unknown
            }
            #expect(removed == 2)
            #expect(
                objects.keys == ["results/ended-1/run-1/a-result.csv", "uploads/fresh-1/a.csv", "uploads/running-1/a.csv"])
        }
    }

    @Test("publishing a file written in the scratch folder uploads it and removes it there")
    func publish() async throws {
        try await Self.withStore { files, objects, folder in
            let place = try files.place(["uploads", "job-2", "retry.csv"])
            try Data("x".utf8).write(to: place.url)
            try await files.publish(place.url, as: place)
            #expect(objects.bytes("uploads/job-2/retry.csv") == Array("x".utf8))
            #expect(Self.scratchFiles(folder).isEmpty)
            var read: [UInt8] = []
            try await files.read("uploads/job-2/retry.csv") { read += Array(buffer: $0) }
            #expect(read == Array("x".utf8))
            try await files.remove("uploads/job-2/retry.csv")
            #expect(objects.keys.isEmpty)
        }
    }
}
