import Foundation
import JobstreamMessages
import JobstreamStore
import Logging

/// Coordinates one migration from where its log says it is to its end: Accepted → In progress
/// (plan the slices, publish them for every runner) → follow the slices done, announcing Progress at
/// each percent and at least every second while it moves → Completed, or Completed-Warning when
/// some charges could not be migrated; Error when the store stays unreachable (`errorAfter`).
///
/// A coordinator taken over after its owner died re-publishes the slices not done; runners skip the
/// ones done meanwhile, so nothing is generated twice and Progress continues from where it was.
///
/// Its saves are fenced by its claim (``JobClaim``), so a coordinator that was paused cannot
/// overwrite, or announce over, the one that took the migration over.
public struct MigrationCoordinator: Sendable {
    public let migrationId: String
    public let environment: MigrationEnvironment

    public init(migrationId: String, environment: MigrationEnvironment) {
        self.migrationId = migrationId
        self.environment = environment
    }

    /// How long no slice may be done before the slices not done are published again.
    public static let stallAfter = Duration.seconds(120)

    private struct LostClaim: Error {}
    /// The store failed for longer than `errorAfter`.
    private struct StoreUnavailable: Error, CustomStringConvertible {
        let description: String
    }

    /// Coordinates the migration to its end, or until its claim is lost or the task is cancelled.
    public func run() async {
        var logger = environment.logger
        logger[metadataKey: "job.id"] = "\(migrationId)"
        var current: MigrationRecord?
        var heldClaim: JobClaim?
        do {
            guard
                let migration = try await persistently(
                    "reading the migration", logger: logger,
                    {
                        try await environment.log.migration(migrationId)
                    })
            else {
                logger.error("migration \(migrationId) is not in the log")
                return
            }
            current = migration
            guard !migration.status.isTerminal else { return }
            guard let claim = migration.claim, claim.owner == environment.instance else { throw LostClaim() }
            heldClaim = claim
            var running = migration.status == .accepted ? try await plan(migration, claim: claim, logger: logger) : migration
            // Whatever ends the work, an Error carries the progress announced last.
            defer { current = running }
            try await publishPendingSlices(running, logger: logger)
            try await follow(&running, claim: claim, logger: logger)
        } catch is LostClaim {
            logger.warning(
                "migration \(migrationId): this runner no longer holds its claim (another took it over or ended it); stopping here"
            )
        } catch {
            if Task.isCancelled {
                logger.info("migration \(migrationId): stopping for shutdown; another runner or a restart continues it")
                // In a task of its own: this one is cancelled, and the store's calls may refuse to run in it.
                if let heldClaim {
                    await Task { [environment, migrationId] in try? await environment.log.release(migrationId, claim: heldClaim) }
                        .value
                }
            } else if let current, let heldClaim {
                // Announced at once (the store was what failed); the log records it only if the
                // claim still holds.
                logger.error("migration \(migrationId) failed: \(error)")
                await endInError(current, claim: heldClaim, reason: "\(error)", logger: logger)
            }
        }
    }

    // MARK: Steps

    /// Plans the slices and moves to In progress, both in one transaction.
    private func plan(_ migration: MigrationRecord, claim: JobClaim, logger: Logger) async throws -> MigrationRecord {
        let planner = SlicePlanner(store: environment.log.store, sliceSize: migration.sliceSize)
        let slices = try await persistently("planning the slices", logger: logger) {
            try await planner.plan(cutover: migration.cutover)
        }
        var planned = migration
        planned.status = try migration.status.transition(to: .inProgress)
        planned.startTime = environment.clock.epochMilliseconds()
        planned.sliceCount = slices.count
        planned.chargesInScope = slices.reduce(0) { $0 + $1.plannedCharges }
        let saved = try await persistently("saving the plan", logger: logger) {
            try await environment.log.savePlan(
                planned, slices: slices, claim: claim,
                leaseMilliseconds: environment.lease.milliseconds)
        }
        guard let sequence = saved else { throw LostClaim() }
        planned.sequence = sequence
        await environment.publish(planned)
        logger.info(
            "migration \(migrationId) is In progress: \(planned.chargesInScope ?? 0) charges in scope, \(slices.count) slices")
        return planned
    }

    /// Sends every slice not done yet, keyed by migration and slice so they spread over every partition.
    private func publishPendingSlices(_ migration: MigrationRecord, logger: Logger) async throws {
        let pending = try await persistently("reading the slices not done", logger: logger) {
            try await environment.ledger.pendingSlices(migrationId)
        }
        var slices: [MigrationSlice] = []
        for index in pending {
            slices.append(
                MigrationSlice(
                    sliceIndex: index, sliceCount: migration.sliceCount ?? pending.count, cutoverDate: migration.cutover))
        }
        // In groups, so a migration of many slices never holds every one in flight at once.
        for group in stride(from: 0, to: slices.count, by: 256).map({ slices[$0..<min($0 + 256, slices.count)] }) {
            try Task.checkCancellation()
            try await environment.messenger.sendSlices(Array(group), of: migrationId)
        }
        logger.info("migration \(migrationId): \(pending.count) slices sent")
    }

