import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging
import Synchronization

/// Runs one backfill job from where its log says it is to its end:
/// Accepted → Pending (validate the file) → Processing (fan chunks out, wait for every chunk's
/// outcome) → Completed, with the result file written; or Failed, or Canceled on request.
///
/// Every step can be repeated: a job taken over after its owner died starts again from its logged
/// status; refused rows are recorded idempotently, chunks are the same on every fan-out and
/// processors skip those they applied. While the job runs, a keeper renews the claim every second,
/// notices cancel requests, and publishes Records Processed whenever it changes.
///
/// Everything the runner does as owner is fenced by its claim (``JobClaim``): saves are refused once
/// the claim is lost, the result file is written under a name of this run's own and moved into place
/// only in the transaction that checks the claim and ends the job, and nothing is announced that was
/// not saved. A renewal slow to get through (a busy store) does not stop the runner: if another
/// validator took the job over meanwhile, the claim's epoch refuses the runner's next write.
public struct BackfillJobRunner: Sendable {
    public let jobId: String
    public let environment: BackfillJobEnvironment

    public init(jobId: String, environment: BackfillJobEnvironment) {
        self.jobId = jobId
        self.environment = environment
    }

    /// The job's state, shared by its work and its keeper.
    final class RunState: Sendable {
        private let mutex: Mutex<Shared>
        let claim: JobClaim
        /// Set when the job's task is cancelled: read by work done off the task (an unpacking).
        let cancelled = Atomic<Bool>(false)
        /// Held while a state is saved and announced, so announcements leave in the order the saves
        /// were made: a progress update the keeper saved just before the end is never announced after it.
        let saving = AsyncMutex()

        init(_ initial: Shared, claim: JobClaim) {
            mutex = Mutex(initial)
            self.claim = claim
        }

        func withLock<T: Sendable>(_ body: (inout Shared) -> T) -> T {
            mutex.withLock { body(&$0) }
        }

        /// Whether the work should stop: canceled, the claim lost, or shutdown.
        var shouldStop: Bool {
            withLock { $0.cancelRequested || $0.lostClaim } || Task.isCancelled || cancelled.load(ordering: .relaxed)
        }
    }

    /// What the job's work and its keeper share.
    struct Shared: Sendable {
        var job: BackfillJobRecord
        var cancelRequested = false
        var lostClaim = false
        /// Rows refused by the validator, counted in Records Processed while processing.
        var refused = 0
        var processing = false
        var lastPublished: (Int, Int) = (-1, -1)
        /// Why the job may not apply rows now (a pause request, the failure brake), as last read.
        var hold: String?
        /// The most rows per second the job may send, as last read, and when the last chunk went and
        /// how many rows it held.
        var rate: Int?
        var lastSent: (at: ContinuousClock.Instant, rows: Int)?
        /// How far validation has read (rows, bytes), and how fast rows have lately had an outcome.
        var validated: (rows: Int, bytes: Int)?
        var pace = ProgressPace()
    }

    struct LostClaim: Error {}
    struct CanceledByUser: Error {}
    /// The job is held (paused): the fan-out stops, and resumes once the hold is lifted.
    struct Held: Error {}

