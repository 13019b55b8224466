import Foundation
import JobstreamMessages
import JobstreamMigration
import JobstreamService
import JobstreamStore
import Kafka
import Logging

/// Coordinates one migration from where its log says it is to its end: Accepted → In progress
/// (plan the slices, publish them for every runner) → follow the slices done, announcing Progress at
/// each percent and at least every second while it moves → Completed, or Completed-Warning when
/// some charges could not be migrated; Error when the store stays unreachable (`errorAfter`).
///
/// A coordinator taken over after its owner died re-publishes the slices not done; runners skip the
/// ones done meanwhile, so nothing is generated twice and Progress continues from where it was.
struct MigrationCoordinator: Sendable {
    let migrationId: String
    let environment: MigrationEnvironment

    /// How long no slice may be done before the slices not done are published again.
    static let stallAfter = Duration.seconds(120)

    private struct LostClaim: Error {}
    /// The store failed for longer than `errorAfter`.
    private struct StoreUnavailable: Error, CustomStringConvertible {
        let description: String
    }

    func run() async {
        var logger = environment.logger
        logger[metadataKey: "job.id"] = "\(migrationId)"
        var current: MigrationRecord?
        do {
            guard let migration = try await persistently("reading the migration", logger: logger, {
                try await environment.log.migration(migrationId)
            }) else {
                logger.error("migration \(migrationId) is not in the log")
                return
            }
            current = migration
            guard !migration.status.isTerminal else { return }
            var running = migration.status == .accepted ? try await plan(migration, logger: logger) : migration
            // Whatever ends the work, an Error carries the progress announced last.
            defer { current = running }
            try await publishPendingSlices(running, logger: logger)
            try await follow(&running, logger: logger)
        } catch is LostClaim {
            logger.warning("migration \(migrationId): another runner took it over or ended it; stopping here")
        } catch {
            if Task.isCancelled {
                logger.info("migration \(migrationId): stopping for shutdown; another runner or a restart continues it")
                try? await environment.log.release(migrationId, owner: environment.instance)
            } else if let current {
                logger.error("migration \(migrationId) failed: \(error)")
                await endInError(current, reason: "\(error)", logger: logger)
            }
        }
    }

    // MARK: Steps

    /// Plans the slices and moves to In progress, both in one transaction.
    private func plan(_ migration: MigrationRecord, logger: Logger) async throws -> MigrationRecord {
        let planner = SlicePlanner(store: environment.log.store, sliceSize: migration.sliceSize)
        let slices = try await persistently("planning the slices", logger: logger) {
            try await planner.plan(cutover: migration.cutover)
        }
        var planned = migration
        planned.status = try migration.status.transition(to: .inProgress)
        planned.startTime = epochMilliseconds()
        planned.sliceCount = slices.count
        planned.chargesInScope = slices.reduce(0) { $0 + $1.plannedCharges }
        let saved = try await persistently("saving the plan", logger: logger) {
            try await environment.log.savePlan(planned, slices: slices, owner: environment.instance,
                                               leaseUntil: environment.lease.until())
        }
        guard saved else { throw LostClaim() }
        try await environment.publish(planned)
        logger.info("migration \(migrationId) is In progress: \(planned.chargesInScope ?? 0) charges in scope, \(slices.count) slices")
        return planned
    }

    /// Sends every slice not done yet, keyed by migration and slice so they spread over every partition.
    private func publishPendingSlices(_ migration: MigrationRecord, logger: Logger) async throws {
        let pending = try await persistently("reading the slices not done", logger: logger) {
            try await environment.ledger.pendingSlices(migrationId)
        }
        let failedBefore = environment.producer.failedCount
        for index in pending {
            try Task.checkCancellation()
            let slice = MigrationSlice(sliceIndex: index, sliceCount: migration.sliceCount ?? pending.count, cutoverDate: migration.cutover)
            try await environment.producer.enqueue(KafkaProducerMessage(
                topic: Topics.migrationSlices, envelope: Envelope(jobId: migrationId, payload: slice), key: "\(migrationId)/\(index)"))
        }
        guard await environment.producer.flush(timeout: .seconds(120)), environment.producer.failedCount == failedBefore else {
            throw KafkaError(.timedOut, "not every slice of migration \(migrationId) reached the broker")
        }
        logger.info("migration \(migrationId): \(pending.count) slices sent")
    }

