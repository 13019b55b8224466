import Crypto
import Foundation
import Hummingbird
import JobstreamFiles
import JobstreamMessages

/// Receives a backfill file sent as a request's body and stores it under `uploads/<job>/<name>`,
/// piece by piece as it arrives: memory holds one piece, never the file. The bytes go to a `.partial`
/// file, renamed into place only once the body ended within the size limit and matched the checksum
/// it came with (`Content-MD5`, base64 as RFC 1864 says, or `md5` in hexadecimal); otherwise the
/// partial file is removed and nothing is stored. A file refused for its name is never written.
struct UploadReceiver: Sendable {
    let files: FileStore
    /// The most bytes a file may have.
    let maximumBytes: Int64

    /// Why a body was not stored, with the status to answer.
    struct Refusal: Error {
        let status: HTTPResponse.Status
        let message: String
    }

    /// What a file name must be: a plain name ending `.csv` or `.zip`, at most the bound of a request's
    /// file name, with no control character or path separator.
    static func nameProblem(_ name: String) -> String? {
        let lowered = name.lowercased()
        guard lowered.hasSuffix(".csv") || lowered.hasSuffix(".zip") else {
            return "the file name \(Quoted(name)) does not end .csv or .zip; a backfill file is a .csv, or a .zip holding one"
        }
        guard name.utf8.count <= InputLimits.fileNameBytes, !name.hasPrefix("."), !name.contains("/"), !name.contains("\\"),
            !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else {
            return "the file name \(Quoted(name)) is not a plain file name of at most \(InputLimits.fileNameBytes) bytes"
        }
        return nil
    }

    /// Stores `body` as `name` for `jobId` and returns its reference (with its size). `declaredLength`
    /// is the request's `Content-Length`, refused at once when over the limit; `md5Hex` the checksum
    /// the file must have.
    func receive(
        _ body: RequestBody, name: String, jobId: String, declaredLength: Int64?, md5Hex: String?
    ) async throws -> FileReference {
        if let declaredLength, declaredLength > maximumBytes {
            throw Refusal(status: .contentTooLarge, message: "the file is \(declaredLength) bytes; at most \(maximumBytes)")
        }
        let destination: (relative: String, url: URL)
        do { destination = try files.place(["uploads", jobId, name]) } catch {
            throw Refusal(status: .badRequest, message: error.description)
        }
        // Named apart from the file: a name of the longest allowed plus `.partial` would be too long.
        let partial = destination.url.deletingLastPathComponent().appendingPathComponent(
            ".upload-\(UUID().uuidString.lowercased()).partial")
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw Refusal(status: .serviceUnavailable, message: "the file store cannot take the file now")
        }
        var stored = false
        defer { if !stored { try? FileManager.default.removeItem(at: partial) } }
        let handle = try FileHandle(forWritingTo: partial)
        var hasher = Insecure.MD5()
        var size: Int64 = 0
        do {
            defer { try? handle.close() }
            for try await piece in body {
                size += Int64(piece.readableBytes)
                guard size <= maximumBytes else {
                    throw Refusal(
                        status: .contentTooLarge, message: "the file is over \(maximumBytes) bytes; at most \(maximumBytes)")
                }
                piece.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                try handle.write(contentsOf: piece.readableBytesView)
            }
            try handle.synchronize()
        }
        if let declaredLength, declaredLength != size {
            throw Refusal(status: .badRequest, message: "the body ended after \(size) of the \(declaredLength) bytes announced")
        }
        guard size > 0 else { throw Refusal(status: .badRequest, message: "the body is empty: send the file as the body") }
        let actual = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        if let md5Hex, actual != md5Hex.lowercased() {
            throw Refusal(
                status: .badRequest,
                message: "the file's MD5 checksum is \(actual), not \(Quoted(md5Hex)) as given: it was damaged on the way")
        }
        do { try await files.publish(partial, as: destination) } catch {
            throw Refusal(
                status: .serviceUnavailable,
                message: "the file store cannot take the file now: \(TextRule.cut("\(error)", toBytes: 300))")
        }
        stored = true
        return FileReference(path: destination.relative, name: name, sizeBytes: size)
    }

    /// The checksum a request gives, as hexadecimal: `Content-MD5` (base64 of the 16 bytes) or the
    /// `md5` query value (32 hexadecimal digits); nil when it gives none. Both must agree.
    static func md5(header: String?, query: String?) throws -> String? {
        var fromHeader: String?
        if let header {
            guard let bytes = Data(base64Encoded: header.trimmingCharacters(in: .whitespaces)), bytes.count == 16 else {
                throw Refusal(status: .badRequest, message: "Content-MD5 is not the base64 of a 16-byte MD5 checksum")
            }
            fromHeader = bytes.map { String(format: "%02x", $0) }.joined()
        }
        if let query {
            guard query.count == 32, query.allSatisfy(\.isHexDigit) else {
                throw Refusal(status: .badRequest, message: "md5 \(Quoted(query)) is not 32 hexadecimal digits")
            }
            if let fromHeader, fromHeader != query.lowercased() {
                throw Refusal(status: .badRequest, message: "Content-MD5 and md5 name different checksums")
            }
            return query.lowercased()
        }
        return fromHeader
    }
}
