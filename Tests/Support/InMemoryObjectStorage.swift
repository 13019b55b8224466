import Foundation
import JobstreamFiles
import NIOCore
import Synchronization

/// An object store in memory, at the file store's seam, for tests of what the file store and a job
/// do with one (the S3 client itself is tested against SeaweedFS). `onUpload` runs after each upload.
public final class InMemoryObjectStorage: ObjectStorage {
    private let objects = Mutex<[String: (bytes: [UInt8], written: Date)]>([:])
    private let uploadHook = Mutex<(@Sendable (String) async throws -> Void)?>(nil)

    public init() {}

    public var location: String { "memory://test" }

    /// The keys stored, in order.
    public var keys: [String] { objects.withLock { $0.keys.sorted() } }

    public func bytes(_ key: String) -> [UInt8]? { objects.withLock { $0[key]?.bytes } }

    /// Stores `bytes` as written at `date` (for sweeps).
    public func put(_ key: String, _ bytes: [UInt8], written date: Date = Date()) {
        objects.withLock { $0[key] = (bytes, date) }
    }

    public func onUpload(_ hook: @escaping @Sendable (String) async throws -> Void) {
        uploadHook.withLock { $0 = hook }
    }

    public func size(of key: String) async throws -> Int64? { bytes(key).map { Int64($0.count) } }

    public func download(_ key: String, to file: URL) async throws {
        guard let bytes = bytes(key) else { throw ObjectMissing(key: key) }
        try Data(bytes).write(to: file)
    }

    public func read(_ key: String, each: (ByteBuffer) async throws -> Void) async throws {
        guard let bytes = bytes(key) else { throw ObjectMissing(key: key) }
        try await each(ByteBuffer(bytes: bytes))
    }

    public func upload(_ file: URL, as key: String) async throws {
        put(key, [UInt8](try Data(contentsOf: file)))
        if let hook = uploadHook.withLock({ $0 }) { try await hook(key) }
    }

    public func delete(_ key: String) async throws {
        _ = objects.withLock { $0.removeValue(forKey: key) }
    }

    public func list(under prefix: String, after: String?, limit: Int) async throws -> [StoredObject] {
        objects.withLock { stored in
            stored.filter { entry in entry.key.hasPrefix(prefix) && (after.map { entry.key > $0 } ?? true) }
                .map { StoredObject(key: $0.key, lastModified: $0.value.written) }
                .sorted { $0.key < $1.key }.prefix(limit).map { $0 }
        }
    }

    public func checkReachable() async throws {}
}
