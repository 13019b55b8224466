import Foundation
import JobstreamMessages

/// The folder where uploaded files and result files live, shared by the CLI and the services (a
/// project-local folder by default; a shared volume when services run on several machines).
///
/// Requests refer to files by a path relative to this folder. A path that is absolute, climbs out
/// with `..`, or leads outside through a symbolic link is refused and never read: a request on a
/// topic can come from anyone who may publish to it.
public struct FileStore: Sendable {
    public let root: URL

    /// The folder used when nothing else is given.
    public static let defaultRoot = ".local/files"

    public init(root: String) {
        self.root = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
    }

    /// `$JOBSTREAM_FILE_STORE` if set, else the default folder.
    public static var fromEnvironment: FileStore {
        FileStore(root: ProcessInfo.processInfo.environment["JOBSTREAM_FILE_STORE"] ?? defaultRoot)
    }

    /// The file a relative path names, checked to be inside the store.
    public func resolve(_ relativePath: String) throws(FileProblem) -> URL {
        guard !relativePath.isEmpty, !relativePath.hasPrefix("/"), !relativePath.contains("\0") else {
            throw FileProblem("the file path \"\(relativePath)\" is not a path inside the file store; refused, not read")
        }
        let components = relativePath.split(separator: "/")
        guard !components.contains("..") else {
            throw FileProblem("the file path \"\(relativePath)\" leaves the file store; refused, not read")
        }
        let url = root.appendingPathComponent(relativePath).standardizedFileURL
        let realRoot = root.resolvingSymlinksInPath().path
        let realFile = url.resolvingSymlinksInPath().path
        guard realFile.hasPrefix(realRoot + "/") else {
            throw FileProblem("the file path \"\(relativePath)\" leads outside the file store; refused, not read")
        }
        return url
    }

    /// Copies an uploaded file into the store under `uploads/<job>/<name>` and returns its reference.
    public func storeUpload(from source: URL, jobId: String) throws -> FileReference {
        let name = source.lastPathComponent
        let destination = try place("uploads/\(jobId)/\(name)")
        try FileManager.default.copyItem(at: source, to: destination.url)
        let size = (try FileManager.default.attributesOfItem(atPath: destination.url.path)[.size] as? NSNumber)?.int64Value
        return FileReference(path: destination.relative, name: name, sizeBytes: size)
    }

    /// Where a job's working files go (an unpacked zip, a result being written), relative and absolute.
    public func workFile(jobId: String, name: String) throws -> (relative: String, url: URL) {
        try place("work/\(jobId)/\(name)")
    }

    /// Where a job's result file goes, relative and absolute.
    public func resultFile(jobId: String, uploadedName: String?) throws -> (relative: String, url: URL) {
        try place("results/\(jobId)/\(BackfillResultName.forUpload(uploadedName))")
    }

    /// A place for a file of our own inside the store, its folder created.
    private func place(_ relative: String) throws -> (relative: String, url: URL) {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        return (relative, url)
    }
}

/// The name a result file gets: `charges.csv` → `charges-result.csv`.
public enum BackfillResultName {
    public static func forUpload(_ uploaded: String?) -> String {
        let base = (uploaded ?? "backfill.csv") as NSString
        let stem = (base.deletingPathExtension as NSString).lastPathComponent
        return "\(stem)-result.csv"
    }
}
