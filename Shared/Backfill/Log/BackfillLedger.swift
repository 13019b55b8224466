import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// What happened to each row of a backfill, durably: the chunks processors applied (with the rows
/// that failed in them) and the rows the validator refused.
public struct BackfillLedger: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// One applied chunk: the range of rows it covered and the errors of those that failed.
    public struct Chunk: Sendable, Hashable {
        public var index: Int
        public var firstRow: Int
        public var lastRow: Int
        public var rowCount: Int
        /// Row number → why it was not applied.
        public var failures: [Int: String]

        public init(index: Int, firstRow: Int, lastRow: Int, rowCount: Int, failures: [Int: String]) {
            self.index = index
            self.firstRow = firstRow
            self.lastRow = lastRow
            self.rowCount = rowCount
            self.failures = failures
        }

        /// The entry of `chunk`'s rows, `failures` among them.
        public init(_ chunk: BackfillChunk, failures: [Int: String]) {
            self.init(
                index: chunk.chunkIndex, firstRow: chunk.rows.first?.rowNumber ?? 0, lastRow: chunk.rows.last?.rowNumber ?? 0,
                rowCount: chunk.rows.count, failures: failures)
        }
    }

    /// Progress of a job's processing so far.
    public struct Progress: Sendable, Hashable {
        public var chunks: Int
        public var rows: Int
        public var failed: Int
    }

    // MARK: Chunks (written by processors, inside their apply transaction)

    /// Whether the chunk was applied already.
    public static func chunkExists(jobId: String, index: Int, in database: any SQLDatabase) async throws -> Bool {
        try await database.raw(
            """
            SELECT 1 AS found FROM backfill_chunks WHERE job_id = \(bind: jobId) AND chunk_index = \(bind: index)
            """
        ).first() != nil
    }

    /// Records an applied chunk in the caller's transaction.
    public static func recordChunk(jobId: String, _ chunk: Chunk, in database: any SQLDatabase) async throws {
        let failures = chunk.failures.sorted { $0.key < $1.key }.map { FailedRow(row: $0.key, error: $0.value) }
        let json = String(decoding: try JSONEncoder().encode(failures), as: UTF8.self)
        try await database.raw(
            """
            INSERT INTO backfill_chunks (job_id, chunk_index, first_row, last_row, row_count, failed_count, failures, applied_at)
            VALUES (\(bind: jobId), \(bind: chunk.index), \(bind: chunk.firstRow), \(bind: chunk.lastRow),
                    \(bind: chunk.rowCount), \(bind: chunk.failures.count), \(bind: json), \(bind: Date().epochMilliseconds))
            """
        ).run()
    }

    /// Rows applied or failed by processors so far.
    public func progress(_ jobId: String) async throws -> Progress {
        try await store.withDatabase { database in
            let row = try await database.raw(
                """
                SELECT COUNT(*) AS chunks, CAST(COALESCE(SUM(row_count), 0) AS BIGINT) AS row_total,
                       CAST(COALESCE(SUM(failed_count), 0) AS BIGINT) AS failed
                FROM backfill_chunks WHERE job_id = \(bind: jobId)
                """
            ).first()
            return Progress(
                chunks: try row?.decode(column: "chunks", as: Int.self) ?? 0,
                rows: try row?.decode(column: "row_total", as: Int.self) ?? 0,
                failed: try row?.decode(column: "failed", as: Int.self) ?? 0)
        }
    }

    /// The indices of the chunks applied so far.
    public func appliedChunkIndices(_ jobId: String) async throws -> Set<Int> {
        try await store.withDatabase { database in
            Set(
                try await database.raw("SELECT chunk_index FROM backfill_chunks WHERE job_id = \(bind: jobId)")
                    .all().map { try $0.decode(column: "chunk_index", as: Int.self) })
        }
    }

    /// Applied chunks in order, `limit` at a time, starting after chunk `after`.
    public func chunks(_ jobId: String, after: Int, limit: Int) async throws -> [Chunk] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT chunk_index, first_row, last_row, row_count, failures FROM backfill_chunks
                WHERE job_id = \(bind: jobId) AND chunk_index > \(bind: after) ORDER BY chunk_index LIMIT \(literal: limit)
                """
            ).all().map { row in
                let failures = try JSONDecoder().decode(
                    [FailedRow].self,
                    from: Data(try row.decode(column: "failures", as: String.self).utf8))
                return Chunk(
                    index: try row.decode(column: "chunk_index", as: Int.self),
                    firstRow: try row.decode(column: "first_row", as: Int.self),
                    lastRow: try row.decode(column: "last_row", as: Int.self),
                    rowCount: try row.decode(column: "row_count", as: Int.self),
                    failures: Dictionary(uniqueKeysWithValues: failures.map { ($0.row, $0.error) }))
            }
        }
    }

    // MARK: The chunk plan (written by the validator before it sends the chunks)

    /// Records the fingerprints of chunks about to be sent; recording one again (a repeated fan-out)
    /// changes nothing.
    public func planChunks(_ jobId: String, _ digests: [(index: Int, digest: String)]) async throws {
        try await insertOnce(
            into: "backfill_chunk_plan", columns: ["job_id", "chunk_index", "digest"],
            key: ["job_id", "chunk_index"], rows: digests.map { [jobId, $0.index, $0.digest] })
    }

    /// Inserts `rows` in one transaction, 500 to a statement; a row whose `key` exists changes nothing.
    private func insertOnce(
        into table: String, columns: [String], key: [String],
        rows: [[any Encodable & Sendable]]
    ) async throws {
        guard !rows.isEmpty else { return }
        try await store.transaction { database in
            for batch in stride(from: 0, to: rows.count, by: 500) {
                var query: SQLQueryString = "INSERT INTO \(ident: table) (\(idents: columns, joinedBy: ", ")) VALUES "
                for (offset, row) in rows[batch..<min(batch + 500, rows.count)].enumerated() {
                    query += offset == 0 ? "(\(binds: row))" : ", (\(binds: row))"
                }
                query += " ON CONFLICT (\(idents: key, joinedBy: ", ")) DO NOTHING"
                try await database.raw(query).run()
            }
        }
    }

    /// The planned fingerprint of a chunk, in the caller's transaction; nil if it was never planned.
    public static func plannedDigest(jobId: String, index: Int, in database: any SQLDatabase) async throws -> String? {
        try await database.raw(
            """
            SELECT digest FROM backfill_chunk_plan WHERE job_id = \(bind: jobId) AND chunk_index = \(bind: index)
            """
        ).first()?.decode(column: "digest", as: String.self)
    }

    // MARK: Rows the validator refused

    /// Records refused rows; recording the same row again (a resumed validation) changes nothing.
    public func recordRowErrors(_ jobId: String, _ errors: [(row: Int, error: String)]) async throws {
        try await insertOnce(
            into: "backfill_row_errors", columns: ["job_id", "row_number", "error"],
            key: ["job_id", "row_number"], rows: errors.map { [jobId, $0.row, $0.error] })
    }

    /// Refused rows in row order, `limit` at a time, starting after row `after`.
    public func rowErrors(_ jobId: String, after: Int, limit: Int) async throws -> [(row: Int, error: String)] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT row_number, error FROM backfill_row_errors
                WHERE job_id = \(bind: jobId) AND row_number > \(bind: after) ORDER BY row_number LIMIT \(literal: limit)
                """
            ).all().map { (try $0.decode(column: "row_number", as: Int.self), try $0.decode(column: "error", as: String.self)) }
        }
    }

    /// How many rows the validator refused.
    public func rowErrorCount(_ jobId: String) async throws -> Int {
        try await store.withDatabase { database in
            try await database.raw("SELECT COUNT(*) AS refused FROM backfill_row_errors WHERE job_id = \(bind: jobId)")
                .first()?.decode(column: "refused", as: Int.self) ?? 0
        }
    }

    private struct FailedRow: Codable {
        var row: Int
        var error: String
    }
}
