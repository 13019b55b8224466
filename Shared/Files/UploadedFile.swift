import Crypto
import Foundation
import JobstreamMessages

/// An uploaded backfill file: a `.csv`, or a `.zip` holding exactly one `.csv`.
public struct UploadedFile: Sendable {
    /// The file as uploaded.
    public let url: URL
    public let name: String

    public init(url: URL, name: String) {
        self.url = url
        self.name = name
    }

    /// The size of the file at `url`, read from the file opened (so a descriptor's path gives the
    /// file's size, not the link's); nil if it cannot be opened.
    public static func size(of url: URL) -> Int64? {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? handle.close() }
        return (try? handle.seekToEnd()).map(Int64.init)
    }

    /// Checks the file's MD5 against the one the user gave (hex, any case), reading it in pieces.
    public func verifyMD5(_ expected: String) throws(FileProblem) {
        let wanted = expected.trimmingCharacters(in: .whitespaces).lowercased()
        guard wanted.count == 32, wanted.allSatisfy(\.isHexDigit) else {
            throw FileProblem("the MD5 checksum \"\(expected)\" is not 32 hexadecimal digits")
        }
        let actual = try digest(Insecure.MD5())
        guard actual == wanted else {
            throw FileProblem(
                "the file's MD5 checksum is \(actual), not \(wanted) as given: the file is not the one meant, or it was damaged on the way"
            )
        }
    }

    /// The file's SHA-256 (hex), read in pieces: what a preview's apply checks it reads the same file by.
    public func sha256() throws(FileProblem) -> String {
        try digest(SHA256())
    }

    private func digest<Hasher: HashFunction>(_ start: Hasher) throws(FileProblem) -> String {
        var hasher = start
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                hasher.update(data: data)
            }
        } catch {
            throw FileProblem("the file \(name) cannot be read: \(error.localizedDescription)")
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// The CSV to read: the file itself, or the one CSV inside a zip, unpacked to `workURL` (once;
    /// a resumed job reuses a complete earlier unpacking) within `limits`. `shouldStop` is asked
    /// while unpacking; when it says yes, unpacking ends with `CancellationError`.
    public func csv(
        limits: FileLimits = .standard, unpackingTo workURL: () throws -> URL,
        shouldStop: () -> Bool = { false }
    ) throws -> URL {
        let lowered = name.lowercased()
        guard let size = UploadedFile.size(of: url) else {
            throw FileProblem("the file \(name) is not in the file store")
        }
        guard size <= limits.fileBytes else {
            throw FileProblem("the file \(name) is \(size) bytes; at most \(limits.fileBytes) (--max-file-bytes)")
        }
        if lowered.hasSuffix(".csv") { return url }
        guard lowered.hasSuffix(".zip") else {
            throw FileProblem("\(name) is neither a .csv file nor a .zip holding one")
        }
        let directory = try ZipDirectory(file: url, name: name)
        let csvs = directory.entries.filter {
            !$0.isDirectory && $0.path.lowercased().hasSuffix(".csv") && !$0.path.hasPrefix("__MACOSX/")
        }
        guard csvs.count == 1, let entry = csvs.first else {
            let listed =
                csvs.prefix(5).map { Quoted($0.path).description }.joined(separator: ", ") + (csvs.count > 5 ? ", …" : "")
            throw FileProblem(
                csvs.isEmpty
                    ? "the zip file \(name) holds no .csv file"
                    : "the zip file \(name) holds \(csvs.count) .csv files (\(listed)); it must hold exactly one")
        }
        let extraction = ZipExtraction(directory: directory, entry: entry, name: name, limits: limits)
        if let problem = extraction.problem() { throw FileProblem(problem) }
        let target = try workURL()
        if FileManager.default.fileExists(atPath: target.path) { return target }
        let partial = target.appendingPathExtension("partial")
        try? FileManager.default.removeItem(at: partial)
        do {
            try extraction.unpack(to: partial, shouldStop: shouldStop)
            try FileManager.default.moveItem(at: partial, to: target)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            if error is FileProblem || error is CancellationError { throw error }
            throw FileProblem("the .csv file in \(name) cannot be unpacked: \(error.localizedDescription)")
        }
        return target
    }
}
