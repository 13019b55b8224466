import Foundation
import JobstreamMessages
import JobstreamStore
import Logging

/// The migration work of one runner instance: takes requests (and coordinates the migrations it
/// accepted), generates the slices it is given, and takes over migrations whose coordinator stopped
/// renewing its claim.
public final class MigrationSupervisor: Sendable {
    public let environment: MigrationEnvironment
    private let generator: SliceGenerator
    private let migrations: ClaimedJobs

    public init(environment: MigrationEnvironment) {
        self.environment = environment
        generator = SliceGenerator(store: environment.log.store, instance: environment.instance)
        migrations = ClaimedJobs { id in await MigrationCoordinator(migrationId: id, environment: environment).run() }
    }

    /// The migrations this instance coordinates now.
    public var coordinating: Set<String> { migrations.runningIds }

    /// Handles a message from the request or slice topic; other messages are not for it.
    @Sendable public func handle(_ envelope: AnyEnvelope, logger: Logger) async throws {
        if let request = envelope.payload(as: MigrationRequest.self) {
            try await accept(request, migrationId: envelope.jobId, logger: logger)
        } else if let slice = envelope.payload(as: MigrationSlice.self) {
            try await generate(slice, migrationId: envelope.jobId, logger: logger)
        }
    }

    /// Logs the migration as Accepted and starts coordinating it — or, when another migration is
    /// active, logs and announces it as Error saying so. A repeated request changes nothing.
    public func accept(_ request: MigrationRequest, migrationId: String, logger: Logger) async throws {
        guard !request.generatedBy.isEmpty else {
            throw UnprocessableMessage("a migration request needs a generatedBy")
        }
        let now = environment.clock.epochMilliseconds()
        var migration = MigrationRecord(
            migrationId: migrationId, cutoverDate: request.cutoverDate, generatedBy: request.generatedBy, status: .accepted,
            submittedAt: now, sliceSize: environment.sliceSize, owner: environment.instance, leaseUntil: 0)
        migration.preview = request.preview == true ? 1 : 0
        switch try await environment.log.insert(migration, leaseMilliseconds: environment.lease.milliseconds) {
        case .repeated:
            logger.notice("repeated request for migration \(migrationId) ignored: it exists already")
        case .refused(let activeId):
            logger.warning("migration \(migrationId) refused: migration \(activeId) is in progress")
            if let refused = try await environment.log.migration(migrationId) {
                await environment.publish(refused)
            }
        case .inserted:
            await environment.publish(migration)
            logger.info("migration \(migrationId) accepted", metadata: ["cutover": "\(request.cutoverDate)"])
            migrations.start(migrationId)
        }
    }

    /// Generates one slice; the ledger records what it made, which its coordinator follows.
    public func generate(_ slice: MigrationSlice, migrationId: String, logger: Logger) async throws {
        try await environment.waitForTurn()
        switch try await generator.generate(migrationId: migrationId, sliceIndex: slice.sliceIndex) {
        case .generated(let counts):
            logger.debug("slice \(slice.sliceIndex) generated: \(counts.schedules) schedules, \(counts.warnings.count) warnings")
        case .alreadyDone:
            logger.info("slice \(slice.sliceIndex) of migration \(migrationId) was done before; not generated again")
        case .skipped(let reason):
            logger.info("slice \(slice.sliceIndex) of migration \(migrationId) not generated: \(reason)")
        case .unknown:
            throw UnprocessableMessage("migration \(migrationId) has no slice \(slice.sliceIndex) in the log")
        }
    }

    /// Every third of a lease until this task is cancelled (the service cancels it at graceful
    /// shutdown): takes over orphaned migrations (or ends one taken over too many times in a row as
    /// Error) and announces states left unpublished; then stops the coordinators and lets go of their
    /// claims so another instance continues at once.
    public func run() async {
        let environment = self.environment
        await migrations.takeOverOrphans(
            every: environment.lease.duration / 3, kind: .migration, logger: environment.logger,
            sleep: environment.clock
        ) {
            let found = try await environment.log.claimOrphans(
                owner: environment.instance,
                leaseMilliseconds: environment.lease.milliseconds,
                maxTakeovers: environment.lease.maxTakeovers)
            for id in found.givenUp {
                environment.logger.error(
                    "migration \(id) is Error: taken over \(environment.lease.maxTakeovers) times in a row without progress")
            }
            for migration in try await environment.log.unpublished(quietMilliseconds: 3000) {
                await environment.publish(migration)
            }
            return found.claimed
        }
    }
}
