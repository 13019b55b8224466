import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// What became of a slice a runner was given.
public enum SliceOutcome: Sendable, Equatable {
    /// Generated now.
    case generated(SliceCounts)
    /// Done before (a redelivery, or a re-published slice after a takeover): nothing written this time.
    case alreadyDone
    /// The migration has ended (e.g. in Error): the slice is not generated.
    case skipped(reason: String)
    /// No such migration or slice in the log.
    case unknown
}

/// What one slice generated.
public struct SliceCounts: Sendable, Hashable {
    public var charges: Int
    public var schedules: Int
    public var warnings: [MigrationWarning]
}

/// Generates the revenue schedules of one slice of a migration — exactly once.
///
/// The charges are read and their schedules built outside the write transaction (so runners sharing
/// an SQLite file build in parallel and only take turns writing); the transaction then marks the
/// slice done (stopping if it was), writes every schedule — replacing an earlier migration's
/// schedule of the same charge and cutover date, one version up — removes the schedules of charges
/// that now warn, and records the warnings. All of it commits, or none.
public struct SliceGenerator: Sendable {
    public let store: Store
    /// Written to the slice as who did it.
    public let instance: String

    public init(store: Store, instance: String) {
        self.store = store
        self.instance = instance
    }

    public func generate(migrationId: String, sliceIndex: Int) async throws -> SliceOutcome {
        guard let migration = try await MigrationLog(store: store).migration(migrationId),
            let slice = try await store.withDatabase({ try await MigrationLedger.slice(migrationId, index: sliceIndex, in: $0) })
        else { return .unknown }
        if slice.isDone { return .alreadyDone }
        if migration.status.isTerminal { return .skipped(reason: "the migration is \(migration.status.rawValue)") }
        let cutover = migration.cutover
        let charges = try await readCharges(slice.plan, cutover: cutover)
        let builder = RevenueScheduleBuilder(cutover: cutover)
        var schedules: [RevenueSchedule] = []
        var warnings: [MigrationWarning] = []
        schedules.reserveCapacity(charges.count)
        for charge in charges {
            switch builder.build(charge) {
            case .schedule(let schedule): schedules.append(schedule)
            case .warning(let warning): warnings.append(warning)
            }
        }
        let counts = SliceCounts(charges: charges.count, schedules: schedules.count, warnings: warnings)
        let flavor = store.flavor
        return try await store.transaction { database in
            let lock = flavor == .postgres ? " FOR SHARE" : ""
            let status = try await database.raw(
                """
                SELECT status FROM migrations WHERE migration_id = \(bind: migrationId)\(unsafeRaw: lock)
                """
            ).first()?.decode(column: "status", as: String.self)
            if let status = status.flatMap(MigrationStatus.init(rawValue:)), status.isTerminal {
                return .skipped(reason: "the migration is \(status.rawValue)")
            }
            guard
                try await MigrationLedger.markDone(
                    migrationId, index: sliceIndex, charges: counts.charges,
                    schedules: counts.schedules, warnings: warnings.count,
                    by: instance, in: database)
            else { return .alreadyDone }
            // A preview counts what it would generate and records its warnings; it writes no schedule.
            let writing = migration.preview == 0
            if writing {
                try await Self.write(schedules, migrationId: migrationId, cutover: cutover, flavor: flavor, in: database)
            }
            try await Self.record(
                warnings, migrationId: migrationId, cutover: cutover, removingSchedules: writing, flavor: flavor, in: database)
            return .generated(counts)
        }
    }

    /// The charges of the slice in scope (created on or before the cutover date), in id order.
    func readCharges(_ slice: SlicePlan, cutover: CalendarDate) async throws -> [MigrationCharge] {
        try await store.withDatabase { database in
            var query: SQLQueryString = """
                SELECT id, booking_date, accounting_code, revenue_recognition_rule, amount, service_start_date, service_end_date
                FROM rate_plan_charges WHERE created_on <= \(bind: cutover.description)
                """
            if let after = slice.afterCharge { query += " AND id > \(bind: after)" }
            if let through = slice.throughCharge { query += " AND id <= \(bind: through)" }
            query += " ORDER BY id"
            return try await database.raw(query).all().map { row in
                MigrationCharge(
                    id: try row.decode(column: "id", as: String.self),
                    bookingDate: try row.decode(column: "booking_date", as: String?.self),
                    accountingCode: try row.decode(column: "accounting_code", as: String?.self),
                    recognitionRule: try row.decode(column: "revenue_recognition_rule", as: String?.self),
                    amount: try row.decode(column: "amount", as: String.self),
                    serviceStart: try row.decode(column: "service_start_date", as: String?.self),
                    serviceEnd: try row.decode(column: "service_end_date", as: String?.self))
            }
        }
    }

