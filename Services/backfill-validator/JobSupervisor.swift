import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Owns the backfill jobs of this validator instance: takes new requests and cancel requests,
/// runs each job it owns, and takes over unfinished jobs whose owner stopped renewing its claim.
final class JobSupervisor: Service, Sendable {
    let environment: JobEnvironment
    private let running = Mutex<[String: Task<Void, Never>]>([:])

    init(store: Store, files: FileStore, producer: KafkaProducer, logger: Logger, chunkSize: Int, lease: Duration) {
        environment = JobEnvironment(instance: Lease.instanceName(), log: BackfillJobLog(store: store), ledger: BackfillLedger(store: store),
                                     files: files, producer: producer, logger: logger, chunkSize: chunkSize, lease: lease)
    }

    /// Handles a message from the request or control topic.
    @Sendable func handle(_ envelope: AnyEnvelope, _ message: KafkaConsumerMessage, _ logger: Logger) async throws {
        if let request = envelope.payload(as: BackfillRequest.self) {
            try await accept(request, jobId: envelope.jobId, logger: logger)
        } else if let cancel = envelope.payload(as: BackfillCancel.self) {
            try await requestCancel(jobId: envelope.jobId, by: cancel.requestedBy, logger: logger)
        }
    }

    /// Records the job as Accepted and starts it; a repeated request (same job id) changes nothing.
    func accept(_ request: BackfillRequest, jobId: String, logger: Logger) async throws {
        guard !jobId.isEmpty, jobId.count <= 100 else {
            throw UnprocessableMessage("a backfill request needs a job id of 1 to 100 characters")
        }
        let now = epochMilliseconds()
        let job = BackfillJobRecord(
            jobId: jobId, action: request.action, uploadedFile: request.file?.name, filePath: request.file?.path,
            fileSize: request.file?.sizeBytes.map(Int.init), md5: request.md5, generatedBy: request.generatedBy,
            retryOf: request.retryOf, status: .accepted, submittedAt: now, chunkSize: environment.chunkSize,
            owner: environment.instance, leaseUntil: environment.leaseUntil(from: now))
        guard try await environment.log.insert(job) else {
            logger.notice("repeated request for backfill \(jobId) ignored: the job exists already")
            return
        }
        if let original = request.retryOf {
            try await environment.log.linkRetry(of: original, by: jobId)
        }
        try await environment.publish(job)
        logger.info("backfill \(jobId) accepted", metadata: ["action": "\(request.action)"])
        start(jobId)
    }

    /// Records a cancel request; the job's owner ends the job as Canceled at its next check.
    func requestCancel(jobId: String, by user: String, logger: Logger) async throws {
        guard let job = try await environment.log.requestCancel(jobId, by: user) else {
            logger.warning("cancel request for unknown backfill \(jobId) ignored")
            return
        }
        if job.status.isTerminal {
            logger.notice("cancel request for backfill \(jobId) ignored: it is \(job.status.rawValue) already")
        } else {
            logger.info("backfill \(jobId) cancel requested by \(user)")
        }
    }

    /// Takes over orphaned jobs every third of a lease until shutdown, then stops the running jobs
    /// and lets go of their claims so that another instance can continue them at once.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let now = epochMilliseconds()
                    let claimed = try await self.environment.log.claimOrphans(
                        owner: self.environment.instance, now: now, leaseUntil: self.environment.leaseUntil(from: now))
                    for jobId in claimed {
                        self.environment.logger.notice("taking over backfill \(jobId): its owner stopped renewing its claim")
                        self.start(jobId)
                    }
                } catch {
                    self.environment.logger.error("looking for orphaned backfills failed: \(error)")
                }
                try? await Task.sleep(for: self.environment.lease / 3)
            }
        }
        let tasks = running.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func start(_ jobId: String) {
        running.withLock { running in
            guard running[jobId] == nil else { return }
            running[jobId] = Task {
                await JobRunner(jobId: jobId, environment: environment).run()
                _ = self.running.withLock { $0.removeValue(forKey: jobId) }
            }
        }
    }
}
