import JobstreamMessages
import JobstreamStore
import SQLKit

/// What became of a chunk a processor was given.
public enum ChunkApplyOutcome: Sendable, Equatable {
    /// Applied now; the ledger entry says which rows failed and why.
    case applied(BackfillLedger.Chunk)
    /// Applied before (a redelivery after a crash or a rebalance): nothing changed this time.
    case alreadyApplied
    /// The job was canceled or has ended: the chunk is not applied.
    case skipped(reason: String)
    /// No job with this id is in the log.
    case unknownJob
    /// The chunk is not one the job's validator sent (another action, or rows other than planned).
    case refused(reason: String)
}

/// Applies a chunk of a backfill to the record store — in one transaction, exactly once.
///
/// The transaction checks the job (not canceled, not ended), checks the chunk against the job (its
/// action, and its fingerprint against the one the validator planned, ``ChunkDigest``), checks the
/// ledger (not applied before), applies every row whose record exists, and records the chunk with
/// the rows that failed. Either all of it commits or none of it, so a processor killed at any moment leaves the
/// chunk wholly applied or wholly not, and a redelivered chunk finds its ledger entry.
public struct ChunkApplier: Sendable {
    public let store: Store
    public init(store: Store) {
        self.store = store
    }

    public func apply(_ chunk: BackfillChunk, jobId: String) async throws -> ChunkApplyOutcome {
        guard let action = BackfillAction.named(chunk.action) else {
            throw UnknownAction(name: chunk.action)
        }
        let flavor = store.flavor
        do {
            return try await store.transaction { database in
                let job: AdmittedJob
                switch try await Self.check(chunk, jobId: jobId, flavor: flavor, in: database) {
                case .refused(let outcome): return outcome
                case .admitted(let admitted): job = admitted
                }
                if job.preview {
                    let entry = try await Self.previewChunk(chunk, action: action, jobId: jobId, flavor: flavor, in: database)
                    try await BackfillLedger.recordChunk(jobId: jobId, entry, in: database)
                    return .applied(entry)
                }
                // Only a job with a brake has one to read (`resume` keeps the two in step).
                let braked = job.braked ? try await BackfillHolds.brake(jobId, in: database) : nil
                if case .some(.some(let tripped)) = braked { return .skipped(reason: "the job is held: \(tripped)") }
                let entry: BackfillLedger.Chunk
                if let preview = job.applies, action.needsFile {
                    let changed = try await Self.changedSincePreview(
                        chunk.rows, preview: preview, action: action, overwritingChanged: job.overwriteChanged,
                        flavor: flavor, in: database)
                    let failures = try await Self.applyRows(
                        chunk.rows.filter { changed[$0.rowNumber] == nil }, action: action, jobId: jobId, flavor: flavor,
                        in: database)
                    entry = BackfillLedger.Chunk(chunk, failures: failures.merging(changed) { first, _ in first })
                } else if let original = job.reverts {
                    let failures = try await Self.revertRows(
                        chunk.rows, of: original, action: action, jobId: jobId, overwritingChanged: job.overwriteChanged,
                        flavor: flavor, in: database)
                    entry = BackfillLedger.Chunk(chunk, failures: failures)
                } else if action.needsFile {
                    let failures = try await Self.applyRows(
                        chunk.rows, action: action, jobId: jobId, flavor: flavor, in: database)
                    entry = BackfillLedger.Chunk(chunk, failures: failures)
                } else {
                    let changed = try await Self.applyFileless(action, jobId: jobId, flavor: flavor, in: database)
                    entry = BackfillLedger.Chunk(
                        index: chunk.chunkIndex, firstRow: 0, lastRow: 0, rowCount: changed, failures: [:])
                }
                if braked != nil {
                    let count = try await BackfillHolds.count(
                        jobId, rows: entry.rowCount, failed: entry.failures.count, flavor: flavor, in: database)
                    if case .trippedBefore(let reason) = count { throw BackfillHolds.HeldBack(reason: reason) }
                }
                try await BackfillLedger.recordChunk(jobId: jobId, entry, in: database)
                return .applied(entry)
            }
        } catch let held as BackfillHolds.HeldBack {
            return .skipped(reason: "the job is held: \(held.reason)")
        }
    }

