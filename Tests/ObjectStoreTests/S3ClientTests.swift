import AsyncHTTPClient
import Crypto
import Foundation
import JobstreamObjectStore
import Testing

/// The S3 client against a real S3-compatible server: SeaweedFS, started by `make test` with an
/// identity, so that it checks every request's signature (JOBSTREAM_TEST_S3_ENDPOINT, _ACCESS_KEY,
/// _SECRET_KEY). Without one configured the tests are skipped, saying so; under CI they fail instead.
enum S3TestServer {
    static let environment = ProcessInfo.processInfo.environment
    /// Whether to run: a server is configured, or this is CI (where a missing one fails the tests).
    static let shouldRun = environment["JOBSTREAM_TEST_S3_ENDPOINT"] != nil || environment["CI"] == "true"
}

@Suite(
    "S3 client against SeaweedFS",
    .enabled(if: S3TestServer.shouldRun, "no S3 server: `make test` starts SeaweedFS and sets JOBSTREAM_TEST_S3_ENDPOINT"))
struct S3ClientTests {
    static let environment = S3TestServer.environment

    static func client(secret: String? = nil) throws -> S3Client {
        let endpoint = try #require(
            environment["JOBSTREAM_TEST_S3_ENDPOINT"].flatMap(URL.init(string:)),
            "JOBSTREAM_TEST_S3_ENDPOINT is not set: `make test` starts SeaweedFS and sets it")
        return S3Client(
            endpoint: endpoint, region: "us-east-1",
            credentials: SigV4Signer.Credentials(
                accessKey: environment["JOBSTREAM_TEST_S3_ACCESS_KEY"] ?? "",
                secretKey: secret ?? environment["JOBSTREAM_TEST_S3_SECRET_KEY"] ?? ""),
            http: HTTPClient.shared)
    }

    /// One bucket for every run, each run's keys under a prefix of its own: SeaweedFS gives every
    /// bucket volumes of its own, and a server of the tests' size has room for a handful of buckets.
    static let bucket = "jobstream-test"
    static let run = "run-\(UUID().uuidString.prefix(8).lowercased())"

    @Test("put, get, a ranged get, size, list and delete of one object, under a key that needs encoding")
    func objects() async throws {
        let s3 = try Self.client()
        try await s3.createBucket(Self.bucket)
        try await s3.createBucket(Self.bucket)
        let key = "\(Self.run)/uploads/job 1/charges+ü.csv"
        let text = Array("Charge Id,Booking Date\nRPC-00000001,2025-01-15\n".utf8)
        try await s3.put(bucket: Self.bucket, key: key, bytes: text)
        #expect(try await s3.get(bucket: Self.bucket, key: key) == text)
        #expect(try await s3.get(bucket: Self.bucket, key: key, range: 0...8) == Array("Charge Id".utf8))
        #expect(try await s3.size(bucket: Self.bucket, key: key) == Int64(text.count))
        #expect(try await s3.list(bucket: Self.bucket, prefix: "\(Self.run)/uploads/job 1/") == [key])
        try await s3.delete(bucket: Self.bucket, key: key)
        #expect(try await s3.size(bucket: Self.bucket, key: key) == nil)
    }

    @Test("a file of several parts goes up as a multipart upload and comes down whole, streamed to a file")
    func multipart() async throws {
        var s3 = try Self.client()
        s3.partBytes = 5 << 20
        try await s3.createBucket(Self.bucket)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("s3-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("big.csv")
        let random = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        let bytes = [UInt8](try random.read(upToCount: 12 << 20) ?? Data())
        try random.close()
        try Data(bytes).write(to: source)
        try await s3.upload(file: source, bucket: Self.bucket, key: "\(Self.run)/results/big.csv")
        #expect(try await s3.size(bucket: Self.bucket, key: "\(Self.run)/results/big.csv") == Int64(bytes.count))
        let copy = folder.appendingPathComponent("copy.csv")
        try await s3.download(bucket: Self.bucket, key: "\(Self.run)/results/big.csv", to: copy)
        #expect(SHA256.hash(data: try Data(contentsOf: copy)) == SHA256.hash(data: Data(bytes)))
        let tail = try await s3.get(
            bucket: Self.bucket, key: "\(Self.run)/results/big.csv", range: Int64(bytes.count - 10)...Int64(bytes.count - 1))
        #expect(tail == Array(bytes.suffix(10)), "a range across the last part")
        try await s3.delete(bucket: Self.bucket, key: "\(Self.run)/results/big.csv")
    }

    @Test("a request signed with the wrong secret is refused: the server checks signatures")
    func wrongSecret() async throws {
        let s3 = try Self.client(secret: "not-the-secret-0123456789")
        await #expect {
            try await s3.put(bucket: Self.bucket, key: "x", bytes: [1])
        } throws: { error in
            guard let failure = error as? S3Client.Failure else { return false }
            return failure.status == 403 && failure.code == "SignatureDoesNotMatch"
        }
    }
}
