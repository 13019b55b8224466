import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging
import Synchronization

/// Owns the backfill jobs of this validator instance: takes new requests, runs each job it owns
/// (noticing cancel requests in the log as it renews its claim), and takes over unfinished jobs whose owner stopped renewing its claim.
public final class BackfillJobSupervisor: Sendable {
    public let environment: BackfillJobEnvironment
    private let jobs: ClaimedJobs
    /// How old a file nothing refers to must be before a sweep removes it, and when the next sweep is.
    private let sweepAge: Duration
    private let nextSweep: Mutex<ContinuousClock.Instant>

    /// How long after a job ends its before-images are kept (nil: as long as the job log).
    private let imageRetention: Duration?

    /// - Parameters:
    ///   - sweepAge: how old a file nothing refers to must be before a sweep removes it.
    ///   - imageRetention: how long after a job ends its before-images are kept; nil: for good.
    public init(
        environment: BackfillJobEnvironment, sweepAge: Duration = .seconds(24 * 3600), imageRetention: Duration? = nil
    ) {
        self.sweepAge = sweepAge
        self.imageRetention = imageRetention
        self.environment = environment
        nextSweep = Mutex(environment.clock.now())
        jobs = ClaimedJobs { [environment] jobId in await BackfillJobRunner(jobId: jobId, environment: environment).run() }
    }

    /// The jobs running on this instance now.
    public var runningJobs: Set<String> { jobs.runningIds }

    /// Handles a message from the request topic; other messages are not for it.
    @Sendable public func handle(_ envelope: AnyEnvelope, logger: Logger) async throws {
        if let request = envelope.payload(as: BackfillRequest.self) {
            try await accept(request, jobId: envelope.jobId, logger: logger)
        }
    }

    /// Records the job as Accepted and starts it; a repeated request (same job id) changes nothing.
    public func accept(_ request: BackfillRequest, jobId: String, logger: Logger) async throws {
        let now = environment.clock.epochMilliseconds()
        var previewed: BackfillJobRecord?
        if let preview = request.applies { previewed = try await environment.log.job(preview) }
        let job = BackfillJobRecord.accepted(
            request, jobId: jobId, submittedAt: now, chunkSize: environment.chunkSize, owner: environment.instance,
            requireApproval: environment.requireApproval, previewed: previewed)
        // Before the job exists, so that no end of it can be swept before its addresses are known.
        try await WebhookOutbox(store: environment.log.store).subscribe(jobId: jobId, urls: request.webhooks ?? [])
        guard try await environment.log.insert(job, leaseMilliseconds: environment.lease.milliseconds) else {
            logger.notice("repeated request for backfill \(jobId) ignored: the job exists already")
            return
        }
        if let original = request.retryOf {
            try await environment.log.linkRetry(of: original, by: jobId)
        }
        await environment.publish(job)
        logger.info("backfill \(jobId) accepted", metadata: ["action": "\(request.action)"])
        jobs.start(jobId)
    }

    /// Every third of a lease until this task is cancelled (the service cancels it at graceful
    /// shutdown): takes over orphaned jobs (or gives up on one taken over too many times in a row) and
    /// announces states left unpublished; then stops the running jobs and lets go of their claims so
    /// that another instance can continue them at once.
    public func run() async {
        let environment = self.environment
        await jobs.takeOverOrphans(
            every: environment.lease.duration / 3, kind: .backfill, logger: environment.logger,
            sleep: environment.clock
        ) {
            let found = try await environment.log.claimOrphans(
                owner: environment.instance,
                leaseMilliseconds: environment.lease.milliseconds,
                maxTakeovers: environment.lease.maxTakeovers)
            for id in found.givenUp {
                environment.logger.error(
                    "backfill \(id) is Failed: taken over \(environment.lease.maxTakeovers) times in a row without progress")
                environment.files.cleanUp(jobId: id)
            }
            try await environment.publishUnpublished()
            await self.sweepFilesIfDue()
            return found.claimed
        }
    }

    /// Once an hour: removes files of the store that nothing needs any more (``FileStore/sweep(before:presence:)``).
    private func sweepFilesIfDue() async {
        let due = nextSweep.withLock { next in
            guard environment.clock.now() >= next else { return false }
            next = environment.clock.now() + .seconds(3600)
            return true
        }
        guard due else { return }
        let log = environment.log
        do {
            let removed = try await environment.files.sweep(before: Date().addingTimeInterval(-sweepAge.seconds)) { id in
                guard let job = try await log.job(id) else { return .unknown }
                return job.status.isTerminal ? .ended : .running
            }
            if removed > 0 { environment.logger.info("removed \(removed) file(s) of the file store that nothing needs any more") }
        } catch {
            environment.logger.warning("sweeping the file store failed: \(error)")
        }
        guard let imageRetention else { return }
        do {
            let before = Date().addingTimeInterval(-imageRetention.seconds).epochMilliseconds
            let jobs = try await BeforeImages(store: log.store).removeImages(ofJobsEndedBefore: before)
            if jobs > 0 {
                environment.logger.info("removed the before-images of \(jobs) job(s) that ended over \(imageRetention) ago")
            }
        } catch {
            environment.logger.warning("removing old before-images failed: \(error)")
        }
    }
}