    /// Records a chunk whose rows the store refuses every time (say, a value it cannot keep) as applied
    /// with every row failed for `reason`, after the same checks as ``apply(_:jobId:)``, so the job
    /// still ends and its result file says why those rows were not applied.
    public func recordRefused(_ chunk: BackfillChunk, jobId: String, reason: String) async throws -> ChunkApplyOutcome {
        let flavor = store.flavor
        return try await store.transaction { database in
            if case .refused(let outcome) = try await Self.check(chunk, jobId: jobId, flavor: flavor, in: database) {
                return outcome
            }
            let failures = Dictionary(chunk.rows.map { ($0.rowNumber, reason) }, uniquingKeysWith: { first, _ in first })
            let entry = BackfillLedger.Chunk(chunk, failures: failures)
            try await BackfillLedger.recordChunk(jobId: jobId, entry, in: database)
            return .applied(entry)
        }
    }

    /// What the chunk's job says of how to apply it, once the chunk may be applied.
    struct AdmittedJob {
        /// The job a revert puts back.
        var reverts: String?
        var overwriteChanged: Bool
        /// A preview: its chunks read, never write.
        var preview: Bool
        /// The preview an apply job applies: rows whose record changed since are refused.
        var applies: String?
        /// The job has a failure brake (`max_failed`).
        var braked: Bool
    }

    /// Whether `chunk` may be applied now.
    enum Admission {
        case admitted(AdmittedJob)
        /// Not now: the job unknown, canceled or ended; the chunk not the validator's; or applied before.
        case refused(ChunkApplyOutcome)
    }