    /// Runs the job to its end, or until its claim is lost or the task is cancelled (shutdown).
    public func run() async {
        var logger = environment.logger
        logger[metadataKey: "job.id"] = "\(jobId)"
        var heldClaim: JobClaim?
        do {
            guard let job = try await environment.log.job(jobId) else {
                logger.error("backfill \(jobId) is not in the job log")
                return
            }
            guard let claim = job.claim, claim.owner == environment.instance else { throw LostClaim() }
            heldClaim = claim
            let shared = RunState(Shared(job: job, cancelRequested: job.cancelRequestedBy != nil), claim: claim)
            let jobLogger = logger
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await keepClaim(shared, logger: jobLogger) }
                defer { group.cancelAll() }
                try await work(shared, logger: jobLogger)
            }
        } catch is LostClaim {
            logger.warning(
                "backfill \(jobId): this validator no longer holds the job's claim (another took it over); stopping here")
        } catch {
            if Task.isCancelled {
                logger.info("backfill \(jobId): stopping for shutdown; another validator or a restart continues it")
                // In a task of its own: this one is cancelled, and the store's calls may refuse to run in it.
                if let heldClaim {
                    await Task { [environment, jobId] in try? await environment.log.release(jobId, claim: heldClaim) }.value
                }
            } else if let heldClaim {
                logger.error("backfill \(jobId) could not be run: \(error)")
                await fail(claim: heldClaim, reason: "the validator could not finish the job: \(error)", logger: logger)
            }
        }
    }

    // MARK: The job's steps

    func work(_ shared: RunState, logger: Logger) async throws {
        var job = shared.withLock { $0.job }
        guard !job.status.isTerminal else { return }
        guard let action = BackfillAction.named(job.action) else {
            return try await finish(shared, status: .failed, error: UnknownAction(name: job.action).description)
        }
        if let maxFailed = job.maxFailed, case .failure(let problem) = FailureBrake.parse(maxFailed) {
            // A brake that does not parse is not dropped silently: the job says why it cannot run.
            return try await finish(shared, status: .failed, error: problem.description)
        }
        if let original = job.reverts {
            return try await runRevert(shared, of: original, action: action, logger: logger)
        }
        if let preview = job.applies, job.status == .accepted,
            let problem = try await environment.log.linkApply(
                of: preview, by: jobId, approvedBy: job.approvedBy, requireApproval: environment.requireApproval)
        {
            return try await finish(shared, status: .failed, error: TextRule.cut(problem, toBytes: InputLimits.reasonBytes))
        }
        if job.status == .accepted {
            job.startDate = environment.clock.epochMilliseconds()
            // A job logged by the dashboard was not checked against this validator's approval rule yet.
            let mustPreview = job.preview == 0 && environment.requireApproval && action.needsFile && job.applies == nil
            try await transition(shared, to: action.needsFile ? .pending : .processing) {
                $0.startDate = job.startDate
                if !action.needsFile { $0.chunkCount = 1 }
                if mustPreview { $0.preview = 1 }
            }
        }
        if !action.needsFile {
            return try await runFileless(shared, action: action, logger: logger)
        }
        let file: ValidatedFile
        let upload: CheckedFile
        do {
            (file, upload) = try await validate(shared, action: action, logger: logger)
        } catch let problem as FileProblem {
            return try await finish(
                shared, status: .failed, error: TextRule.cut(problem.description, toBytes: InputLimits.reasonBytes))
        } catch is CanceledByUser {
            return try await finish(shared, status: .canceled, error: nil)
        }
        defer { withExtendedLifetime(upload) {} }
        let refused = try await environment.ledger.rowErrorCount(jobId)
        let valid = file.rowCount - refused
        let chunkSize = shared.withLock { $0.job.chunkSize }
        let chunkCount = (valid + chunkSize - 1) / chunkSize
        shared.withLock { $0.refused = refused }
        if shared.withLock({ $0.job.status }) == .pending {
            let validated = shared.withLock { $0.validated }
            try await transition(shared, to: .processing) {
                $0.recordsTotal = file.rowCount
                $0.chunkCount = chunkCount
                $0.recordsProcessed = refused
                $0.recordsFailed = refused
                $0.rowsValidated = file.rowCount
                $0.bytesValidated = validated?.bytes ?? $0.bytesValidated
            }
            logger.info("backfill \(jobId) validated: \(file.rowCount) rows, \(refused) refused")
        }
        if let maxFailed = shared.withLock({ $0.job.maxFailed }) {
            try await environment.log.setUpBrake(jobId, maxFailed: maxFailed, refused: refused)
        }
        try await startProcessing(shared)
        do {
            try await unlessHeld { try await fanOut(file, action: action, chunkSize: chunkSize, shared: shared, logger: logger) }
            try await waitForChunks(chunkCount, shared: shared, logger: logger) {
                try await fanOut(file, action: action, chunkSize: chunkSize, shared: shared, logger: logger)
            }
        } catch is CanceledByUser {
            return try await finishWithResult(file, shared: shared, status: .canceled, logger: logger)
        }
        try await finishWithResult(file, shared: shared, status: .completed, logger: logger)
    }

    /// Pending: the file's checksum, header and rows. Returns the file validated and the upload,
    /// opened once after its path was checked, which must stay open while the file is read.
    func validate(_ shared: RunState, action: BackfillAction, logger: Logger) async throws -> (ValidatedFile, CheckedFile) {
        let job = shared.withLock { $0.job }
        guard let path = job.filePath, let name = job.uploadedFile else {
            throw FileProblem("\(action.name) needs a file; the request has none")
        }
        let checked = try await environment.files.fetch(path, forJob: jobId)
        let upload = UploadedFile(url: checked.readableURL, name: name)
        if let expected = job.fileSize, let actual = UploadedFile.size(of: upload.url), Int64(expected) != actual {
            throw FileProblem(
                "the file \(name) is \(actual) bytes in the file store, not \(expected) as the request says: it was cut short or replaced"
            )
        }
        let stop: @Sendable () -> Bool = { shared.shouldStop }
        let (limits, files, id, md5, ledger) = (environment.fileLimits, environment.files, jobId, job.md5, environment.ledger)
        let needsDigest = job.preview != 0 || job.applies != nil
        do {
            // Checking a checksum and unpacking block for as long as they take: on a thread of their
            // own, not one of the cooperative pool, which the job's keeper and the other jobs need.
            let (csv, digest) = try await withTaskCancellationHandler {
                try await onOwnThread {
                    if let md5 { try upload.verifyMD5(md5) }
                    let digest = needsDigest ? try upload.sha256() : nil
                    return (
                        try upload.csv(
                            limits: limits, unpackingTo: { try files.workFile(jobId: id, name: "unpacked.csv").url },
                            shouldStop: stop), digest
                    )
                }
            } onCancel: {
                shared.cancelled.store(true, ordering: .relaxed)
            }
            try await checkDigest(digest, shared: shared)
            let file = try await BackfillFileScan.validate(
                csvURL: csv, fileName: name, action: action, limits: environment.fileLimits.csv,
                refuse: { try await ledger.recordRowErrors(id, $0) }, isCanceled: stop,
                progress: { rows, bytes in shared.withLock { $0.validated = (rows, bytes) } })
            return (file, checked)
        } catch is CancellationError {
            try checkpoint(shared)
            throw CancellationError()
        }
    }
}