    /// Inserts or replaces the schedules in one statement, the rows bound as one JSON parameter
    /// (`[[charge, rule, code, amount, recognized, open, start, end, [lines…]], …]`).
    static func write(
        _ schedules: [RevenueSchedule], migrationId: String, cutover: CalendarDate, flavor: SQLFlavor,
        in database: any SQLDatabase
    ) async throws {
        guard !schedules.isEmpty else { return }
        var json = "["
        json.reserveCapacity(schedules.count * 700)
        for (index, schedule) in schedules.enumerated() {
            json += index == 0 ? "[" : ",["
            JSONText.append(schedule.chargeId, to: &json)
            json += ","
            JSONText.append(schedule.rule.rawValue, to: &json)
            json += ","
            JSONText.append(schedule.accountingCode, to: &json)
            let recognized = schedule.recognizedAmount
            json += ",\"\(schedule.amount)\",\"\(recognized)\",\"\(schedule.amount - recognized)\""
            json += ",\"\(schedule.serviceStart)\",\"\(schedule.serviceEnd)\","
            json += schedule.linesJSON
            json += "]"
        }
        json += "]"
        try await database.raw(
            """
            INSERT INTO revenue_schedules (cutover_date, charge_id, migration_id, recognition_rule, accounting_code, amount,
                recognized_amount, open_amount, service_start_date, service_end_date, lines, generated_at)
            SELECT \(bind: cutover.description), e ->> 0, \(bind: migrationId), e ->> 1, e ->> 2, e ->> 3, e ->> 4, e ->> 5,
                e ->> 6, e ->> 7, CAST(e -> 8 AS TEXT), \(bind: Date().epochMilliseconds)
            FROM \(JSONRows.source(json, flavor: flavor)) WHERE true
            ON CONFLICT (cutover_date, charge_id) DO UPDATE SET migration_id = excluded.migration_id,
                recognition_rule = excluded.recognition_rule, accounting_code = excluded.accounting_code,
                amount = excluded.amount, recognized_amount = excluded.recognized_amount, open_amount = excluded.open_amount,
                service_start_date = excluded.service_start_date, service_end_date = excluded.service_end_date,
                lines = excluded.lines, generated_at = excluded.generated_at, version = revenue_schedules.version + 1
            """
        ).run()
    }

    /// Records the warnings, and (unless a preview's) removes any schedule an earlier migration of this
    /// cutover date made for those charges: the revenue side then matches what the billing records allow today.
    static func record(
        _ warnings: [MigrationWarning], migrationId: String, cutover: CalendarDate, removingSchedules: Bool = true,
        flavor: SQLFlavor, in database: any SQLDatabase
    ) async throws {
        guard !warnings.isEmpty else { return }
        var json = "["
        for (index, warning) in warnings.enumerated() {
            json += index == 0 ? "[" : ",["
            JSONText.append(warning.chargeId, to: &json)
            json += ","
            JSONText.append(warning.reason, to: &json)
            json += "]"
        }
        json += "]"
        try await database.raw(
            """
            INSERT INTO migration_warnings (migration_id, charge_id, reason)
            SELECT \(bind: migrationId), e ->> 0, e ->> 1 FROM \(JSONRows.source(json, flavor: flavor)) WHERE true
            ON CONFLICT (migration_id, charge_id) DO NOTHING
            """
        ).run()
        guard removingSchedules else { return }
        try await database.raw(
            """
            DELETE FROM revenue_schedules WHERE cutover_date = \(bind: cutover.description)
                AND charge_id IN (SELECT e ->> 0 FROM \(JSONRows.source(json, flavor: flavor)))
            """
        ).run()
    }
}
