import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// What a migration's slices did, durably: which are done, by whom, with what counts, and the
/// warnings of the charges that could not be migrated.
public struct MigrationLedger: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// A migration's totals over its slices so far.
    public struct Progress: Sendable, Hashable {
        public var slices: Int
        public var slicesDone: Int
        /// Charges in scope: counted by the slices done, as planned for the others.
        public var chargesInScope: Int
        public var schedulesGenerated: Int
        public var warnings: Int

        /// Slices done as a whole percentage, 100 only when every slice is done.
        public var percent: Int {
            guard slices > 0 else { return 0 }
            return slicesDone == slices ? 100 : min(99, slicesDone * 100 / slices)
        }
    }

    public func progress(_ migrationId: String) async throws -> Progress {
        try await store.withDatabase { database in
            let row = try await database.raw(
                """
                SELECT COUNT(*) AS slices, COUNT(done_at) AS done,
                    CAST(COALESCE(SUM(COALESCE(charges, planned_charges)), 0) AS BIGINT) AS charges,
                    CAST(COALESCE(SUM(schedules), 0) AS BIGINT) AS schedules, CAST(COALESCE(SUM(warnings), 0) AS BIGINT) AS warnings
                FROM migration_slices WHERE migration_id = \(bind: migrationId)
                """
            ).first()
            // PostgreSQL sums BIGINT as NUMERIC: the casts keep every column an integer.
            return Progress(
                slices: try row?.decode(column: "slices", as: Int.self) ?? 0,
                slicesDone: try row?.decode(column: "done", as: Int.self) ?? 0,
                chargesInScope: try row?.decode(column: "charges", as: Int.self) ?? 0,
                schedulesGenerated: try row?.decode(column: "schedules", as: Int.self) ?? 0,
                warnings: try row?.decode(column: "warnings", as: Int.self) ?? 0)
        }
    }

    /// The slices not done yet.
    public func pendingSlices(_ migrationId: String) async throws -> [Int] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT slice_index FROM migration_slices WHERE migration_id = \(bind: migrationId) AND done_at IS NULL
                ORDER BY slice_index
                """
            ).all().map { try $0.decode(column: "slice_index", as: Int.self) }
        }
    }

    /// How many slices each runner instance did.
    public func slicesByRunner(_ migrationId: String) async throws -> [String: Int] {
        try await store.withDatabase { database in
            var counts: [String: Int] = [:]
            for row in try await database.raw(
                """
                SELECT applied_by, COUNT(*) AS n FROM migration_slices
                WHERE migration_id = \(bind: migrationId) AND done_at IS NOT NULL GROUP BY applied_by
                """
            ).all() {
                counts[try row.decode(column: "applied_by", as: String?.self) ?? "?"] = try row.decode(column: "n", as: Int.self)
            }
            return counts
        }
    }

    /// Warnings in charge order, `limit` at a time after `afterCharge`.
    public func warnings(_ migrationId: String, after afterCharge: String? = nil, limit: Int) async throws -> [MigrationWarning] {
        try await store.withDatabase { database in
            var query: SQLQueryString =
                "SELECT charge_id, reason FROM migration_warnings WHERE migration_id = \(bind: migrationId)"
            if let afterCharge { query += " AND charge_id > \(bind: afterCharge)" }
            query += " ORDER BY charge_id LIMIT \(literal: limit)"
            return try await database.raw(query).all().map {
                MigrationWarning(
                    chargeId: try $0.decode(column: "charge_id", as: String.self),
                    reason: try $0.decode(column: "reason", as: String.self))
            }
        }
    }

    // MARK: Inside a slice's transaction

    /// A slice as planned, and whether it is done.
    public struct Slice: Sendable, Hashable {
        public var plan: SlicePlan
        public var isDone: Bool
    }

    public static func slice(_ migrationId: String, index: Int, in database: any SQLDatabase) async throws -> Slice? {
        guard
            let row = try await database.raw(
                """
                SELECT after_charge, through_charge, planned_charges, done_at FROM migration_slices
                WHERE migration_id = \(bind: migrationId) AND slice_index = \(bind: index)
                """
            ).first()
        else { return nil }
        return Slice(
            plan: SlicePlan(
                index: index, afterCharge: try row.decode(column: "after_charge", as: String?.self),
                throughCharge: try row.decode(column: "through_charge", as: String?.self),
                plannedCharges: try row.decode(column: "planned_charges", as: Int.self)),
            isDone: try row.decode(column: "done_at", as: Int?.self) != nil)
    }

    /// Marks the slice done with its counts, unless it is done already; false then. Run first in the
    /// slice's transaction: on PostgreSQL a second runner doing the same slice waits here for the
    /// first to commit, then finds it done.
    public static func markDone(
        _ migrationId: String, index: Int, charges: Int, schedules: Int, warnings: Int,
        by instance: String, in database: any SQLDatabase
    ) async throws -> Bool {
        try await !database.raw(
            """
            UPDATE migration_slices SET done_at = \(bind: Date().epochMilliseconds), charges = \(bind: charges),
                schedules = \(bind: schedules), warnings = \(bind: warnings), applied_by = \(bind: instance)
            WHERE migration_id = \(bind: migrationId) AND slice_index = \(bind: index) AND done_at IS NULL
            RETURNING slice_index
            """
        ).all().isEmpty
    }
}
