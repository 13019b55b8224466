import JobstreamMessages
import JobstreamStore
import SQLKit

extension ChunkApplier {
    /// Reads what a preview chunk's rows would change, writing no record: for each row whose record
    /// exists, the record's current values, the version they were read at and whether the row would
    /// change anything go to `backfill_preview_rows` (``PreviewRows``); rows whose record does not
    /// exist fail as they would when applied.
    static func previewChunk(
        _ chunk: BackfillChunk, action: BackfillAction, jobId: String, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> BackfillLedger.Chunk {
        guard action.needsFile else {
            let count = try await previewFileless(action, jobId: jobId, flavor: flavor, in: database)
            return BackfillLedger.Chunk(index: chunk.chunkIndex, firstRow: 0, lastRow: 0, rowCount: count, failures: [:])
        }
        let failures = try await previewRows(chunk.rows, action: action, jobId: jobId, flavor: flavor, in: database)
        return BackfillLedger.Chunk(chunk, failures: failures)
    }

    /// One statement per chunk, reading the records the rows name (as ``applyRows(_:action:jobId:keepingBeforeImages:flavor:in:)``
    /// unpacks them) into the preview rows; returns the rows whose record does not exist.
    public static func previewRows(
        _ rows: [BackfillRow], action: BackfillAction, jobId: String, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> [Int: String] {
        guard let key = action.keyColumn, !rows.isEmpty else { return [:] }
        let columns = setColumns(rows, of: action)
        var differs: SQLQueryString = columns.isEmpty ? "false" : ""
        for (position, column) in columns.enumerated() {
            let name = column.databaseColumn
            differs += position == 0 ? "" : " OR "
            differs += "(v.\(ident: name) IS NOT NULL AND v.\(ident: name) IS DISTINCT FROM t.\(ident: name))"
        }
        let values = rowValues(rows, key: key, columns: columns, flavor: flavor)
        let read: SQLQueryString = """
            \(PreviewRows.insertColumns) SELECT \(bind: jobId), CAST(v.row_number AS BIGINT), t.id,
                \(BeforeImages.snapshot(action.changeableColumns, of: "t", flavor: flavor)), t.version,
                CASE WHEN \(differs) THEN 1 ELSE 0 END
            FROM v JOIN \(ident: action.table) AS t ON t.id = v.id
            """
        let changed = try await rowsWritten(by: read, after: values, flavor: flavor, in: database)
        return try await missing(rows, changed: changed, values: values, action: action, in: database)
    }

    /// Reads the records a file-less action would change (numbered in id order, as applying numbers
    /// its before-images); returns how many.
    static func previewFileless(
        _ action: BackfillAction, jobId: String, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Int {
        guard action == .bookingDateFromCreated else { throw UnknownAction(name: action.name) }
        let read: SQLQueryString = """
            \(PreviewRows.insertColumns) SELECT \(bind: jobId), ROW_NUMBER() OVER (ORDER BY t.id), t.id,
                \(BeforeImages.snapshot(action.changeableColumns, of: "t", flavor: flavor)), t.version, 1
            FROM rate_plan_charges AS t WHERE t.booking_date IS NULL
            """
        return try await rowsWritten(by: read, flavor: flavor, in: database)
    }

    /// The rows of an apply chunk that must not be applied: those whose record moved past the version
    /// the preview read it at (changed since, by whom), or that the preview found no record for —
    /// none when `overwritingChanged`. On PostgreSQL the records are locked until the chunk commits, so
    /// none can change between this check and the update.
    static func changedSincePreview(
        _ rows: [BackfillRow], preview: String, action: BackfillAction, overwritingChanged: Bool,
        flavor: SQLFlavor, in database: any SQLDatabase
    ) async throws -> [Int: String] {
        guard !overwritingChanged, let first = rows.first?.rowNumber, let last = rows.last?.rowNumber else { return [:] }
        let lock: SQLQueryString = flavor == .postgres ? " FOR UPDATE OF t" : ""
        var read: [Int: (id: String, version: Int?)] = [:]
        for row in try await database.raw(
            """
            SELECT p.row_number, p.record_id, p.version_read, t.version AS current FROM backfill_preview_rows AS p
            JOIN \(ident: action.table) AS t ON t.id = p.record_id
            WHERE p.job_id = \(bind: preview) AND p.row_number BETWEEN \(bind: first) AND \(bind: last)\(lock)
            """
        ).all() {
            let current = try row.decode(column: "current", as: Int.self)
            let moved = current != (try row.decode(column: "version_read", as: Int.self))
            read[try row.decode(column: "row_number", as: Int.self)] = (
                try row.decode(column: "record_id", as: String.self), moved ? current : nil
            )
        }
        var refused: [Int: String] = [:]
        var changed: [(row: Int, id: String, version: Int)] = []
        for row in rows {
            guard let found = read[row.rowNumber] else {
                let id = row.fields[action.keyColumn?.name ?? ""] ?? ""
                refused[row.rowNumber] =
                    "\(action.recordName) \(id) did not exist when previewed; not applied (--overwrite-changed applies it anyway)"
                continue
            }
            if let version = found.version { changed.append((row.rowNumber, found.id, version)) }
        }
        let writers = try await lastWriters(
            of: changed.map { ($0.id, $0.version) }, table: action.table, flavor: flavor, in: database)
        for change in changed {
            let by =
                writers[change.id].map { "another job: backfill \($0.job) (generated by \($0.by))" }
                ?? "a change outside jobstream's backfills"
            refused[change.row] = "changed since the preview by \(by); not applied (--overwrite-changed applies it anyway)"
        }
        return refused
    }
}
