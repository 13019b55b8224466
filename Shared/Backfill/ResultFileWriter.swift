import Foundation
import JobstreamCSV
import JobstreamStore

/// Writes a job's result file: every row of the uploaded file, in its order, with its columns,
/// plus `Success` (`true`/`false`) and `Error Message`. A row with fewer fields than the header is
/// padded with empty ones, and one with more keeps its extra fields after those two columns, so
/// `Success` and `Error Message` always stand under their names.
///
/// Outcomes come from the ledger in row order — the validator's refused rows and the processors'
/// chunks, each paged — merged with a fresh read of the file, so memory stays flat for any size.
public struct ResultFileWriter: Sendable {
    public let ledger: BackfillLedger
    public let jobId: String

    public init(ledger: BackfillLedger, jobId: String) {
        self.ledger = ledger
        self.jobId = jobId
    }

    /// The message of a row that was valid but no chunk of it was applied (the job was canceled).
    public static let notProcessed = "not processed: the job was canceled before this row was applied"

    /// Writes the result of `file` to `url` (through a temporary file, renamed when complete).
    /// Returns how many rows succeeded and failed.
    public func write(_ file: ValidatedFile, to url: URL) async throws -> (succeeded: Int, failed: Int) {
        let partial = url.appendingPathExtension("partial")
        let writer = try CSVWriter(url: partial)
        let width = file.validator.header.count
        try writer.write(file.validator.header + ["Success", "Error Message"])
        var outcomes = RowOutcomes(ledger: ledger, jobId: jobId, notReached: Self.notProcessed)
        var succeeded = 0, failed = 0
        try await file.forEachRecord { rowNumber, fields in
            let error = try await outcomes.error(of: rowNumber).error
            if error == nil { succeeded += 1 } else { failed += 1 }
            try writer.write(
                Self.fitted(fields, width: width) + [error == nil ? "true" : "false", error ?? ""]
                    + fields.dropFirst(width))
        }
        try writer.close()
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(at: partial, to: url)
        return (succeeded, failed)
    }
}

extension ResultFileWriter {
    /// The row's first `width` fields, padded with empty ones when it has fewer.
    static func fitted(_ fields: [String], width: Int) -> [String] {
        fields.count >= width ? Array(fields.prefix(width)) : fields + Array(repeating: "", count: width - fields.count)
    }
}

/// The outcome of each row of a job's file, asked in row order: the validator's refused rows and the
/// processors' chunks, each paged from the ledger.
struct RowOutcomes {
    private var refused: PagedCursor<(row: Int, error: String)>
    private var chunks: PagedCursor<BackfillLedger.Chunk>
    /// The error of a valid row no chunk of which has an outcome (the job was canceled first).
    let notReached: String

    init(ledger: BackfillLedger, jobId: String, notReached: String) {
        self.notReached = notReached
        refused = PagedCursor(position: \.row) { after in try await ledger.rowErrors(jobId, after: after, limit: 5000) }
        // A few chunks at a time: each holds the errors of its failed rows (up to a chunk's worth).
        chunks = PagedCursor(position: \.index, start: -1) { after in try await ledger.chunks(jobId, after: after, limit: 16) }
    }

    /// Why row `rowNumber` failed (nil: it succeeded), and whether the validator refused it.
    mutating func error(of rowNumber: Int) async throws -> (error: String?, refused: Bool) {
        if let entry = try await refused.current(), entry.row == rowNumber {
            try await refused.advance()
            return (entry.error, true)
        }
        while let chunk = try await chunks.current(), chunk.lastRow < rowNumber { try await chunks.advance() }
        if let chunk = try await chunks.current(), chunk.firstRow <= rowNumber {
            return (chunk.failures[rowNumber], false)
        }
        return (notReached, false)
    }
}

/// Walks ordered database rows a page at a time.
struct PagedCursor<Element> {
    private var page: [Element] = []
    private var index = 0
    private var after: Int
    private var exhausted = false
    private let position: (Element) -> Int
    private let fetch: (Int) async throws -> [Element]

    init(position: @escaping (Element) -> Int, start: Int = 0, fetch: @escaping (Int) async throws -> [Element]) {
        self.position = position
        self.after = start
        self.fetch = fetch
    }

    mutating func current() async throws -> Element? {
        if index == page.count {
            guard !exhausted else { return nil }
            page = try await fetch(after)
            index = 0
            if page.isEmpty {
                exhausted = true
                return nil
            }
            after = position(page[page.count - 1])
        }
        return page[index]
    }

    mutating func advance() async throws {
        _ = try await current()
        index += 1
    }
}