    private static func check(
        _ chunk: BackfillChunk, jobId: String, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Admission {
        // PostgreSQL: hold the job row so a cancel request waits for this chunk to commit, and
        // every chunk that starts after it sees the request. (SQLite transactions are serial.)
        let lock = flavor == .postgres ? " FOR SHARE" : ""
        guard
            let job = try await database.raw(
                """
                SELECT status, action, cancel_requested_by, pause_requested_by, reverts, overwrite_changed, preview, applies,
                    max_failed FROM backfill_jobs
                WHERE job_id = \(bind: jobId)\(unsafeRaw: lock)
                """
            ).first()
        else { return .refused(.unknownJob) }
        let status = try job.decode(column: "status", as: String.self)
        if try job.decodeNil(column: "cancel_requested_by") == false {
            return .refused(.skipped(reason: "the job was canceled"))
        }
        if let current = BackfillStatus(rawValue: status), current.isTerminal {
            return .refused(.skipped(reason: "the job is \(current.rawValue)"))
        }
        // Paused, or asked to pause: nothing applies until it is resumed, when its owner sends again
        // the chunks not applied.
        let pauseRequested = try job.decodeNil(column: "pause_requested_by") == false
        if status == BackfillStatus.paused.rawValue || pauseRequested {
            return .refused(.skipped(reason: "the job is paused"))
        }
        let action = try job.decode(column: "action", as: String.self)
        guard chunk.action == action else {
            return .refused(.refused(reason: "the chunk's action \(Quoted(chunk.action)) is not the job's (\(action))"))
        }
        guard let planned = try await BackfillLedger.plannedDigest(jobId: jobId, index: chunk.chunkIndex, in: database) else {
            return .refused(.refused(reason: "chunk \(chunk.chunkIndex) is not one the job's validator sent"))
        }
        guard planned == ChunkDigest.of(chunk) else {
            return .refused(.refused(reason: "chunk \(chunk.chunkIndex) holds other rows than the job's validator sent"))
        }
        if try await BackfillLedger.chunkExists(jobId: jobId, index: chunk.chunkIndex, in: database) {
            return .refused(.alreadyApplied)
        }
        return .admitted(
            AdmittedJob(
                reverts: try job.decode(column: "reverts", as: String?.self),
                overwriteChanged: try job.decode(column: "overwrite_changed", as: Int.self) != 0,
                preview: try job.decode(column: "preview", as: Int.self) != 0,
                applies: try job.decode(column: "applies", as: String?.self),
                braked: try job.decodeNil(column: "max_failed") == false))
    }

    /// Sets each row's non-empty values on its record, keeping each record's before-image (unless
    /// `keepingBeforeImages` is false: the benchmarks' baseline); returns the rows whose record does not exist.
    ///
    /// One statement per chunk, whatever its size: the rows travel as one JSON array bound as a
    /// single parameter (`[[row, id, value, null, …], …]`), unpacked by the database into a common table
    /// expression joined to the table. Binding each value instead cost a third of the ceiling's time in
    /// encoding binds and parsing a statement of thousands of placeholders. On PostgreSQL the
    /// before-images are written by the same statement (a data-modifying `WITH`, which reads the records
    /// as they were before the update); SQLite has no such `WITH` and runs two.
    ///
    /// The statements answer with how many rows they changed, not which: when that is every row, no
    /// record was missing, and only otherwise does a query ask which rows found none. Handing back every
    /// id found, to be decoded and looked up again, cost the processor more than the count it needed.
    public static func applyRows(
        _ rows: [BackfillRow], action: BackfillAction, jobId: String, keepingBeforeImages: Bool = true,
        flavor: SQLFlavor, in database: any SQLDatabase
    ) async throws -> [Int: String] {
        guard let key = action.keyColumn, !rows.isEmpty else { return [:] }
        let columns = setColumns(rows, of: action)
        let table = action.table
        let values = rowValues(rows, key: key, columns: columns, flavor: flavor)
        var update: SQLQueryString = "UPDATE \(ident: table) SET version = \(ident: table).version + 1"
        for column in columns {
            update +=
                ", \(ident: column.databaseColumn) = COALESCE(v.\(ident: column.databaseColumn), \(ident: table).\(ident: column.databaseColumn))"
        }
        update += " FROM v WHERE \(ident: table).id = v.id"
        let changeable = action.changeableColumns
        let images: SQLQueryString = """
            \(BeforeImages.insertColumns) SELECT \(bind: jobId), CAST(v.row_number AS BIGINT), t.id, \(BeforeImages.mask(changeable, setting: columns.map(\.databaseColumn), of: "v")),
                \(BeforeImages.snapshot(changeable, of: "t", flavor: flavor)), t.version + 1
            FROM v JOIN \(ident: table) AS t ON t.id = v.id
            """
        // The records changed. With an id named twice in `rows` it is fewer than the rows that found one
        // (a record is updated once), so it equals the rows only when every row found its record.
        let tables: SQLQueryString
        switch (keepingBeforeImages, flavor) {
        case (true, .postgres): tables = "\(values), images AS (\(images))"
        case (true, .sqlite):
            try await database.raw("WITH \(values) \(images)").run()
            tables = values
        case (false, _): tables = values
        }
        let changed = try await rowsWritten(by: update, after: tables, flavor: flavor, in: database)
        return try await missing(rows, changed: changed, values: values, action: action, in: database)
    }

    /// The rows of `rows` (unpacked by `values`, ``rowValues(_:key:columns:flavor:)``) whose record does
    /// not exist, each with its error, when a statement over them changed `changed` rows: none when
    /// that is every row (each row changes at most its one record), else asked of the database.
    static func missing(
        _ rows: [BackfillRow], changed: Int, values: SQLQueryString, action: BackfillAction,
        in database: any SQLDatabase
    ) async throws -> [Int: String] {
        if changed == rows.count { return [:] }
        let found = try await database.raw(
            "WITH \(values) SELECT t.id FROM v JOIN \(ident: action.table) AS t ON t.id = v.id"
        ).all().map { try $0.decode(column: "id", as: String.self) }
        return missing(rows, found: Set(found), action: action)
    }

    /// The action's updatable columns that some row of `rows` sets, in the action's order: the only
    /// ones a chunk's statement unpacks and writes. A file sets few of an action's columns (a
    /// 1,000,000-row booking-date file, two of six), and unpacking and coalescing the others, null on
    /// every row, was a quarter of SQLite's work per chunk.
    static func setColumns(_ rows: [BackfillRow], of action: BackfillAction) -> [ActionColumn] {
        action.updatableColumns.filter { column in rows.contains { $0.fields[column.name] != nil } }
    }

    /// The common table expression `v(row_number, id, <column>…)` of `rows`: one JSON array bound as a
    /// single parameter, unpacked by the database (NULL where a row leaves a column as it is).
    static func rowValues(
        _ rows: [BackfillRow], key: ActionColumn, columns: [ActionColumn], flavor: SQLFlavor
    ) -> SQLQueryString {
        var json = JSONRowsBuilder(reservingBytes: rows.count * 72)
        for row in rows {
            json.startRow()
            json.add(row.rowNumber)
            json.add(row.fields[key.name] ?? "")
            for column in columns { json.add(row.fields[column.name]) }
        }
        let names = ["row_number", "id"] + columns.map(\.databaseColumn)
        var values: SQLQueryString = "v(\(idents: names, joinedBy: ", ")) AS (SELECT "
        for position in names.indices {
            values += position == 0 ? "" : ", "
            values += "e ->> \(literal: position)"
        }
        values += " FROM \(JSONRows.source(json.text, flavor: flavor)))"
        return values
    }

    /// The rows of `rows` whose record is not among `found`, each with its error.
    static func missing(_ rows: [BackfillRow], found: Set<String>, action: BackfillAction) -> [Int: String] {
        let key = action.keyColumn?.name ?? ""
        var failures: [Int: String] = [:]
        for row in rows {
            let id = row.fields[key] ?? ""
            if !found.contains(id) { failures[row.rowNumber] = "\(action.recordName) \(id) does not exist" }
        }
        return failures
    }

    /// Runs a file-less action, keeping the before-image of every record it changes (numbered in id
    /// order); returns how many records it changed.
    static func applyFileless(
        _ action: BackfillAction, jobId: String, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Int {
        guard action == .bookingDateFromCreated else { throw UnknownAction(name: action.name) }
        try await database.raw(
            """
            \(BeforeImages.insertColumns) SELECT \(bind: jobId), ROW_NUMBER() OVER (ORDER BY t.id), t.id, '1',
                \(BeforeImages.snapshot(action.changeableColumns, of: "t", flavor: flavor)), t.version + 1
            FROM rate_plan_charges AS t WHERE t.booking_date IS NULL
            """
        ).run()
        let update: SQLQueryString = """
            UPDATE rate_plan_charges SET booking_date = created_on, version = version + 1 WHERE booking_date IS NULL
            """
        return try await rowsWritten(by: update, flavor: flavor, in: database)
    }

    /// Runs `statement` (an insert or an update), after the common table expressions `tables` if any,
    /// and returns how many rows it wrote: PostgreSQL counts them in the same statement (a
    /// data-modifying `WITH … RETURNING 1`), SQLite answers `changes()` next.
    static func rowsWritten(
        by statement: SQLQueryString, after tables: SQLQueryString? = nil, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Int {
        switch flavor {
        case .postgres:
            let with: SQLQueryString = tables.map { "WITH \($0), " } ?? "WITH "
            return try await database.raw("\(with)written AS (\(statement) RETURNING 1) SELECT COUNT(*) AS written FROM written")
                .first()?.decode(column: "written", as: Int.self) ?? 0
        case .sqlite:
            let with: SQLQueryString = tables.map { "WITH \($0) " } ?? ""
            try await database.raw("\(with)\(statement)").run()
            return try await database.raw("SELECT changes() AS written").first()?.decode(column: "written", as: Int.self) ?? 0
        }
    }
}

/// A chunk or request naming an action this version does not know.
public struct UnknownAction: Error, CustomStringConvertible {
    public let name: String

    public init(name: String) {
        self.name = name
    }
    public var description: String {
        "unknown backfill action \"\(name)\"; known: \(BackfillAction.all.map(\.name).joined(separator: ", "))"
    }
}
