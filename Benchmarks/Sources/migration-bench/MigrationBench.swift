import ArgumentParser
import Foundation
import JobstreamMessages
import JobstreamMigration
import JobstreamService
import JobstreamStore
import Logging

/// Tools for `make bench-migration`: the ceiling — the same schedules generated straight into the
/// same store by one process, without Kafka — and emptying the schedules between runs.
@main
struct MigrationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migration-bench",
        abstract: "Migration benchmark tools: measure the store's ceiling, empty the revenue schedules.",
        subcommands: [Ceiling.self, Clear.self])

    struct Ceiling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Plan a migration and generate every slice in this process, with the runners' code, one transaction per slice.",
            discussion: "No Kafka and no coordinator: the most one process gets out of the store. Prints schedules/s.")

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "The cutover date, YYYY-MM-DD.") var cutover: String
        @Option(name: .customLong("slice-size"), help: "Charges per slice, as the runners' default.") var sliceSize: Int = 1000

        func validate() throws {
            guard CalendarDate(cutover) != nil else {
                throw ValidationError("--cutover \"\(cutover)\" is not a date written YYYY-MM-DD")
            }
            guard sliceSize >= 1 else { throw ValidationError("--slice-size must be at least 1") }
        }

        func run() async throws {
            let store = try await storeOptions.openStore(
                logger: LoggingSetup.bootstrap(label: "migration-bench", level: .warning))
            let log = MigrationLog(store: store)
            let cutoverDate = CalendarDate(cutover)!
            let start = ContinuousClock.now
            var migration = MigrationRecord(
                migrationId: "bench-ceiling-\(UUID().uuidString.prefix(8).lowercased())", cutoverDate: cutoverDate,
                generatedBy: "migration-bench", status: .accepted, submittedAt: Date().epochMilliseconds, sliceSize: sliceSize,
                owner: "migration-bench", leaseUntil: 0)
            let claim = JobClaim(owner: "migration-bench", epoch: 1)
            let aDay = 86_400_000
            guard try await log.insert(migration, leaseMilliseconds: aDay) == .inserted else {
                throw ValidationError("another migration is active in \(store.location); let it end first")
            }
            let slices = try await SlicePlanner(store: store, sliceSize: sliceSize).plan(cutover: cutoverDate)
            migration.status = .inProgress
            migration.startTime = Date().epochMilliseconds
            _ = try await log.savePlan(migration, slices: slices, claim: claim, leaseMilliseconds: aDay)
            let generator = SliceGenerator(store: store, instance: "migration-bench")
            var schedules = 0, warnings = 0
            for slice in slices {
                if case .generated(let counts) = try await generator.generate(
                    migrationId: migration.migrationId, sliceIndex: slice.index)
                {
                    schedules += counts.schedules
                    warnings += counts.warnings.count
                }
            }
            let elapsed = ContinuousClock.now - start
            migration.status = warnings > 0 ? .completedWarning : .completed
            migration.progress = 100
            migration.endTime = Date().epochMilliseconds
            migration.schedulesGenerated = schedules
            migration.warnings = warnings
            _ = try await log.save(migration, claim: claim, leaseMilliseconds: 0)
            await store.close()
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                String(
                    format: "ceiling: %d schedules (%d warnings) in %.2f s = %.0f schedules/s (%@)",
                    schedules, warnings, seconds, Double(schedules) / seconds, store.location.description))
        }
    }

    struct Clear: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete every revenue schedule, so the next run inserts as the first one did.")

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let store = try await storeOptions.openStore(
                logger: LoggingSetup.bootstrap(label: "migration-bench", level: .warning))
            try await store.withDatabase { try await $0.raw("DELETE FROM revenue_schedules").run() }
            if store.flavor == .sqlite {
                try await store.withDatabase { try await $0.raw("PRAGMA wal_checkpoint(TRUNCATE)").run() }
            }
            await store.close()
        }
    }
}
