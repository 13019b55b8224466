import Foundation
import JobstreamCSV
import JobstreamStore

/// Writes a preview file: every row of the uploaded file in its order with its columns, then for each
/// column the file sets `<Column> (current)` (the record's value when previewed), `Would Change`
/// (`false` where the record already holds what the row asks), and `Success` and `Error Message` as
/// the row would get them. Extra fields of a row go after these, as in the result file
/// (``ResultFileWriter``). Outcomes and preview rows are paged in row order beside a fresh read of the
/// file: memory stays flat for any size.
public struct PreviewFileWriter: Sendable {
    public let ledger: BackfillLedger
    public let previews: PreviewRows
    public let jobId: String

    public init(ledger: BackfillLedger, previews: PreviewRows, jobId: String) {
        self.ledger = ledger
        self.previews = previews
        self.jobId = jobId
    }

    /// The header of the preview file of a file with `header`, setting `columns`.
    public static func header(_ header: [String], setting columns: [ActionColumn]) -> [String] {
        header + columns.map { "\($0.name) (current)" } + ["Would Change", "Success", "Error Message"]
    }

    /// A preview's counts, as its file shows them.
    public struct Counts: Sendable, Hashable {
        /// Rows that would change their record.
        public var wouldChange = 0
        /// Rows whose record already holds what they ask.
        public var alreadyAsAsked = 0
        /// Rows that would fail.
        public var failed = 0
    }

    /// Writes the preview of `file` to `url`; returns its counts.
    public func write(_ file: ValidatedFile, to url: URL) async throws -> Counts {
        let writer = try CSVWriter(url: url)
        let width = file.validator.header.count
        let action = file.validator.action
        let settable = file.validator.settableColumns
        // Where each column the file sets sits in a preview row's current values.
        let positions = settable.compactMap { column in action.changeableColumns.firstIndex(of: column.databaseColumn) }
        try writer.write(Self.header(file.validator.header, setting: settable))
        var outcomes = RowOutcomes(
            ledger: ledger, jobId: jobId, notReached: "not previewed: the preview was canceled before this row was read")
        var read = PagedCursor<PreviewRows.Row>(position: \.rowNumber) { after in
            try await previews.rows(jobId, after: after, limit: 5000)
        }
        var counts = Counts()
        let none = Array(repeating: "", count: positions.count)
        try await file.forEachRecord { rowNumber, fields in
            let (error, refused) = try await outcomes.error(of: rowNumber)
            var current = none, wouldChange = false
            if !refused {
                while let row = try await read.current(), row.rowNumber < rowNumber { try await read.advance() }
                if error == nil, let row = try await read.current(), row.rowNumber == rowNumber {
                    current = positions.map { row.current.indices.contains($0) ? row.current[$0] ?? "" : "" }
                    wouldChange = row.wouldChange
                }
            }
            switch (error, wouldChange) {
            case (.some, _): counts.failed += 1
            case (nil, true): counts.wouldChange += 1
            case (nil, false): counts.alreadyAsAsked += 1
            }
            try writer.write(
                ResultFileWriter.fitted(fields, width: width) + current
                    + [wouldChange ? "true" : "false", error == nil ? "true" : "false", error ?? ""]
                    + fields.dropFirst(width))
        }
        try writer.close()
        return counts
    }

    /// Writes the preview of a file-less action: `Row`, the record's key, its current values,
    /// `Would Change`, `Success`, `Error Message` — one line per record it would change.
    public func writeFileless(action: BackfillAction, to url: URL) async throws -> Int {
        let writer = try CSVWriter(url: url)
        let names = action.changeableColumns.map { column in
            BackfillAction.changing(action.table).lazy.flatMap(\.columns).first { $0.databaseColumn == column }?.name ?? column
        }
        try writer.write(
            ["Row", action.recordKeyName] + names.map { "\($0) (current)" } + ["Would Change", "Success", "Error Message"])
        let count = try await KeysetPaging.forEachPage(
            pageSize: 5000, position: \PreviewRows.Row.rowNumber,
            page: { after, limit in try await previews.rows(jobId, after: after ?? 0, limit: limit) }
        ) { page in
            for row in page {
                try writer.write(
                    [String(row.rowNumber), row.recordId] + row.current.map { $0 ?? "" }
                        + [row.wouldChange ? "true" : "false", "true", ""])
            }
        }
        try writer.close()
        return count
    }
}
