import Crypto
import Foundation
import ZIPFoundation

/// An uploaded backfill file: a `.csv`, or a `.zip` holding exactly one `.csv`.
public struct UploadedFile: Sendable {
    /// The file as uploaded.
    public let url: URL
    public let name: String

    public init(url: URL, name: String) {
        self.url = url
        self.name = name
    }

    /// Checks the file's MD5 against the one the user gave (hex, any case), reading it in pieces.
    public func verifyMD5(_ expected: String) throws(FileProblem) {
        let wanted = expected.trimmingCharacters(in: .whitespaces).lowercased()
        guard wanted.count == 32, wanted.allSatisfy(\.isHexDigit) else {
            throw FileProblem("the MD5 checksum \"\(expected)\" is not 32 hexadecimal digits")
        }
        var hasher = Insecure.MD5()
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                hasher.update(data: data)
            }
        } catch {
            throw FileProblem("the file \(name) cannot be read: \(error.localizedDescription)")
        }
        let actual = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        guard actual == wanted else {
            throw FileProblem("the file's MD5 checksum is \(actual), not \(wanted) as given: the file is not the one meant, or it was damaged on the way")
        }
    }

    /// The CSV to read: the file itself, or the one CSV inside a zip, unpacked to `workURL` (once;
    /// a resumed job reuses a complete earlier unpacking).
    public func csv(unpackingTo workURL: () throws -> URL) throws(FileProblem) -> URL {
        let lowered = name.lowercased()
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw FileProblem("the file \(name) is not in the file store")
        }
        if lowered.hasSuffix(".csv") { return url }
        guard lowered.hasSuffix(".zip") else {
            throw FileProblem("\(name) is neither a .csv file nor a .zip holding one")
        }
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw FileProblem("\(name) is not a readable zip file")
        }
        let csvs = archive.filter { $0.type == .file && $0.path.lowercased().hasSuffix(".csv") && !$0.path.hasPrefix("__MACOSX/") }
        guard csvs.count == 1, let entry = csvs.first else {
            throw FileProblem(csvs.isEmpty ? "the zip file \(name) holds no .csv file"
                : "the zip file \(name) holds \(csvs.count) .csv files (\(csvs.map(\.path).joined(separator: ", "))); it must hold exactly one")
        }
        do {
            let target = try workURL()
            if FileManager.default.fileExists(atPath: target.path) { return target }
            let partial = target.appendingPathExtension("partial")
            try? FileManager.default.removeItem(at: partial)
            _ = try archive.extract(entry, to: partial)
            try FileManager.default.moveItem(at: partial, to: target)
            return target
        } catch {
            throw FileProblem("the .csv file in \(name) cannot be unpacked: \(error.localizedDescription)")
        }
    }
}
