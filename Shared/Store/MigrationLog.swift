import JobstreamMessages
import SQLKit

/// The migration log in the database: the migrations, who coordinates each, and their plans.
///
/// At most one migration is active (Accepted or In progress) at a time. Writes that belong to a
/// migration's coordinator are conditional on still owning it, as in ``BackfillJobLog``.
public struct MigrationLog: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    static let columns = """
        migration_id, cutover_date, generated_by, status, submitted_at, start_time, end_time, progress, slice_size,
        slice_count, charges_in_scope, schedules_generated, warnings, error, owner, lease_until, updated_at
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
    public func insert(_ migration: MigrationRecord) async throws -> InsertOutcome {
        let flavor = store.flavor
        return try await store.transaction { database in
            if flavor == .postgres {
                try await database.raw("SELECT pg_advisory_xact_lock(7031989)").run()
            }
            if try await database.raw("""
                SELECT 1 AS found FROM migrations WHERE migration_id = \(bind: migration.migrationId)
                """).first() != nil { return .repeated }
            var record = migration
            let active = try await database.raw("""
                SELECT migration_id, cutover_date FROM migrations WHERE status IN (\(binds: Self.activeStatuses)) LIMIT 1
                """).first()
            var outcome = InsertOutcome.inserted
            if let active {
                let activeId = try active.decode(column: "migration_id", as: String.self)
                let cutover = try active.decode(column: "cutover_date", as: String.self)
                record.status = .error
                record.error = "refused: migration \(activeId) (cutover \(cutover)) is in progress; one migration runs at a time"
                record.startTime = record.submittedAt
                record.endTime = record.submittedAt
                record.owner = nil
                record.leaseUntil = 0
                outcome = .refused(activeId: activeId)
            }
            let values: [any Encodable & Sendable] = [
                record.migrationId, record.cutoverDate, record.generatedBy, record.status.rawValue, record.submittedAt,
                record.startTime, record.endTime, record.progress, record.sliceSize, record.sliceCount,
                record.chargesInScope, record.schedulesGenerated, record.warnings, record.error, record.owner,
                record.leaseUntil, record.updatedAt,
            ]
            try await database.raw("INSERT INTO migrations (\(unsafeRaw: Self.columns)) VALUES (\(binds: values))").run()
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
            try await database.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM migrations WHERE status IN (\(binds: Self.activeStatuses))
                ORDER BY submitted_at LIMIT 1
                """).first(decoding: MigrationRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Migrations, newest first.
    public func list(limit: Int) async throws -> [MigrationRecord] {
        try await store.withDatabase { database in
            try await database.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM migrations ORDER BY submitted_at DESC, migration_id LIMIT \(literal: limit)
                """).all(decoding: MigrationRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// Writes the migration's state if `owner` still owns it, extending the claim; false if it does not.
    public func save(_ migration: MigrationRecord, owner: String, leaseUntil: Int) async throws -> Bool {
        try await store.withDatabase { database in
            try await Self.save(migration, owner: owner, leaseUntil: leaseUntil, in: database)
        }
    }

    static func save(_ migration: MigrationRecord, owner: String, leaseUntil: Int, in database: any SQLDatabase) async throws -> Bool {
        let updated = try await database.raw("""
            UPDATE migrations SET status = \(bind: migration.status.rawValue), start_time = \(bind: migration.startTime),
                end_time = \(bind: migration.endTime), progress = \(bind: migration.progress),
                slice_count = \(bind: migration.sliceCount), charges_in_scope = \(bind: migration.chargesInScope),
                schedules_generated = \(bind: migration.schedulesGenerated), warnings = \(bind: migration.warnings),
                error = \(bind: migration.error), lease_until = \(bind: leaseUntil), updated_at = \(bind: epochMilliseconds())
            WHERE migration_id = \(bind: migration.migrationId) AND owner = \(bind: owner) RETURNING migration_id
            """).all()
        return !updated.isEmpty
    }

    /// Records the plan and the move to In progress together, if `owner` still owns the migration;
    /// false, and nothing recorded, if it does not (another runner took it over meanwhile).
    public func savePlan(_ migration: MigrationRecord, slices: [SlicePlan], owner: String, leaseUntil: Int) async throws -> Bool {
        try await store.transaction { database in
            guard try await Self.save(migration, owner: owner, leaseUntil: leaseUntil, in: database) else { return false }
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
            return true
        }
    }

    static let claims = JobClaims(table: "migrations", idColumn: "migration_id",
                                  activeStatuses: activeStatuses,
                                  columns: columns)

    /// Extends `owner`'s claim and returns the migration as it is now, or nil if `owner` lost it.
    public func renew(_ id: String, owner: String, leaseUntil: Int) async throws -> MigrationRecord? {
        try await store.withDatabase {
            try await Self.claims.renew(id, owner: owner, leaseUntil: leaseUntil, as: MigrationRecord.self, in: $0)
        }
    }

    /// Gives up a claim at shutdown so another runner can take the migration over at once.
    public func release(_ id: String, owner: String) async throws {
        try await store.withDatabase { try await Self.claims.release(id, owner: owner, in: $0) }
    }

    /// Claims every active migration whose claim has lapsed (its owner died or let go); returns their ids.
    public func claimOrphans(owner: String, now: Int, leaseUntil: Int) async throws -> [String] {
        try await store.withDatabase { try await Self.claims.claimOrphans(owner: owner, now: now, leaseUntil: leaseUntil, in: $0) }
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
    /// Records a migration as Error with its reason, whoever owns it, unless it has ended already.
    public func endInError(_ migration: MigrationRecord) async throws {
        try await store.withDatabase { database in
            try await database.raw("""
                UPDATE migrations SET status = 'Error', error = \(bind: migration.error), end_time = \(bind: migration.endTime),
                    lease_until = 0, updated_at = \(bind: epochMilliseconds())
                WHERE migration_id = \(bind: migration.migrationId) AND status IN (\(binds: Self.activeStatuses))
                """).run()
        }
    }
}
