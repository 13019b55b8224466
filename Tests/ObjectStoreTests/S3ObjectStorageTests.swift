import AsyncHTTPClient
import Foundation
import JobstreamFiles
import JobstreamObjectStore
import JobstreamTestSupport
import Testing

@Suite("s3:// addresses")
struct S3AddressTests {
    @Test("a bucket and a prefix, trailing slashes dropped")
    func parsed() throws {
        #expect(
            try S3Address(parsing: "s3://jobstream-files/prod/backfills/")
                == S3Address(parsing: "s3://jobstream-files/prod/backfills"))
        let address = try S3Address(parsing: "s3://jobstream-files/prod/backfills/")
        #expect(address.bucket == "jobstream-files" && address.prefix == "prod/backfills")
        #expect(try S3Address(parsing: "s3://my.bucket").prefix == "")
        #expect(try S3Address(parsing: "s3://my.bucket").description == "s3://my.bucket")
    }

    @Test(
        "what is not a bucket name or a prefix of plain parts is refused",
        arguments: [
            "s3://", "s3://ab", "s3://Upper", "s3://under_score", "s3://-dash", "s3://b" + String(repeating: "x", count: 63),
            "s3://bucket/a/../b", "s3://bucket/a//b", "s3://bucket/./a", "s3://bucket/a\u{7}", "/var/files",
        ])
    func refused(text: String) {
        #expect(throws: (any Error).self) { try S3Address(parsing: text) }
    }
}

@Suite(
    "The file store's object storage on SeaweedFS",
    .enabled(if: S3TestServer.shouldRun, "no S3 server: `make test` starts SeaweedFS and sets JOBSTREAM_TEST_S3_ENDPOINT"))
struct S3ObjectStorageTests {
    static let bucket = S3ClientTests.bucket

    static func storage(prefix: String) async throws -> S3ObjectStorage {
        let client = try S3ClientTests.client()
        try await client.createBucket(bucket)
        return S3ObjectStorage(client: client, address: try S3Address(parsing: "s3://\(bucket)/\(S3ClientTests.run)/\(prefix)"))
    }

    @Test("keys live under the prefix; listing gives them back without it, in order, after a key, with when each was written")
    func prefixAndListing() async throws {
        let storage = try await Self.storage(prefix: "team a/prod")
        let other = try await Self.storage(prefix: "team b")
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let file = try folder.file("a.csv", Array("x\n".utf8))
        let before = Date().addingTimeInterval(-120)
        for key in ["uploads/j1/a.csv", "uploads/j2/a.csv", "results/j1/run-1/a-result.csv"] {
            try await storage.upload(file, as: key)
        }
        try await other.upload(file, as: "uploads/j9/a.csv")
        let listed = try await storage.list(under: "uploads/", after: nil, limit: 10)
        #expect(listed.map(\.key) == ["uploads/j1/a.csv", "uploads/j2/a.csv"], "only this prefix, without it")
        #expect(listed.allSatisfy { $0.lastModified > before && $0.lastModified < Date().addingTimeInterval(120) })
        #expect(
            try await storage.list(under: "uploads/", after: "uploads/j1/a.csv", limit: 10).map(\.key) == ["uploads/j2/a.csv"])
        #expect(try await storage.list(under: "", after: nil, limit: 1).count == 1)
        #expect(try await storage.client.size(bucket: Self.bucket, key: "\(S3ClientTests.run)/team a/prod/uploads/j1/a.csv") == 2)
    }

    @Test("a missing object is ObjectMissing; a missing bucket is not, and fails the readiness check")
    func missing() async throws {
        let storage = try await Self.storage(prefix: "p")
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        await #expect(throws: ObjectMissing.self) {
            try await storage.download("uploads/none.csv", to: folder.url.appendingPathComponent("none"))
        }
        await #expect(throws: ObjectMissing.self) { try await storage.read("uploads/none.csv") { _ in } }
        try await storage.checkReachable()
        let nowhere = S3ObjectStorage(
            client: try S3ClientTests.client(),
            address: try S3Address(parsing: "s3://jobstream-no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())"))
        await #expect {
            try await nowhere.checkReachable()
        } throws: { error in
            (error as? S3Client.Failure)?.code == "NoSuchBucket"
        }
        await #expect {
            try await nowhere.read("uploads/a.csv") { _ in }
        } throws: { error in
            !(error is ObjectMissing)
        }
    }
}