    /// Follows the slices done until all are, announcing progress, then ends the migration. When no
    /// slice is done for `stallAfter` (a slice message lost or dead-lettered), the slices not done are
    /// published again; runners skip any that was done meanwhile.
    private func follow(_ migration: inout MigrationRecord, claim: JobClaim, logger: Logger) async throws {
        var lastAnnounced = environment.clock.now()
        var lastMoved = (environment.clock.now(), -1)
        while true {
            try Task.checkCancellation()
            let (renewed, progress) = try await persistently("following the slices", logger: logger) {
                (
                    try await environment.log.renew(migrationId, claim: claim, leaseMilliseconds: environment.lease.milliseconds),
                    try await environment.ledger.progress(migrationId)
                )
            }
            guard let renewed, !renewed.status.isTerminal else { throw LostClaim() }
            if progress.slices > 0, progress.slicesDone == progress.slices {
                return try await finish(&migration, claim: claim, progress: progress, logger: logger)
            }
            if progress.slicesDone != lastMoved.1 {
                lastMoved = (environment.clock.now(), progress.slicesDone)
            } else if environment.clock.now() - lastMoved.0 >= Self.stallAfter {
                logger.warning(
                    "migration \(migrationId): no slice done for \(Self.stallAfter); publishing the slices not done again")
                try await publishPendingSlices(migration, logger: logger)
                lastMoved.0 = environment.clock.now()
            }
            let percent = max(progress.percent, migration.progress)
            let countsMoved =
                progress.schedulesGenerated != migration.schedulesGenerated || progress.warnings != migration.warnings
            if percent != migration.progress || (countsMoved && environment.clock.now() - lastAnnounced >= .seconds(1)) {
                migration.progress = percent
                migration.takeCounts(of: progress)
                try await save(&migration, claim: claim, leaseMilliseconds: environment.lease.milliseconds, logger: logger)
                lastAnnounced = environment.clock.now()
            }
            try await environment.clock.sleep(for: .milliseconds(250))
        }
    }

    private func finish(
        _ migration: inout MigrationRecord, claim: JobClaim, progress: MigrationLedger.Progress,
        logger: Logger
    ) async throws {
        migration.status = try migration.status.transition(to: progress.warnings > 0 ? .completedWarning : .completed)
        migration.progress = 100
        migration.endTime = environment.clock.epochMilliseconds()
        migration.takeCounts(of: progress)
        try await save(&migration, claim: claim, leaseMilliseconds: 0, logger: logger)
        logger.info(
            "migration \(migrationId) is \(migration.status.rawValue): \(progress.schedulesGenerated) schedules, \(progress.warnings) warnings"
        )
    }

    /// Saves the migration if the claim still holds it, and announces it.
    private func save(
        _ migration: inout MigrationRecord, claim: JobClaim, leaseMilliseconds: Int,
        logger: Logger
    ) async throws {
        let state = migration
        let saved = try await persistently("saving the migration", logger: logger) {
            try await environment.log.save(state, claim: claim, leaseMilliseconds: leaseMilliseconds)
        }
        guard let sequence = saved else { throw LostClaim() }
        migration.sequence = sequence
        await environment.publish(migration)
    }

    /// Ends the migration as Error: announced at once (the store may be what failed; numbered as the
    /// state after the last saved), and saved in the log as soon as the store takes it — unless the
    /// migration ended or changed hands meanwhile. Tried until shutdown: the store is what failed, so
    /// this waits for it to come back, and a takeover after a restart would end it the same way.
    private func endInError(_ migration: MigrationRecord, claim: JobClaim, reason: String, logger: Logger) async {
        var failed = migration
        failed.status = .error
        failed.error = TextRule.cut(reason, toBytes: InputLimits.reasonBytes)
        failed.endTime = environment.clock.epochMilliseconds()
        failed.sequence = migration.sequence + 1
        await environment.publish(failed, markPublished: false)
        var delay = Duration.seconds(1)
        while !Task.isCancelled {
            do {
                if let sequence = try await environment.log.endInError(failed, claim: claim) {
                    if sequence == failed.sequence { try? await environment.log.published(migrationId, sequence: sequence) }
                    logger.error("migration \(migrationId) is Error: \(reason)")
                } else {
                    logger.warning("migration \(migrationId) ended or changed hands before its Error could be logged")
                }
                return
            } catch {
                logger.warning("migration \(migrationId): logging Error failed, retrying in \(delay): \(error)")
                try? await environment.clock.sleep(for: delay)
                delay = min(delay * 2, .seconds(30))
            }
        }
    }

    /// Runs a store operation, retrying it each second while it fails, for up to `errorAfter`.
    private func persistently<T: Sendable>(_ what: String, logger: Logger, _ operation: () async throws -> T) async throws -> T {
        let started = environment.clock.now()
        while true {
            do {
                return try await operation()
            } catch {
                try Task.checkCancellation()
                let failingFor = environment.clock.now() - started
                guard failingFor < environment.errorAfter else {
                    throw StoreUnavailable(
                        description: "the store failed for \(failingFor.components.seconds) s while \(what): \(error)")
                }
                logger.warning("migration \(migrationId): \(what) failed, retrying: \(error)")
                try await environment.clock.sleep(for: .seconds(1))
            }
        }
    }
}

extension MigrationRecord {
    /// Takes the counts the ledger adds up over the slices.
    public mutating func takeCounts(of progress: MigrationLedger.Progress) {
        chargesInScope = progress.chargesInScope
        schedulesGenerated = progress.schedulesGenerated
        warnings = progress.warnings
    }
}
