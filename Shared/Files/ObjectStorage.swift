import Foundation
import NIOCore

/// Where the file store keeps its files when they are not in a shared folder: a bucket of an
/// S3-compatible object store under a prefix (`JobstreamObjectStore`'s `S3ObjectStorage`). Keys are
/// the store's relative paths (`uploads/<job>/<name>`); the storage adds its own prefix. Every
/// read and write streams, so memory holds one piece of a file whatever its size.
public protocol ObjectStorage: Sendable {
    /// Where it is, for messages and logs (`s3://bucket/prefix`), never with a secret.
    var location: String { get }

    /// The object's size, or nil when there is none.
    func size(of key: String) async throws -> Int64?

    /// Writes the object to `file` as it arrives; throws ``ObjectMissing`` when there is none.
    func download(_ key: String, to file: URL) async throws

    /// Hands the object to `each` piece by piece; throws ``ObjectMissing`` when there is none.
    func read(_ key: String, each: (ByteBuffer) async throws -> Void) async throws

    /// Stores `file` as the object (in parts, when it is large).
    func upload(_ file: URL, as key: String) async throws

    /// Removes the object; one that is not there is fine.
    func delete(_ key: String) async throws

    /// Objects whose keys start with `prefix` and sort after `after`, at most `limit`, in key order.
    func list(under prefix: String, after: String?, limit: Int) async throws -> [StoredObject]

    /// Checks that the bucket is there and these credentials may use it.
    func checkReachable() async throws
}

/// One object of an ``ObjectStorage``: its key (without the storage's prefix) and when it was written.
public struct StoredObject: Sendable, Equatable {
    public let key: String
    public let lastModified: Date

    public init(key: String, lastModified: Date) {
        self.key = key
        self.lastModified = lastModified
    }
}

/// The object a key names is not in the store.
public struct ObjectMissing: Error, CustomStringConvertible, Sendable {
    public let key: String

    public init(key: String) {
        self.key = key
    }

    public var description: String { "no object \(key) in the object store" }
}
