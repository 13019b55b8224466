import Foundation
import JobstreamMessages

/// Where uploaded files and result files live, shared by the CLI and the services: a folder (a
/// project-local one by default; a shared volume when services run on several machines), or a
/// bucket of an S3-compatible object store (``objects``), when the folder is only this process's
/// scratch space for files being written or read. The operations that differ between the two are
/// in FileStore+Objects.swift.
///
/// Every path jobstream uses in the store is built or checked by one function, ``place(_:)`` for our
/// own files and ``resolve(_:)`` for paths a request names: a path that is absolute, climbs out with
/// `..`, holds a name that is not a plain file name, or leads outside through a symbolic link is
/// refused and never read or written. A request on a topic can come from anyone who may publish to it.
///
/// Layout: `uploads/<job>/<name>` (files as uploaded), `work/<job>/` (a job's working files, such as
/// an unpacked zip; removed when the job ends), `results/<job>/<name>-result.csv`.
public struct FileStore: Sendable {
    /// The folder: the store itself, or the scratch space when the files are in ``objects``.
    public let root: URL
    /// The object store holding the files, when they are not in the folder.
    public let objects: (any ObjectStorage)?

    /// The folder used when nothing else is given.
    public static let defaultRoot = ".local/files"

    public init(root: String, objects: (any ObjectStorage)? = nil) {
        self.root = URL(fileURLWithPath: root, isDirectory: true).standardizedFileURL
        self.objects = objects
    }

    /// Where the files are, for messages: the folder's path or the object store's location.
    public var location: String { objects?.location ?? root.path }

    /// The file a relative path names, checked to be inside the store.
    public func resolve(_ relativePath: String) throws(FileProblem) -> URL {
        try checkSyntax(relativePath)
        let url = root.appendingPathComponent(relativePath).standardizedFileURL
        guard isInside(url.resolvingSymlinksInPath()) else {
            throw FileProblem("the file path \(Quoted(relativePath)) leads outside the file store; refused, not read")
        }
        return url
    }

    /// Refuses a relative path that is empty, absolute, holds a NUL or climbs out with `..`.
    func checkSyntax(_ relativePath: String) throws(FileProblem) {
        guard !relativePath.isEmpty, !relativePath.hasPrefix("/"), !relativePath.contains("\0") else {
            throw FileProblem("the file path \(Quoted(relativePath)) is not a path inside the file store; refused, not read")
        }
        guard !relativePath.split(separator: "/").contains("..") else {
            throw FileProblem("the file path \(Quoted(relativePath)) leaves the file store; refused, not read")
        }
    }

