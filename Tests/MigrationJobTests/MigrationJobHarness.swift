import Foundation
import JobstreamMessages
import JobstreamMigration
import JobstreamStore
import JobstreamTestSupport
import Logging
import SQLKit
import Synchronization
import Testing

/// Records what a migration sends instead of sending it. While `generates` is on, each slice is
/// generated at once, as a runner given it would; `onSlices` runs first, so a test can act at the
/// moment slices go out.
final class RecordingMigrationMessenger: MigrationMessenger {
    struct State {
        var sent: [[Int]] = []
        var events: [MigrationStatusEvent] = []
        var generates = true
    }

    let state = Mutex(State())
    let generator: SliceGenerator
    let onSlices: @Sendable ([MigrationSlice]) async throws -> Void

    init(store: Store, onSlices: @escaping @Sendable ([MigrationSlice]) async throws -> Void) {
        generator = SliceGenerator(store: store, instance: "runner-x")
        self.onSlices = onSlices
    }

    func sendSlices(_ slices: [MigrationSlice], of migrationId: String) async throws {
        try await onSlices(slices)
        let generates = state.withLock { state in
            state.sent.append(slices.map(\.sliceIndex))
            return state.generates
        }
        if generates {
            for slice in slices { _ = try await generator.generate(migrationId: migrationId, sliceIndex: slice.sliceIndex) }
        }
    }

    func announce(_ event: MigrationStatusEvent, of migrationId: String) async throws {
        state.withLock { $0.events.append(event) }
    }

    var events: [MigrationStatusEvent] { state.withLock { $0.events } }
    var statuses: [MigrationStatus] { events.map(\.status) }
    var sent: [[Int]] { state.withLock { $0.sent } }
}

/// One runner's migration logic on a temporary SQLite store with 45 seeded charges (five slices of
/// ten), a recording messenger and a fast clock: no broker.
struct MigrationJobHarness {
    let store: Store
    let messenger: RecordingMigrationMessenger
    let environment: MigrationEnvironment
    var log: MigrationLog { environment.log }
    let cutover = CalendarDate("2024-01-01")!

    static let instance = "runner-a"

    static func with(
        onSlices: @escaping @Sendable (_ harness: MigrationJobHarness, [MigrationSlice]) async throws -> Void = { _, _ in },
        _ body: (MigrationJobHarness) async throws -> Void
    ) async throws {
        let (store, folder) = try await TestStores.open(.sqlite)
        defer { folder.remove() }
        try await StoreSeeder(charges: 45, invoiceItems: 0).seed(store)
        let late = Mutex<MigrationJobHarness?>(nil)
        let messenger = RecordingMigrationMessenger(store: store) { slices in
            if let harness = late.withLock({ $0 }) { try await onSlices(harness, slices) }
        }
        let environment = MigrationEnvironment(
            instance: instance, store: store, messenger: messenger, logger: Logger(label: "test"), sliceSize: 10,
            lease: Lease(duration: .seconds(15), maxTakeovers: 3), errorAfter: .seconds(30), clock: FastJobClock())
        let harness = MigrationJobHarness(store: store, messenger: messenger, environment: environment)
        late.withLock { $0 = harness }
        do {
            try await body(harness)
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    /// Logs a migration as the runner that accepted it would, claimed by `owner`, without running it.
    func insert(id: String = UUID().uuidString, owner: String = instance) async throws -> String {
        let migration = MigrationRecord(
            migrationId: id, cutoverDate: cutover, generatedBy: "test", status: .accepted,
            submittedAt: environment.clock.epochMilliseconds(), sliceSize: environment.sliceSize,
            owner: owner, leaseUntil: 0)
        let outcome = try await log.insert(migration, leaseMilliseconds: environment.lease.milliseconds)
        #expect(outcome == .inserted)
        return id
    }

    /// Coordinates the migration to its end as this runner; a coordinator still going after a minute
    /// fails the test (and is cancelled).
    func coordinate(_ id: String) async throws {
        let coordinator = Task { [environment] in await MigrationCoordinator(migrationId: id, environment: environment).run() }
        try await ended(coordinator, "the coordinator of migration \(id) to stop")
    }

    /// Has `owner` take the migration over, as another runner's orphan loop's claim does (a new owner,
    /// the next epoch), in one statement: lapsing the lease first and claiming it after would race the
    /// owner's keeper, which can renew the lease in between.
    func takeOver(_ id: String, by owner: String) async throws {
        let until = Date().epochMilliseconds + 3_600_000
        try await store.withDatabase {
            try await $0.raw(
                """
                UPDATE migrations SET owner = \(bind: owner), epoch = epoch + 1, lease_until = \(bind: until),
                    takeovers = takeovers + 1
                WHERE migration_id = \(bind: id)
                """
            ).run()
        }
    }

    /// Makes every change to the migrations table fail (the store "down" for the coordinator), or
    /// lets changes through again.
    func storeRefusesChanges(_ refuses: Bool) async throws {
        try await store.withDatabase { database in
            if refuses {
                try await database.raw(
                    """
                    CREATE TRIGGER refuse_changes BEFORE UPDATE ON migrations BEGIN SELECT RAISE(ABORT, 'the store is down'); END
                    """
                ).run()
            } else {
                try await database.raw("DROP TRIGGER refuse_changes").run()
            }
        }
    }
}
