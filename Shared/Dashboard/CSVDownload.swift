import Foundation
import Hummingbird
import JobstreamCSV
import JobstreamFiles
import JobstreamStore

/// CSV files sent as downloads: every cell defused (``SpreadsheetSafety``), written page by page so
/// that a file of a million rows never sits in memory whole.
enum CSVDownload {
    static let rowsPerWrite = 2000

    /// A response that downloads as `fileName`.
    static func response(fileName: String, body: ResponseBody) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = contentDisposition(fileName)
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Rows read from a database page by page (``KeysetPaging``), a page per write.
    static func paged<Row: Sendable, Position: Sendable>(
        header: [String], fields: @escaping @Sendable (Row) -> [String], position: @escaping @Sendable (Row) -> Position,
        page: @escaping @Sendable (_ after: Position?, _ limit: Int) async throws -> [Row]
    ) -> ResponseBody {
        ResponseBody { writer in
            try await writer.write(encode([header]))
            try await KeysetPaging.forEachPage(pageSize: rowsPerWrite, position: position, page: page) { rows in
                try await writer.write(encode(rows.map(fields)))
            }
            try await writer.finish(nil)
        }
    }

    /// A CSV file of the file store, re-read record by record and re-written defused.
    static func file(_ path: String, of jobId: String, in files: FileStore) -> ResponseBody {
        ResponseBody { writer in
            let stored = try await files.fetch(path, forJob: jobId)
            defer { withExtendedLifetime(stored) {} }
            let reader = try CSVReader(url: stored.readableURL, limits: .ownFiles)
            var records: [[String]] = []
            records.reserveCapacity(rowsPerWrite)
            while let record = try reader.next() {
                records.append(record.fields)
                if records.count == rowsPerWrite {
                    try await writer.write(encode(records))
                    records.removeAll(keepingCapacity: true)
                }
            }
            if !records.isEmpty { try await writer.write(encode(records)) }
            try await writer.finish(nil)
        }
    }

    static func encode(_ records: [[String]]) -> ByteBuffer {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(records.count * 64)
        for record in records { CSVWriter.append(SpreadsheetSafety.defuse(record), to: &bytes) }
        return ByteBuffer(bytes: bytes)
    }

    /// `attachment` with the name twice: an ASCII fallback with anything unsafe replaced, and the
    /// exact name percent-encoded (RFC 6266), so no name can break out of the header.
    static func contentDisposition(_ fileName: String) -> String {
        let fallback = String(
            fileName.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F && scalar != "\"" && scalar != "\\"
                    && scalar != ";"
                    ? Character(scalar) : "_"
            })
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~")).intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(0x7F)))
        let encoded = fileName.addingPercentEncoding(withAllowedCharacters: allowed) ?? fallback
        return "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)"
    }
}