    /// Follows the slices done until all are, announcing progress, then ends the migration. When no
    /// slice is done for `stallAfter` (a slice message lost or dead-lettered), the slices not done are
    /// published again; runners skip any that was done meanwhile.
    private func follow(_ migration: inout MigrationRecord, logger: Logger) async throws {
        var lastAnnounced = ContinuousClock.now
        var lastMoved = (ContinuousClock.now, -1)
        while true {
            try Task.checkCancellation()
            let (renewed, progress) = try await persistently("following the slices", logger: logger) {
                (try await environment.log.renew(migrationId, owner: environment.instance, leaseUntil: environment.lease.until()),
                 try await environment.ledger.progress(migrationId))
            }
            guard let renewed, !renewed.status.isTerminal else { throw LostClaim() }
            if progress.slices > 0, progress.slicesDone == progress.slices {
                return try await finish(&migration, progress: progress, logger: logger)
            }
            if progress.slicesDone != lastMoved.1 {
                lastMoved = (ContinuousClock.now, progress.slicesDone)
            } else if ContinuousClock.now - lastMoved.0 >= Self.stallAfter {
                logger.warning("migration \(migrationId): no slice done for \(Self.stallAfter); publishing the slices not done again")
                try await publishPendingSlices(migration, logger: logger)
                lastMoved.0 = ContinuousClock.now
            }
            let percent = max(progress.percent, migration.progress)
            let countsMoved = progress.schedulesGenerated != migration.schedulesGenerated || progress.warnings != migration.warnings
            if percent != migration.progress || (countsMoved && ContinuousClock.now - lastAnnounced >= .seconds(1)) {
                migration.progress = percent
                migration.takeCounts(of: progress)
                try await save(migration, leaseUntil: environment.lease.until(), logger: logger)
                lastAnnounced = ContinuousClock.now
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    private func finish(_ migration: inout MigrationRecord, progress: MigrationLedger.Progress, logger: Logger) async throws {
        migration.status = try migration.status.transition(to: progress.warnings > 0 ? .completedWarning : .completed)
        migration.progress = 100
        migration.endTime = epochMilliseconds()
        migration.takeCounts(of: progress)
        try await save(migration, leaseUntil: 0, logger: logger)
        logger.info("migration \(migrationId) is \(migration.status.rawValue): \(progress.schedulesGenerated) schedules, \(progress.warnings) warnings")
    }

    /// Saves the migration if still ours, and announces it.
    private func save(_ migration: MigrationRecord, leaseUntil: Int, logger: Logger) async throws {
        let saved = try await persistently("saving the migration", logger: logger) {
            try await environment.log.save(migration, owner: environment.instance, leaseUntil: leaseUntil)
        }
        guard saved else { throw LostClaim() }
        try await environment.publish(migration)
    }

    /// Ends the migration as Error: announced at once (the store may be what failed), and saved in
    /// the log as soon as the store takes it — unless the migration ended meanwhile.
    private func endInError(_ migration: MigrationRecord, reason: String, logger: Logger) async {
        var failed = migration
        failed.status = .error
        failed.error = reason
        failed.endTime = epochMilliseconds()
        do {
            try await environment.publish(failed)
        } catch {
            logger.error("migration \(migrationId): announcing Error failed: \(error)")
        }
        while !Task.isCancelled {
            do {
                try await environment.log.endInError(failed)
                logger.error("migration \(migrationId) is Error: \(reason)")
                return
            } catch {
                logger.warning("migration \(migrationId): logging Error failed, retrying: \(error)")
                try? await Task.sleep(for: .seconds(2))
            }
        }
    }

    /// Runs a store operation, retrying it each second while it fails, for up to `errorAfter`.
    private func persistently<T: Sendable>(_ what: String, logger: Logger, _ operation: () async throws -> T) async throws -> T {
        let started = ContinuousClock.now
        while true {
            do {
                return try await operation()
            } catch {
                try Task.checkCancellation()
                let failingFor = ContinuousClock.now - started
                guard failingFor < environment.errorAfter else {
                    throw StoreUnavailable(description: "the store failed for \(failingFor.components.seconds) s while \(what): \(error)")
                }
                logger.warning("migration \(migrationId): \(what) failed, retrying: \(error)")
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}

extension MigrationRecord {
    /// Takes the counts the ledger adds up over the slices.
    mutating func takeCounts(of progress: MigrationLedger.Progress) {
        chargesInScope = progress.chargesInScope
        schedulesGenerated = progress.schedulesGenerated
        warnings = progress.warnings
    }
}
