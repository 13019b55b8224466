import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// The migration log in the database: the migrations, who coordinates each, and their plans.
///
/// At most one migration is active (Accepted or In progress) at a time. Writes that belong to a
/// migration's coordinator are conditional on still owning it, as for a backfill job.
public struct MigrationLog: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    static let columns = """
        migration_id, cutover_date, generated_by, status, submitted_at, start_time, end_time, progress, slice_size,
        slice_count, charges_in_scope, schedules_generated, warnings, error, owner, lease_until, updated_at, epoch, takeovers,
        sequence, published_sequence, preview
        """
    /// Accepted and In progress: the statuses of a migration that has not ended.
    static let activeStatuses = MigrationStatus.allCases.filter { !$0.isTerminal }.map(\.rawValue)

    /// What became of a request to add a migration.
    public enum InsertOutcome: Sendable, Equatable {
        case inserted
        /// A migration with this id exists already (a repeated request).
        case repeated
        /// Another migration is active; the request was logged as Error saying so.
        case refused(activeId: String)
    }

    /// Adds `migration` unless another migration is active, in which case it is logged as Error with
    /// the reason. Atomic: two requests at once never both start.
    public func insert(_ migration: MigrationRecord, leaseMilliseconds: Int) async throws -> InsertOutcome {
        let flavor = store.flavor
        let now = JobClaims.now(flavor)
        return try await store.transaction { database in
            if flavor == .postgres {
                try await database.raw("SELECT pg_advisory_xact_lock(7031989)").run()
            }
            if try await database.raw(
                """
                SELECT 1 AS found FROM migrations WHERE migration_id = \(bind: migration.migrationId)
                """
            ).first() != nil {
                return .repeated
            }
            var record = migration
            let active = try await database.raw(
                """
                SELECT migration_id, cutover_date FROM migrations WHERE status IN (\(binds: Self.activeStatuses)) LIMIT 1
                """
            ).first()
            var outcome = InsertOutcome.inserted
            if let active {
                let activeId = try active.decode(column: "migration_id", as: String.self)
                let cutover = try active.decode(column: "cutover_date", as: String.self)
                record.status = .error
                record.error = "refused: migration \(activeId) (cutover \(cutover)) is in progress; one migration runs at a time"
                record.startTime = record.submittedAt
                record.endTime = record.submittedAt
                record.owner = nil
                outcome = .refused(activeId: activeId)
            }
            let values: [any Encodable & Sendable] = [
                record.migrationId, record.cutoverDate, record.generatedBy, record.status.rawValue, record.submittedAt,
                record.startTime, record.endTime, record.progress, record.sliceSize, record.sliceCount,
                record.chargesInScope, record.schedulesGenerated, record.warnings, record.error, record.owner,
            ]
            let lease: SQLQueryString = record.owner == nil ? "0" : "\(now) + \(bind: leaseMilliseconds)"
            try await database.raw(
                """
                INSERT INTO migrations (\(unsafeRaw: Self.columns)) VALUES (\(binds: values), \(lease), \(now), 1, 0, 1, 0,
                    \(bind: record.preview))
                """
            ).run()
            return outcome
        }
    }

    /// One migration, or nil.
    public func migration(_ id: String) async throws -> MigrationRecord? {
        try await store.withDatabase { database in
            try await database.raw("SELECT \(unsafeRaw: Self.columns) FROM migrations WHERE migration_id = \(bind: id)")
                .first(decoding: MigrationRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// The migration that is Accepted or In progress, if any.
    public func active() async throws -> MigrationRecord? {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM migrations WHERE status IN (\(binds: Self.activeStatuses))
                ORDER BY submitted_at LIMIT 1
                """
            ).first(decoding: MigrationRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Migrations, newest first.
    public func list(limit: Int) async throws -> [MigrationRecord] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM migrations ORDER BY submitted_at DESC, migration_id LIMIT \(literal: limit)
                """
            ).all(decoding: MigrationRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Writes the migration's state if `claim` still holds it, extending the claim by
    /// `leaseMilliseconds` (0: letting go) and counting the migration as moved on; returns the
    /// state's sequence, or nil if the claim is lost.
    public func save(_ migration: MigrationRecord, claim: JobClaim, leaseMilliseconds: Int) async throws -> Int? {
        let flavor = store.flavor
        return try await store.withDatabase { database in
            try await Self.save(migration, claim: claim, leaseMilliseconds: leaseMilliseconds, flavor: flavor, in: database)
        }
    }

    static func save(
        _ migration: MigrationRecord, claim: JobClaim, leaseMilliseconds: Int, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws -> Int? {
        let now = JobClaims.now(flavor)
        let lease: SQLQueryString = leaseMilliseconds > 0 ? "\(now) + \(bind: leaseMilliseconds)" : "0"
        return try await database.raw(
            """
            UPDATE migrations SET status = \(bind: migration.status.rawValue), start_time = \(bind: migration.startTime),
                end_time = \(bind: migration.endTime), progress = \(bind: migration.progress),
                slice_count = \(bind: migration.sliceCount), charges_in_scope = \(bind: migration.chargesInScope),
                schedules_generated = \(bind: migration.schedulesGenerated), warnings = \(bind: migration.warnings),
                error = \(bind: migration.error), lease_until = \(lease), updated_at = \(now), takeovers = 0,
                sequence = sequence + 1
            WHERE \(claims.held(migration.migrationId, by: claim)) RETURNING sequence
            """
        ).first()?.decode(column: "sequence", as: Int.self)
    }

    /// Records the plan and the move to In progress together, if `owner` still owns the migration;
    /// false, and nothing recorded, if it does not (another runner took it over meanwhile).
    public func savePlan(
        _ migration: MigrationRecord, slices: [SlicePlan], claim: JobClaim,
        leaseMilliseconds: Int
    ) async throws -> Int? {
        let flavor = store.flavor
        return try await store.transaction { database in
            guard
                let sequence = try await Self.save(
                    migration, claim: claim, leaseMilliseconds: leaseMilliseconds,
                    flavor: flavor, in: database)
            else { return nil }
            var start = 0
            while start < slices.count {
                let batch = slices[start..<min(start + 500, slices.count)]
                var query: SQLQueryString = """
                    INSERT INTO migration_slices (migration_id, slice_index, after_charge, through_charge, planned_charges) VALUES
                    """
                for (position, slice) in batch.enumerated() {
                    let values: [any Encodable & Sendable] = [
                        migration.migrationId, slice.index, slice.afterCharge, slice.throughCharge, slice.plannedCharges,
                    ]
                    query += position == 0 ? " (\(binds: values))" : ", (\(binds: values))"
                }
                try await database.raw(query).run()
                start += batch.count
            }
            return sequence
        }
    }

    static let claims = JobClaims(
        table: "migrations", idColumn: "migration_id", activeStatuses: activeStatuses,
        columns: columns, givenUpStatus: MigrationStatus.error.rawValue, endColumn: "end_time")

    /// Extends the claim and returns the migration as it is now, or nil if the claim is lost.
    public func renew(_ id: String, claim: JobClaim, leaseMilliseconds: Int) async throws -> MigrationRecord? {
        try await store.withDatabase {
            try await Self.claims.renew(
                id, claim: claim, leaseMilliseconds: leaseMilliseconds, as: MigrationRecord.self,
                flavor: store.flavor, in: $0)
        }
    }

    /// Gives up a claim at shutdown so another runner can take the migration over at once.
    public func release(_ id: String, claim: JobClaim) async throws {
        try await store.withDatabase { try await Self.claims.release(id, claim: claim, in: $0) }
    }

    /// Claims every active migration whose claim has lapsed (its owner died or let go), or ends one
    /// taken over `maxTakeovers` times in a row without progress as Error.
    public func claimOrphans(owner: String, leaseMilliseconds: Int, maxTakeovers: Int) async throws -> ClaimedOrphans {
        try await store.transaction {
            try await Self.claims.claimOrphans(
                owner: owner, leaseMilliseconds: leaseMilliseconds, maxTakeovers: maxTakeovers,
                flavor: store.flavor, in: $0)
        }
    }

    /// Notes that the state numbered `sequence` is on the status topic.
    public func published(_ id: String, sequence: Int) async throws {
        try await store.withDatabase { try await Self.claims.published(id, sequence: sequence, in: $0) }
    }

    /// Migrations whose latest state is not on the status topic and has not changed for `quietMilliseconds`.
    public func unpublished(quietMilliseconds: Int, limit: Int = 100) async throws -> [MigrationRecord] {
        try await store.withDatabase {
            try await Self.claims.unpublished(
                quietMilliseconds: quietMilliseconds, limit: limit, as: MigrationRecord.self,
                flavor: store.flavor, in: $0)
        }
    }
}

/// One slice of a migration's plan: the charges with ids in (afterCharge, throughCharge] — from the
/// first when `afterCharge` is nil, to the last when `throughCharge` is nil.
public struct SlicePlan: Sendable, Hashable {
    public var index: Int
    public var afterCharge: String?
    public var throughCharge: String?
    /// Charges in scope in the range when planned.
    public var plannedCharges: Int

    public init(index: Int, afterCharge: String?, throughCharge: String?, plannedCharges: Int) {
        self.index = index
        self.afterCharge = afterCharge
        self.throughCharge = throughCharge
        self.plannedCharges = plannedCharges
    }
}

extension MigrationLog {
    /// Records a migration as Error with its reason if `claim` still holds it and it has not ended;
    /// returns the state's sequence, or nil if it was not recorded.
    public func endInError(_ migration: MigrationRecord, claim: JobClaim) async throws -> Int? {
        let now = JobClaims.now(store.flavor)
        return try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE migrations SET status = 'Error', error = \(bind: migration.error), end_time = \(bind: migration.endTime),
                    lease_until = 0, updated_at = \(now), sequence = sequence + 1
                WHERE \(Self.claims.held(migration.migrationId, by: claim)) AND status IN (\(binds: Self.activeStatuses))
                RETURNING sequence
                """
            ).first()?.decode(column: "sequence", as: Int.self)
        }
    }
}