    /// Opens the file a relative path names for reading, once, after checking that it is inside the
    /// store — and checks again where the open file really is, so a link swapped in between the check
    /// and the open cannot lead outside.
    public func open(_ relativePath: String) throws(FileProblem) -> CheckedFile {
        let url = try resolve(relativePath)
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw FileProblem("the file \(Quoted(relativePath)) is not in the file store")
        }
        let file = CheckedFile(handle: handle, url: url)
        guard isInside(URL(fileURLWithPath: file.realPath)) else {
            throw FileProblem("the file path \(Quoted(relativePath)) leads outside the file store; refused, not read")
        }
        return file
    }

    /// Where a job's working files go (an unpacked zip), relative and absolute.
    public func workFile(jobId: String, name: String) throws -> (relative: String, url: URL) {
        try place(["work", jobId, name])
    }

    /// Where a job's result file goes, relative and absolute.
    public func resultFile(jobId: String, uploadedName: String?) throws -> (relative: String, url: URL) {
        try place(["results", jobId, BackfillResultName.forUpload(uploadedName)])
    }

    /// A place for a file of our own inside the store, `components` joined as folders and a file
    /// name, its folder created. Each component must be a plain name (no `/`, not `.` or `..`, no
    /// control character), and the folder, once created, must really be inside the store.
    public func place(_ components: [String]) throws(FileProblem) -> (relative: String, url: URL) {
        for component in components {
            guard !component.isEmpty, component != ".", component != "..", !component.contains("/"),
                !component.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            else {
                throw FileProblem("\(Quoted(component)) cannot name a file or folder in the file store; refused")
            }
        }
        let relative = components.joined(separator: "/")
        let url = root.appendingPathComponent(relative)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw FileProblem(
                "the folder for \(Quoted(relative)) cannot be made in the file store: \(error.localizedDescription)")
        }
        guard isInside(folder.resolvingSymlinksInPath()) else {
            throw FileProblem("the folder for \(Quoted(relative)) leads outside the file store; refused")
        }
        return (relative, url)
    }

    /// Removes a job's working folder and any unfinished (`.partial`) file left in its results
    /// folder: called when the job ends.
    public func cleanUp(jobId: String) {
        guard JobIdRule.problem(jobId) == nil else { return }
        let manager = FileManager.default
        try? manager.removeItem(at: root.appendingPathComponent("work").appendingPathComponent(jobId))
        let results = root.appendingPathComponent("results").appendingPathComponent(jobId)
        for name in (try? manager.contentsOfDirectory(atPath: results.path)) ?? [] where name.hasSuffix(".partial") {
            try? manager.removeItem(at: results.appendingPathComponent(name))
        }
    }

    /// What the job log says of a job whose folder a sweep finds.
    public enum JobPresence: Sendable {
        case running, ended, unknown
    }

    /// Removes what nothing needs any more, when last changed before `cutoff`: an `uploads/<job>/`
    /// folder of a job not in the log (its request was never taken), a `work/<job>/` folder of a job
    /// that ended or is unknown, and `.partial` files in `results/<job>/` of a job not running; in
    /// the object store, the uploads and results of jobs not in the log. Returns how many it removed.
    @discardableResult
    public func sweep(before cutoff: Date, presence: (String) async throws -> JobPresence) async throws -> Int {
        let manager = FileManager.default
        var removed = 0
        func old(_ url: URL) -> Bool {
            ((try? manager.attributesOfItem(atPath: url.path)[.modificationDate]) as? Date).map { $0 < cutoff } ?? false
        }
        for (folder, removable) in [
            // In the scratch folder of an object store, an upload's folder is only a leftover.
            ("uploads", objects == nil ? [JobPresence.unknown] : [.ended, .unknown]), ("work", [.ended, .unknown]),
            ("results", [.ended, .unknown]),
        ] {
            let base = root.appendingPathComponent(folder)
            for jobId in (try? manager.contentsOfDirectory(atPath: base.path)) ?? [] {
                let url = base.appendingPathComponent(jobId)
                guard JobIdRule.problem(jobId) == nil, old(url), removable.contains(try await presence(jobId)) else { continue }
                if folder == "results" {
                    for name in (try? manager.contentsOfDirectory(atPath: url.path)) ?? [] where name.hasSuffix(".partial") {
                        try? manager.removeItem(at: url.appendingPathComponent(name))
                        removed += 1
                    }
                } else {
                    try? manager.removeItem(at: url)
                    removed += 1
                }
            }
        }
        return removed + (try await sweepObjects(before: cutoff, presence: presence))
    }

    /// Moves `source` onto `destination` in one step, replacing what is there (the two are in one folder).
    public static func moveReplacing(_ source: URL, onto destination: URL) throws {
        if FileManager.default.fileExists(atPath: destination.path) {
            _ = try FileManager.default.replaceItemAt(destination, withItemAt: source)
        } else {
            try FileManager.default.moveItem(at: source, to: destination)
        }
    }

    /// Whether `url` (a real path, links resolved) is inside the store's real root.
    private func isInside(_ url: URL) -> Bool {
        let realRoot = root.resolvingSymlinksInPath().path
        return url.standardizedFileURL.path.hasPrefix(realRoot + "/")
    }
}

/// A file of the store opened for reading after its path was checked. Readers open it again through
/// ``readableURL``, which on Linux names the open file itself (`/proc/self/fd/N`), not its path, so
/// every read is of the file that was checked. Keep the value alive while the file is read.
public final class CheckedFile: Sendable {
    private let handle: FileHandle
    /// The path it was opened at.
    public let url: URL

    init(handle: FileHandle, url: URL) {
        self.handle = handle
        self.url = url
    }

    deinit {
        try? handle.close()
    }

    private var descriptorPath: String { "/proc/self/fd/\(handle.fileDescriptor)" }

    /// Where the open file really is (its path with every link resolved).
    var realPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: descriptorPath)) ?? url.resolvingSymlinksInPath().path
    }

    /// A URL that reads the open file: its descriptor's entry on Linux, else its checked path.
    public var readableURL: URL {
        FileManager.default.fileExists(atPath: descriptorPath) ? URL(fileURLWithPath: descriptorPath) : url
    }
}

/// The name a result file gets: `charges.csv` → `charges-result.csv`.
public enum BackfillResultName {
    public static func forUpload(_ uploaded: String?) -> String {
        let base = (uploaded ?? "backfill.csv") as NSString
        let stem = (base.deletingPathExtension as NSString).lastPathComponent
        return "\(stem)-result.csv"
    }

    /// The name of a preview file of an upload: `charges.csv` → `charges-preview.csv`.
    public static func forPreview(_ uploaded: String?) -> String {
        forUpload(uploaded).replacingOccurrences(of: "-result.csv", with: "-preview.csv")
    }
}
