import Foundation
import JobstreamMessages
import JobstreamMigration
import JobstreamService
import JobstreamStore
import Kafka
import Logging
import ServiceLifecycle

/// The migration work of one runner instance: takes requests (and coordinates the migrations it
/// accepted), generates the slices it is given, and takes over migrations whose coordinator stopped
/// renewing its claim.
final class MigrationSupervisor: Service, Sendable {
    let environment: MigrationEnvironment
    private let generator: SliceGenerator
    private let migrations: ClaimedJobs

    init(environment: MigrationEnvironment) {
        self.environment = environment
        generator = SliceGenerator(store: environment.log.store, instance: environment.instance)
        migrations = ClaimedJobs { id in await MigrationCoordinator(migrationId: id, environment: environment).run() }
    }

    /// Handles a message from the request or slice topic.
    @Sendable func handle(_ envelope: AnyEnvelope, _ message: KafkaConsumerMessage, _ logger: Logger) async throws {
        if let request = envelope.payload(as: MigrationRequest.self) {
            try await accept(request, migrationId: envelope.jobId, logger: logger)
        } else if let slice = envelope.payload(as: MigrationSlice.self) {
            try await generate(slice, migrationId: envelope.jobId, logger: logger)
        }
    }

    /// Logs the migration as Accepted and starts coordinating it — or, when another migration is
    /// active, logs and announces it as Error saying so. A repeated request changes nothing.
    func accept(_ request: MigrationRequest, migrationId: String, logger: Logger) async throws {
        guard !request.generatedBy.isEmpty else {
            throw UnprocessableMessage("a migration request needs a generatedBy")
        }
        let now = Date().epochMilliseconds
        let migration = MigrationRecord(
            migrationId: migrationId, cutoverDate: request.cutoverDate, generatedBy: request.generatedBy, status: .accepted,
            submittedAt: now, sliceSize: environment.sliceSize, owner: environment.instance, leaseUntil: 0)
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

    /// Generates one slice and announces what it made (a live event; the ledger is the record).
    func generate(_ slice: MigrationSlice, migrationId: String, logger: Logger) async throws {
        try await environment.pacer.waitForTurn()
        switch try await generator.generate(migrationId: migrationId, sliceIndex: slice.sliceIndex) {
        case .generated(let counts):
            logger.debug("slice \(slice.sliceIndex) generated: \(counts.schedules) schedules, \(counts.warnings.count) warnings")
            let result = MigrationSliceResult(sliceIndex: slice.sliceIndex, chargesInSlice: counts.charges,
                                              schedulesGenerated: counts.schedules, warnings: counts.warnings)
            try await environment.producer.enqueue(KafkaProducerMessage(
                topic: Topics.migrationResults, envelope: Envelope(jobId: migrationId, payload: result)))
        case .alreadyDone:
            logger.info("slice \(slice.sliceIndex) of migration \(migrationId) was done before; not generated again")
        case .skipped(let reason):
            logger.info("slice \(slice.sliceIndex) of migration \(migrationId) not generated: \(reason)")
        case .unknown:
            throw UnprocessableMessage("migration \(migrationId) has no slice \(slice.sliceIndex) in the log")
        }
    }

    /// Every third of a lease until shutdown: takes over orphaned migrations (or ends one taken over
    /// too many times in a row as Error) and announces states left unpublished; then stops the
    /// coordinators and lets go of their claims so another instance continues at once.
    func run() async throws {
        let environment = self.environment
        // Cancelled at graceful shutdown: the loop then stops every job and waits for it.
        await cancelWhenGracefulShutdown { await self.migrations.takeOverOrphans(every: environment.lease.duration / 3, kind: .migration, logger: environment.logger) {
            let found = try await environment.log.claimOrphans(owner: environment.instance,
                                                               leaseMilliseconds: environment.lease.milliseconds,
                                                               maxTakeovers: environment.lease.maxTakeovers)
            for id in found.givenUp {
                environment.logger.error("migration \(id) is Error: taken over \(environment.lease.maxTakeovers) times in a row without progress")
            }
            for migration in try await environment.log.unpublished(quietMilliseconds: 3000) {
                await environment.publish(migration)
            }
            return found.claimed
        } }
    }
}

/// What a runner's migrations share: the log, the ledger, the producer and the settings.
struct MigrationEnvironment: Sendable {
    /// This instance's name in the log's `owner` and `applied_by` columns.
    let instance: String
    let log: MigrationLog
    let ledger: MigrationLedger
    let producer: KafkaProducer
    let logger: Logger
    /// Charges per slice, for migrations this instance plans.
    let sliceSize: Int
    let lease: Lease
    /// How long the store may fail before a migration is ended as Error.
    let errorAfter: Duration
    let metrics: ServiceMetrics
    /// Spaces out the slices this instance generates (`--max-slices-per-second`).
    let pacer: Pacer

    init(store: Store, producer: KafkaProducer, logger: Logger, metrics: ServiceMetrics, sliceSize: Int, lease: Lease,
         errorAfter: Duration, pacer: Pacer) {
        self.metrics = metrics
        self.pacer = pacer
        instance = Lease.instanceName()
        log = MigrationLog(store: store)
        ledger = MigrationLedger(store: store)
        self.producer = producer
        self.logger = logger
        self.sliceSize = sliceSize
        self.lease = lease
        self.errorAfter = errorAfter
    }

    /// Announces the migration's state on the status topic (keyed by migration id) and notes it
    /// published. A broker that cannot be reached does not stop the migration: the state stays marked
    /// unpublished in the log and is sent again later (``MigrationSupervisor/run()``).
    func publish(_ migration: MigrationRecord, markPublished: Bool = true) async {
        do {
            _ = try await producer.send(KafkaProducerMessage(
                topic: Topics.migrationStatus, envelope: Envelope(jobId: migration.migrationId, payload: migration.statusEvent)))
            metrics.statusPublished(kind: .migration, status: migration.status.rawValue)
            if markPublished { try await log.published(migration.migrationId, sequence: migration.sequence) }
        } catch {
            logger.warning("migration \(migration.migrationId): announcing \(migration.status.rawValue) failed (\(error)); it is sent again later",
                           metadata: ["job.id": "\(migration.migrationId)"])
        }
    }
}
