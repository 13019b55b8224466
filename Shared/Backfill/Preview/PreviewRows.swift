import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// What a preview read (table `backfill_preview_rows`): for each valid row whose record exists, the
/// record's current values of the action's changeable columns (``BackfillAction/changeableColumns``),
/// the version they were read at, and whether the row would change anything. Written by processors in
/// the chunk's transaction, as the ledger entry is; read by the preview file and by its apply, which
/// refuses a row whose record has moved past the version read.
public struct PreviewRows: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// One row as the preview read its record.
    public struct Row: Sendable, Hashable {
        public var rowNumber: Int
        public var recordId: String
        /// The record's values of the changeable columns, in their order (nil: empty).
        public var current: [String?]
        public var wouldChange: Bool
    }

    /// Rows of `jobId` in row order, `limit` at a time, starting after row `after`.
    public func rows(_ jobId: String, after: Int, limit: Int) async throws -> [Row] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT row_number, record_id, current_values, would_change FROM backfill_preview_rows
                WHERE job_id = \(bind: jobId) AND row_number > \(bind: after) ORDER BY row_number LIMIT \(literal: limit)
                """
            ).all().map {
                let current = try $0.decode(column: "current_values", as: String.self)
                return Row(
                    rowNumber: try $0.decode(column: "row_number", as: Int.self),
                    recordId: try $0.decode(column: "record_id", as: String.self),
                    current: try StringArrayReader.read(current)
                        ?? JSONDecoder().decode([String?].self, from: Data(current.utf8)),
                    wouldChange: try $0.decode(column: "would_change", as: Int.self) != 0)
            }
        }
    }

    static let insertColumns: SQLQueryString =
        "INSERT INTO backfill_preview_rows (job_id, row_number, record_id, current_values, version_read, would_change)"
}
