import JobstreamStore
import SQLKit

/// What a backfill changed, kept so it can be put back: for each row it applied, the record's values
/// of the action's changeable columns before the row (``BackfillAction/changeableColumns``), which of
/// them the row set, and the version the row left the record at (table `backfill_before_images`).
///
/// Images are written by the statement that applies the row, in its transaction, so a row applied is
/// never without its image. A revert puts back only the columns the row set, and only on a record still
/// at the version the row left it at: a record changed since is reported, not overwritten.
public struct BeforeImages: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// One row's image, as a revert reads it.
    public struct Image: Sendable, Hashable {
        public var rowNumber: Int
        public var recordId: String
    }

    /// How many rows of `jobId` changed a record.
    public func count(_ jobId: String) async throws -> Int {
        try await store.withDatabase { try await Self.count(jobId, in: $0) }
    }

    static func count(_ jobId: String, in database: any SQLDatabase) async throws -> Int {
        try await database.raw("SELECT COUNT(*) AS images FROM backfill_before_images WHERE job_id = \(bind: jobId)")
            .first()?.decode(column: "images", as: Int.self) ?? 0
    }

    /// Images of `jobId` in row order, `limit` at a time, starting after row `after`.
    public func images(_ jobId: String, after: Int, limit: Int) async throws -> [Image] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT row_number, record_id FROM backfill_before_images
                WHERE job_id = \(bind: jobId) AND row_number > \(bind: after) ORDER BY row_number LIMIT \(literal: limit)
                """
            ).all().map {
                Image(
                    rowNumber: try $0.decode(column: "row_number", as: Int.self),
                    recordId: try $0.decode(column: "record_id", as: String.self))
            }
        }
    }

    // MARK: SQL shared by the statements that write images

    /// The values of `columns` of the row `alias` as one JSON array text: `["2025-01-15", null]`.
    static func snapshot(_ columns: [String], of alias: String, flavor: SQLFlavor) -> SQLQueryString {
        var values: SQLQueryString = ""
        for (position, column) in columns.enumerated() {
            values += position == 0 ? "" : ", "
            values += "\(ident: alias).\(ident: column)"
        }
        switch flavor {
        case .sqlite: return "json_array(\(values))"
        case .postgres: return "CAST(json_build_array(\(values)) AS TEXT)"
        }
    }

    /// The value at `position` of the JSON array text `expression`, as text (NULL for null).
    static func element(_ position: Int, of expression: SQLQueryString, flavor: SQLFlavor) -> SQLQueryString {
        switch flavor {
        case .sqlite: "(\(expression) ->> \(literal: position))"
        case .postgres: "(CAST(\(expression) AS json) ->> \(literal: position))"
        }
    }

    /// The `changed` mask, one character per column of `columns`, of a row whose new values are the
    /// columns of `alias` (NULL: not set); `alias` has only the columns of `setting`, and the others are
    /// `'0'` on every row.
    static func mask(_ columns: [String], setting: [String], of alias: String) -> SQLQueryString {
        var mask: SQLQueryString = ""
        for (position, column) in columns.enumerated() {
            mask += position == 0 ? "" : " || "
            mask +=
                setting.contains(column) ? "(CASE WHEN \(ident: alias).\(ident: column) IS NULL THEN '0' ELSE '1' END)" : "'0'"
        }
        return columns.isEmpty ? "''" : mask
    }

    static let insertColumns: SQLQueryString =
        "INSERT INTO backfill_before_images (job_id, row_number, record_id, changed, before, version_after)"
}
