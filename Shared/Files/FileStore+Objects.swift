import Foundation
import JobstreamMessages
import NIOCore

/// The file store's operations that differ between a folder and an object store. With an object
/// store, files are written in the scratch folder and uploaded once whole, and read by streaming
/// them down; nothing in the bucket is ever a half-written file.
extension FileStore {
    /// The object key of a relative path a request names, checked as ``resolve(_:)`` checks a path
    /// (a key has no links to follow, but `.`, an empty part or a control character is refused too).
    func key(_ relativePath: String) throws(FileProblem) -> String {
        try checkSyntax(relativePath)
        let components = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0.isEmpty || $0 == "." }),
            !relativePath.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            throw FileProblem("the file path \(Quoted(relativePath)) is not a path inside the file store; refused, not read")
        }
        return relativePath
    }

    /// Opens the file a relative path names for a job to read. From an object store it is first
    /// downloaded into the job's working folder (streamed, whatever its size), opened, and its name
    /// removed at once: the open file lives as long as the ``CheckedFile``, and nothing is left behind.
    public func fetch(_ relativePath: String, forJob jobId: String) async throws -> CheckedFile {
        guard let objects else { return try open(relativePath) }
        let key = try key(relativePath)
        let local = try place(["work", jobId, "fetched-\(UUID().uuidString.prefix(8)).download"])
        defer { try? FileManager.default.removeItem(at: local.url) }
        try await missingAsProblem(relativePath) { try await objects.download(key, to: local.url) }
        return try open(local.relative)
    }

    /// The size of the file a relative path names, or nil when there is none.
    public func size(_ relativePath: String) async throws -> Int64? {
        guard let objects else {
            let url = try resolve(relativePath)
            guard FileManager.default.isReadableFile(atPath: url.path) else { return nil }
            return UploadedFile.size(of: url)
        }
        return try await objects.size(of: try key(relativePath))
    }

    /// Hands the file a relative path names to `each`, piece by piece.
    public func read(_ relativePath: String, each: (ByteBuffer) async throws -> Void) async throws {
        guard let objects else {
            let file = try open(relativePath)
            let handle = try withExtendedLifetime(file) { try FileHandle(forReadingFrom: file.readableURL) }
            defer { try? handle.close() }
            while let data = try handle.read(upToCount: 256 * 1024), !data.isEmpty {
                try await each(ByteBuffer(bytes: data))
            }
            return
        }
        try await missingAsProblem(relativePath) { try await objects.read(try key(relativePath), each: each) }
    }

    /// Copies the file a relative path names to `destination`, outside the store.
    public func copy(_ relativePath: String, to destination: URL) async throws {
        guard let objects else {
            let file = try open(relativePath)
            try? FileManager.default.removeItem(at: destination)
            return try withExtendedLifetime(file) { try FileManager.default.copyItem(at: file.readableURL, to: destination) }
        }
        try await missingAsProblem(relativePath) { try await objects.download(try key(relativePath), to: destination) }
    }

    /// Runs `body`, saying that the file is not in the store, as a folder store says it, when the
    /// object store has no such object.
    private func missingAsProblem(_ relativePath: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch is ObjectMissing {
            throw FileProblem("the file \(Quoted(relativePath)) is not in the file store")
        }
    }

    /// Stores an uploaded file under `uploads/<job>/<name>` and returns its reference.
    public func storeUpload(from source: URL, jobId: String) async throws -> FileReference {
        let name = source.lastPathComponent
        let destination = try place(["uploads", jobId, name])
        let size = UploadedFile.size(of: source)
        if let objects {
            try? FileManager.default.removeItem(at: destination.url)
            try await objects.upload(source, as: destination.relative)
        } else {
            try FileManager.default.copyItem(at: source, to: destination.url)
        }
        return FileReference(path: destination.relative, name: name, sizeBytes: size)
    }

    /// Makes a file written whole at `local` (in the folder, beside `placed`) the store's file
    /// `placed`: moved onto it in a folder store; uploaded as it to an object store, and removed.
    public func publish(_ local: URL, as placed: (relative: String, url: URL)) async throws {
        guard let objects else {
            if local != placed.url { try FileStore.moveReplacing(local, onto: placed.url) }
            return
        }
        defer { try? FileManager.default.removeItem(at: local) }
        try await objects.upload(local, as: placed.relative)
    }

    /// Removes the file a relative path names; one that is not there is fine.
    public func remove(_ relativePath: String) async throws {
        guard let objects else {
            let url = try resolve(relativePath)
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            return
        }
        try await objects.delete(try key(relativePath))
    }

    /// Readies a job's finished file, written at `partial`, to become `result` when the job ends
    /// (``KeptFile/takeWhileHeld()`` inside the transaction that ends it). In a folder it will be
    /// moved onto `result`. To an object store it is uploaded now, under a key of this run's own
    /// (`results/<job>/run-<epoch>/<name>`): the job's record then names that key, so a run that
    /// lost the job meanwhile overwrites nothing the new owner wrote.
    public func keep(_ partial: URL, as result: (relative: String, url: URL), run epoch: Int) async throws -> KeptFile {
        guard let objects else { return KeptFile(relative: result.relative, moving: (partial, result.url)) }
        let parts = result.relative.split(separator: "/").map(String.init)
        let key = (parts.dropLast() + ["run-\(epoch)", parts[parts.count - 1]]).joined(separator: "/")
        defer { try? FileManager.default.removeItem(at: partial) }
        try await objects.upload(partial, as: key)
        return KeptFile(relative: key, objects: objects)
    }

    /// In an object store: the uploads and results of jobs not in the log, last written before
    /// `cutoff` (a thousand objects of each folder at a time). The scratch folder is swept as a
    /// folder store is.
    func sweepObjects(before cutoff: Date, presence: (String) async throws -> JobPresence) async throws -> Int {
        guard let objects else { return 0 }
        var removed = 0
        var known: [String: JobPresence] = [:]
        for folder in ["uploads/", "results/"] {
            for object in try await objects.list(under: folder, after: nil, limit: 1000) where object.lastModified < cutoff {
                let parts = object.key.split(separator: "/")
                guard parts.count >= 3, JobIdRule.problem(String(parts[1])) == nil else { continue }
                let jobId = String(parts[1])
                if known[jobId] == nil { known[jobId] = try await presence(jobId) }
                guard known[jobId] == .unknown else { continue }
                try await objects.delete(object.key)
                removed += 1
            }
        }
        return removed
    }
}

/// A job's finished file, readied by ``FileStore/keep(_:as:run:)``: the path its record names, and
/// what ending the job does with it.
public struct KeptFile: Sendable {
    /// The path the job's record names (`resultPath`).
    public let relative: String
    let moving: (from: URL, to: URL)?
    let objects: (any ObjectStorage)?

    init(relative: String, moving: (from: URL, to: URL)? = nil, objects: (any ObjectStorage)? = nil) {
        self.relative = relative
        self.moving = moving
        self.objects = objects
    }

    /// Called inside the transaction that ends the job, once the claim is checked: moves the file
    /// into place in a folder store (in an object store it is there already).
    public func takeWhileHeld() throws {
        if let moving { try FileStore.moveReplacing(moving.from, onto: moving.to) }
    }

    /// Called when the job could not be ended by this run: removes what it uploaded.
    public func abandon() async {
        guard let objects else { return }
        try? await objects.delete(relative)
    }
}
