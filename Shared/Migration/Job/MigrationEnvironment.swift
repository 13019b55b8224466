import Foundation
import JobstreamMessages
import JobstreamStore
import Logging

/// What a runner's migrations share: the log, the ledger, where messages go, the clock and the settings.
public struct MigrationEnvironment: Sendable {
    /// This instance's name in the log's `owner` and `applied_by` columns.
    public let instance: String
    public let log: MigrationLog
    public let ledger: MigrationLedger
    public let messenger: any MigrationMessenger
    public let logger: Logger
    /// Charges per slice, for migrations this instance plans.
    public let sliceSize: Int
    public let lease: Lease
    /// How long the store may fail before a migration is ended as Error.
    public let errorAfter: Duration
    /// Waits for this instance's turn before it generates a slice (`--max-slices-per-second`).
    public let waitForTurn: @Sendable () async throws -> Void
    public let clock: any JobClock

    public init(
        instance: String = Lease.instanceName(), store: Store, messenger: any MigrationMessenger, logger: Logger,
        sliceSize: Int, lease: Lease, errorAfter: Duration, waitForTurn: @escaping @Sendable () async throws -> Void = {},
        clock: any JobClock = SystemJobClock()
    ) {
        self.waitForTurn = waitForTurn
        self.clock = clock
        self.instance = instance
        log = MigrationLog(store: store)
        ledger = MigrationLedger(store: store)
        self.messenger = messenger
        self.logger = logger
        self.sliceSize = sliceSize
        self.lease = lease
        self.errorAfter = errorAfter
    }

    /// Announces the migration's state on the status topic (keyed by migration id) and notes it
    /// published. A broker that cannot be reached does not stop the migration: the state stays marked
    /// unpublished in the log and is sent again later (``MigrationSupervisor/run()``).
    public func publish(_ migration: MigrationRecord, markPublished: Bool = true) async {
        do {
            try await messenger.announce(migration.statusEvent, of: migration.migrationId)
            if markPublished { try await log.published(migration.migrationId, sequence: migration.sequence) }
        } catch {
            logger.warning(
                "migration \(migration.migrationId): announcing \(migration.status.rawValue) failed (\(error)); it is sent again later",
                metadata: ["job.id": "\(migration.migrationId)"])
        }
    }
}
