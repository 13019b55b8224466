import Foundation
import JobstreamMessages
import JobstreamTestSupport
import Logging
import SQLKit
import Testing

@testable import JobstreamMigration
@testable import JobstreamStore

/// The databases every migration store test runs on: a fresh SQLite file each time, and PostgreSQL.
///
/// PostgreSQL: the database of JOBSTREAM_TEST_POSTGRES_URL with `_migration` appended to its name
/// (`make test` creates it), so these tests never share tables with the backfill tests running at
/// the same time.
enum MigrationTestStores {
    static let postgresURL = TestStores.postgresURL("_migration")
    static let kinds = TestStores.flavors("_migration")

    /// Runs `body` on a store emptied of migrations, and closes it however `body` ends.
    static func with(_ flavor: SQLFlavor, _ body: (Store) async throws -> Void) async throws {
        try await TestStores.with(
            flavor, database: "_migration",
            emptying: ["migrations", "migration_slices", "migration_warnings", "revenue_schedules"], body)
    }
}

@Suite("Migration plans, slices and log", .serialized)
struct SliceTests {
    let cutover = CalendarDate("2024-01-01")!
    /// The claim the migrations of these tests are inserted with.
    let me = JobClaim(owner: "me", epoch: 1)

    @Test("CI runs these on PostgreSQL too")
    func postgresInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(MigrationTestStores.postgresURL != nil, "CI must set JOBSTREAM_TEST_POSTGRES_URL")
        }
    }

    func newMigration(
        _ log: MigrationLog, sliceSize: Int = 1000, status: MigrationStatus = .inProgress
    ) async throws -> MigrationRecord {
        var migration = MigrationRecord(
            migrationId: UUID().uuidString, cutoverDate: cutover, generatedBy: "test", status: .accepted,
            submittedAt: Date().epochMilliseconds, sliceSize: sliceSize, owner: "me", leaseUntil: 0)
        #expect(try await log.insert(migration, leaseMilliseconds: 3_600_000) == .inserted)
        migration.status = status
        return migration
    }

    func count(_ store: Store, _ query: SQLQueryString) async throws -> Int {
        try await store.withDatabase { try await $0.raw(query).first()?.decode(column: "n", as: Int.self) ?? -1 }
    }

    @Test(
        "a plan covers every charge in scope once, in slices of the given size, the last one open-ended",
        arguments: MigrationTestStores.kinds)
    func plan(flavor: SQLFlavor) async throws {
        try await MigrationTestStores.with(flavor) { store in
            try await StoreSeeder(charges: 2500, invoiceItems: 0).seed(store)
            let inScope = try await count(store, "SELECT COUNT(*) AS n FROM rate_plan_charges WHERE created_on <= '2024-01-01'")
            #expect(inScope > 1000 && inScope < 2500, "the seed spreads creation over 2021–2024")
            let slices = try await SlicePlanner(store: store, sliceSize: 400).plan(cutover: cutover)
            #expect(slices.count == (inScope + 399) / 400)
            #expect(slices.reduce(0) { $0 + $1.plannedCharges } == inScope)
            #expect(slices.first?.afterCharge == nil && slices.last?.throughCharge == nil)
            for (previous, next) in zip(slices, slices.dropFirst()) {
                #expect(next.afterCharge == previous.throughCharge)
            }
            #expect(
                try await SlicePlanner(store: store, sliceSize: 400).plan(cutover: CalendarDate("1999-01-01")!)
                    == [SlicePlan(index: 0, afterCharge: nil, throughCharge: nil, plannedCharges: 0)])
        }
    }

    @Test(
        "each slice is generated once; a re-run of the cutover date replaces schedules, never duplicates them",
        arguments: MigrationTestStores.kinds)
    func slicesOnce(flavor: SQLFlavor) async throws {
        try await MigrationTestStores.with(flavor) { store in
            try await StoreSeeder(charges: 1500, invoiceItems: 0).seed(store)
            let log = MigrationLog(store: store), ledger = MigrationLedger(store: store)
            let generator = SliceGenerator(store: store, instance: "runner-a")

            func run() async throws -> MigrationRecord {
                let migration = try await newMigration(log, sliceSize: 300)
                let slices = try await SlicePlanner(store: store, sliceSize: 300).plan(cutover: cutover)
                #expect(try await log.savePlan(migration, slices: slices, claim: me, leaseMilliseconds: 3_600_000) != nil)
                for slice in slices {
                    guard
                        case .generated = try await generator.generate(
                            migrationId: migration.migrationId, sliceIndex: slice.index)
                    else {
                        Issue.record("slice \(slice.index) was not generated")
                        continue
                    }
                    #expect(
                        try await generator.generate(migrationId: migration.migrationId, sliceIndex: slice.index) == .alreadyDone)
                }
                var done = migration
                done.status = .completedWarning
                #expect(try await log.save(done, claim: me, leaseMilliseconds: 0) != nil)
                return migration
            }

            let first = try await run()
            let progress = try await ledger.progress(first.migrationId)
            let inScope = try await count(store, "SELECT COUNT(*) AS n FROM rate_plan_charges WHERE created_on <= '2024-01-01'")
            let noBooking = try await count(
                store, "SELECT COUNT(*) AS n FROM rate_plan_charges WHERE created_on <= '2024-01-01' AND booking_date IS NULL")
            #expect(progress.slicesDone == progress.slices && progress.percent == 100)
            #expect(progress.chargesInScope == inScope)
            #expect(progress.warnings == noBooking, "the seed's charges without a booking date are the warnings")
            #expect(progress.schedulesGenerated == inScope - noBooking)
            #expect(try await count(store, "SELECT COUNT(*) AS n FROM revenue_schedules") == inScope - noBooking)
            #expect(try await count(store, "SELECT MAX(version) AS n FROM revenue_schedules") == 1)
            #expect(
                try await ledger.warnings(first.migrationId, limit: 3).map(\.reason) == [
                    "no booking date", "no booking date", "no booking date",
                ])
            #expect(try await ledger.slicesByRunner(first.migrationId) == ["runner-a": progress.slices])

            // Between runs one charge gets its booking date and another loses its amount.
            let fixed = try #require(try await ledger.warnings(first.migrationId, limit: 1).first?.chargeId)
            let broken = try #require(
                try await store.withDatabase { database in
                    try await database.raw("SELECT charge_id FROM revenue_schedules ORDER BY charge_id LIMIT 1").first()?
                        .decode(column: "charge_id", as: String.self)
                })
            try await store.withDatabase { database in
                try await database.raw("UPDATE rate_plan_charges SET booking_date = created_on WHERE id = \(bind: fixed)").run()
                try await database.raw("UPDATE rate_plan_charges SET amount = 'n/a' WHERE id = \(bind: broken)").run()
            }
            let second = try await run()
            #expect(try await count(store, "SELECT COUNT(*) AS n FROM revenue_schedules") == inScope - noBooking)
            #expect(
                try await count(store, "SELECT MIN(version) AS n FROM revenue_schedules WHERE charge_id <> '\(unsafeRaw: fixed)'")
                    == 2)
            #expect(
                try await count(store, "SELECT version AS n FROM revenue_schedules WHERE charge_id = '\(unsafeRaw: fixed)'") == 1)
            #expect(
                try await count(store, "SELECT COUNT(*) AS n FROM revenue_schedules WHERE charge_id = '\(unsafeRaw: broken)'")
                    == 0,
                "a charge that warns now loses the schedule an earlier run gave it")
            #expect(
                try await ledger.warnings(second.migrationId, limit: 5000).contains(
                    MigrationWarning(chargeId: broken, reason: "amount \"n/a\" is not a decimal number")))
        }
    }

    @Test("a slice of an ended migration is not generated; an unknown slice is reported", arguments: MigrationTestStores.kinds)
    func endedAndUnknown(flavor: SQLFlavor) async throws {
        try await MigrationTestStores.with(flavor) { store in
            try await StoreSeeder(charges: 100, invoiceItems: 0).seed(store)
            let log = MigrationLog(store: store)
            var migration = try await newMigration(log)
            #expect(
                try await log.savePlan(
                    migration, slices: try await SlicePlanner(store: store, sliceSize: 1000).plan(cutover: cutover),
                    claim: me, leaseMilliseconds: 3_600_000) != nil)
            migration.status = .error
            migration.error = "the store failed"
            #expect(try await log.endInError(migration, claim: JobClaim(owner: "me", epoch: 2)) == nil, "only its claim ends it")
            #expect(try await log.endInError(migration, claim: me) != nil)
            let generator = SliceGenerator(store: store, instance: "runner-a")
            #expect(
                try await generator.generate(migrationId: migration.migrationId, sliceIndex: 0)
                    == .skipped(reason: "the migration is Error"))
            #expect(try await generator.generate(migrationId: migration.migrationId, sliceIndex: 7) == .unknown)
            #expect(try await generator.generate(migrationId: "nope", sliceIndex: 0) == .unknown)
            #expect(try await count(store, "SELECT COUNT(*) AS n FROM revenue_schedules") == 0)
        }
    }

    @Test(
        "one migration at a time: a request while one is active is logged as Error saying which",
        arguments: MigrationTestStores.kinds)
    func oneAtATime(flavor: SQLFlavor) async throws {
        try await MigrationTestStores.with(flavor) { store in
            let log = MigrationLog(store: store)
            let active = try await newMigration(log)
            #expect(
                try await log.insert(
                    MigrationRecord(
                        migrationId: active.migrationId, cutoverDate: cutover, generatedBy: "again",
                        status: .accepted, submittedAt: 1, sliceSize: 1, owner: nil, leaseUntil: 0),
                    leaseMilliseconds: 1000) == .repeated)
            let second = MigrationRecord(
                migrationId: "second", cutoverDate: cutover, generatedBy: "test", status: .accepted,
                submittedAt: Date().epochMilliseconds, sliceSize: 10, owner: "me", leaseUntil: 0)
            #expect(try await log.insert(second, leaseMilliseconds: 3_600_000) == .refused(activeId: active.migrationId))
            let refused = try #require(try await log.migration("second"))
            #expect(refused.status == .error)
            #expect(
                refused.error
                    == "refused: migration \(active.migrationId) (cutover 2024-01-01) is in progress; one migration runs at a time"
            )
            #expect(try await log.active()?.migrationId == active.migrationId)

            // A lapsed claim is taken over with a new epoch; a live one is not.
            #expect(try await log.claimOrphans(owner: "other", leaseMilliseconds: 1000, maxTakeovers: 5) == ClaimedOrphans())
            try await log.release(active.migrationId, claim: me)
            #expect(
                try await log.claimOrphans(owner: "other", leaseMilliseconds: 1000, maxTakeovers: 5)
                    == ClaimedOrphans(claimed: [active.migrationId]))
            #expect(try await log.migration(active.migrationId)?.claim == JobClaim(owner: "other", epoch: 2))
            #expect(try await log.renew(active.migrationId, claim: me, leaseMilliseconds: 1000) == nil, "the old owner lost it")
            let plan = [SlicePlan(index: 0, afterCharge: nil, throughCharge: nil, plannedCharges: 0)]
            #expect(try await log.savePlan(active, slices: plan, claim: me, leaseMilliseconds: 0) == nil)
            #expect(
                try await MigrationLedger(store: store).progress(active.migrationId).slices == 0,
                "a plan saved by a runner that lost the migration records nothing")

            var ended = try #require(try await log.migration(active.migrationId))
            ended.status = .completed
            let other = JobClaim(owner: "other", epoch: 2)
            #expect(
                try await log.save(ended, claim: other, leaseMilliseconds: 0) == ended.sequence + 1,
                "each save numbers a new state")
            #expect(try await log.active() == nil)
            #expect(
                try await log.insert(
                    MigrationRecord(
                        migrationId: "third", cutoverDate: cutover, generatedBy: "test", status: .accepted,
                        submittedAt: Date().epochMilliseconds, sliceSize: 10, owner: "me", leaseUntil: 0),
                    leaseMilliseconds: 1000) == .inserted)
            #expect(try await log.list(limit: 10).map(\.migrationId).first == "third", "newest first")
        }
    }
}
