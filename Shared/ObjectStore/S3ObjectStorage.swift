import AsyncHTTPClient
import Foundation
import JobstreamFiles
import NIOCore

/// The file store's files in a bucket of an S3-compatible object store, under a prefix: what
/// `--file-store s3://bucket/prefix` means.
public struct S3ObjectStorage: ObjectStorage {
    public let client: S3Client
    public let address: S3Address

    public init(client: S3Client, address: S3Address) {
        self.client = client
        self.address = address
    }

    public var location: String { address.description }

    private func full(_ key: String) -> String { address.prefix.isEmpty ? key : "\(address.prefix)/\(key)" }

    public func size(of key: String) async throws -> Int64? {
        try await client.size(bucket: address.bucket, key: full(key))
    }

    public func download(_ key: String, to file: URL) async throws {
        try await missingAsObjectMissing(key) { try await client.download(bucket: address.bucket, key: full(key), to: file) }
    }

    public func read(_ key: String, each: (ByteBuffer) async throws -> Void) async throws {
        try await missingAsObjectMissing(key) { try await client.read(bucket: address.bucket, key: full(key), each: each) }
    }

    /// Runs `body`, turning a 404 for the key (not for a missing bucket) into ``ObjectMissing``.
    private func missingAsObjectMissing(_ key: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as S3Client.Failure where failure.status == 404 && failure.code != "NoSuchBucket" {
            throw ObjectMissing(key: key)
        }
    }

    public func upload(_ file: URL, as key: String) async throws {
        try await client.upload(file: file, bucket: address.bucket, key: full(key))
    }

    public func delete(_ key: String) async throws {
        try await client.delete(bucket: address.bucket, key: full(key))
    }

    public func list(under prefix: String, after: String?, limit: Int) async throws -> [StoredObject] {
        let start = address.prefix.isEmpty ? "" : address.prefix + "/"
        return try await client.listObjects(
            bucket: address.bucket, prefix: start + prefix, after: after.map { start + $0 }, limit: limit
        )
        .map { StoredObject(key: String($0.key.dropFirst(start.count)), lastModified: $0.lastModified) }
    }

    public func checkReachable() async throws {
        try await client.checkBucket(address.bucket)
    }

    /// Makes the bucket, when these credentials may (one that exists and is ours already is fine).
    public func createBucket() async throws {
        try await client.createBucket(address.bucket)
    }
}

/// A bucket and a prefix, parsed from `s3://bucket/prefix` (the prefix may be empty). Bucket names
/// follow S3's rules (3 to 63 lowercase letters, digits, dots and hyphens); the prefix is plain path
/// parts, no `.`, `..` or empty part.
public struct S3Address: Sendable, Equatable, CustomStringConvertible {
    public let bucket: String
    public let prefix: String

    public static func isS3(_ text: String) -> Bool { text.hasPrefix("s3://") }

    public init(parsing text: String) throws {
        guard Self.isS3(text) else { throw S3AddressProblem("\(text.prefix(80)) does not start with s3://") }
        let rest = text.dropFirst("s3://".count)
        let parts = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let bucket = String(parts[0])
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        guard (3...63).contains(bucket.count), bucket.allSatisfy(allowed.contains),
            let first = bucket.first, first.isLetter || first.isNumber, let last = bucket.last, last.isLetter || last.isNumber
        else {
            throw S3AddressProblem(
                "\"\(bucket.prefix(80))\" is not a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens")
        }
        var prefix = parts.count > 1 ? String(parts[1]) : ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        let pieces = prefix.split(separator: "/", omittingEmptySubsequences: false)
        guard prefix.isEmpty || !pieces.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }),
            prefix.utf8.count <= 512, !prefix.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw S3AddressProblem("\"\(prefix.prefix(80))\" is not a prefix of plain path parts")
        }
        self.bucket = bucket
        self.prefix = prefix
    }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }
}

/// An `s3://` address that cannot be used, and why.
public struct S3AddressProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
