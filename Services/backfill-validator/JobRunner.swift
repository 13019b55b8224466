import Foundation
import JobstreamBackfill
import JobstreamFiles
import JobstreamMessages
import JobstreamService
import JobstreamStore
import Kafka
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
struct JobRunner: Sendable {
    let jobId: String
    let environment: JobEnvironment

    /// The job's state, shared by its work and its keeper.
    private final class RunState: Sendable {
        private let mutex: Mutex<Shared>
        let claim: JobClaim
        /// Set when the job's task is cancelled: read by work done off the task (an unpacking).
        let cancelled = Atomic<Bool>(false)

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
    private struct Shared: Sendable {
        var job: BackfillJobRecord
        var cancelRequested = false
        var lostClaim = false
        /// Rows refused by the validator, counted in Records Processed while processing.
        var refused = 0
        var processing = false
        var lastPublished: (Int, Int) = (-1, -1)
    }

    private struct LostClaim: Error {}
    private struct CanceledByUser: Error {}

    func run() async {
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
            logger.warning("backfill \(jobId): this validator no longer holds the job's claim (another took it over); stopping here")
        } catch {
            if Task.isCancelled {
                logger.info("backfill \(jobId): stopping for shutdown; another validator or a restart continues it")
                // In a task of its own: this one is cancelled, and the store's calls may refuse to run in it.
                if let heldClaim { await Task { [environment, jobId] in try? await environment.log.release(jobId, claim: heldClaim) }.value }
            } else if let heldClaim {
                logger.error("backfill \(jobId) could not be run: \(error)")
                await fail(claim: heldClaim, reason: "the validator could not finish the job: \(error)", logger: logger)
            }
        }
    }

    // MARK: The job's steps

    private func work(_ shared: RunState, logger: Logger) async throws {
        var job = shared.withLock { $0.job }
        guard !job.status.isTerminal else { return }
        guard let action = BackfillAction.named(job.action) else {
            return try await finish(shared, status: .failed, error: UnknownAction(name: job.action).description)
        }
        if job.status == .accepted {
            job.startDate = Date().epochMilliseconds
            try await transition(shared, to: action.needsFile ? .pending : .processing) {
                $0.startDate = job.startDate
                if !action.needsFile { $0.chunkCount = 1 }
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
            return try await finish(shared, status: .failed, error: TextRule.cut(problem.description, toBytes: InputLimits.reasonBytes))
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
            try await transition(shared, to: .processing) {
                $0.recordsTotal = file.rowCount
                $0.chunkCount = chunkCount
                $0.recordsProcessed = refused
                $0.recordsFailed = refused
            }
            logger.info("backfill \(jobId) validated: \(file.rowCount) rows, \(refused) refused")
        }
        shared.withLock { $0.processing = true }
        do {
            try await fanOut(file, action: action, chunkSize: chunkSize, shared: shared, logger: logger)
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
    private func validate(_ shared: RunState, action: BackfillAction, logger: Logger) async throws -> (ValidatedFile, CheckedFile) {
        let job = shared.withLock { $0.job }
        guard let path = job.filePath, let name = job.uploadedFile else {
            throw FileProblem("\(action.name) needs a file; the request has none")
        }
        let checked = try environment.files.open(path)
        let upload = UploadedFile(url: checked.readableURL, name: name)
        let stop: @Sendable () -> Bool = { shared.shouldStop }
        let (limits, files, id, md5, ledger) = (environment.fileLimits, environment.files, jobId, job.md5, environment.ledger)
        do {
            // Checking a checksum and unpacking block for as long as they take: on a thread of their
            // own, not one of the cooperative pool, which the job's keeper and the other jobs need.
            let csv = try await withTaskCancellationHandler {
                try await onOwnThread {
                    if let md5 { try upload.verifyMD5(md5) }
                    return try upload.csv(limits: limits, unpackingTo: { try files.workFile(jobId: id, name: "unpacked.csv").url },
                                          shouldStop: stop)
                }
            } onCancel: {
                shared.cancelled.store(true, ordering: .relaxed)
            }
            let file = try await BackfillFileScan.validate(
                csvURL: csv, fileName: name, action: action, limits: environment.fileLimits.csv,
                refuse: { try await ledger.recordRowErrors(id, $0) }, isCanceled: stop)
            return (file, checked)
        } catch is CancellationError {
            try checkpoint(shared)
            throw CancellationError()
        }
    }

    /// Processing: sends every valid row, a chunk at a time, skipping chunks already applied. Chunks
    /// go in groups: the group's fingerprints are planned in the ledger first (``ChunkDigest``), so a
    /// processor finds every chunk it is sent planned.
    private func fanOut(_ file: ValidatedFile, action: BackfillAction, chunkSize: Int, shared: RunState,
                        logger: Logger) async throws {
        let applied = try await environment.ledger.appliedChunkIndices(jobId)
        let failedBefore = environment.producer.failedCount
        var rows: [BackfillRow] = []
        var chunkIndex = 0
        var sent = 0
        var group: [BackfillChunk] = []
        func sendGroup() async throws {
            guard !group.isEmpty else { return }
            try checkpoint(shared)
            try await environment.ledger.planChunks(jobId, group.map { ($0.chunkIndex, ChunkDigest.of($0)) })
            for chunk in group {
                try await environment.producer.enqueue(try chunkMessage(chunk))
            }
            sent += group.count
            group.removeAll(keepingCapacity: true)
        }
        func add() async throws {
            defer {
                rows.removeAll(keepingCapacity: true)
                chunkIndex += 1
            }
            guard !applied.contains(chunkIndex) else { return }
            group.append(BackfillChunk(chunkIndex: chunkIndex, action: action.name, rows: rows))
            if group.count == 64 { try await sendGroup() }
        }
        try await file.forEachRow { _, _, verdict in
            guard case .success(let row) = verdict else { return }
            rows.append(row)
            if rows.count == chunkSize { try await add() }
        }
        if !rows.isEmpty { try await add() }
        try await sendGroup()
        guard await environment.producer.flush(timeout: .seconds(120)),
              environment.producer.failedCount == failedBefore else {
            throw KafkaError(.timedOut, "not every chunk of backfill \(jobId) reached the broker; the fan-out is repeated")
        }
        logger.info("backfill \(jobId): \(sent) chunks sent (\(applied.count) were applied already)")
    }

    /// A chunk for the processors, keyed by job and chunk so that one job's chunks spread over every
    /// partition and processor.
    private func chunkMessage(_ chunk: BackfillChunk) throws -> KafkaProducerMessage {
        try KafkaProducerMessage(topic: Topics.backfillChunks, envelope: Envelope(jobId: jobId, payload: chunk),
                                 key: "\(jobId)/\(chunk.chunkIndex)")
    }

    /// How long no chunk may be applied before the chunks not applied are sent again.
    static let stallAfter = Duration.seconds(120)

    /// Waits until processors applied `chunkCount` chunks (or the job is canceled). Records Processed
    /// is published by the keeper meanwhile. When no chunk is applied for ``stallAfter`` (a chunk
    /// message lost, or no processor running), `sendAgain` sends the chunks not applied once more;
    /// processors skip any applied meanwhile.
    private func waitForChunks(_ chunkCount: Int, shared: RunState, logger: Logger,
                               sendAgain: () async throws -> Void = {}) async throws {
        var lastMoved = (ContinuousClock.now, -1)
        while true {
            try checkpoint(shared)
            let done = try await environment.ledger.progress(jobId).chunks
            if done >= chunkCount { return }
            if done != lastMoved.1 {
                lastMoved = (ContinuousClock.now, done)
            } else if ContinuousClock.now - lastMoved.0 >= Self.stallAfter {
                logger.warning("backfill \(jobId): no chunk applied for \(Self.stallAfter) (\(done) of \(chunkCount) done); sending the rest again")
                try await sendAgain()
                lastMoved.0 = ContinuousClock.now
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// A file-less action is one chunk without rows; Records Processed is the records it changed.
    private func runFileless(_ shared: RunState, action: BackfillAction, logger: Logger) async throws {
        shared.withLock { $0.processing = true }
        do {
            if try await environment.ledger.appliedChunkIndices(jobId).isEmpty {
                try checkpoint(shared)
                let chunk = BackfillChunk(chunkIndex: 0, action: action.name, rows: [])
                try await environment.ledger.planChunks(jobId, [(0, ChunkDigest.of(chunk))])
                _ = try await environment.producer.send(try chunkMessage(chunk))
            }
            try await waitForChunks(1, shared: shared, logger: logger)
        } catch is CanceledByUser {
            return try await finishCounting(shared, status: .canceled)
        }
        try await finishCounting(shared, status: .completed)
    }

    // MARK: Ending

    /// Writes the result file under a name of this run's own, then ends the job and moves the file
    /// into place in one transaction that first checks the claim: a validator that lost the job
    /// meanwhile leaves the new owner's result file alone.
    private func finishWithResult(_ file: ValidatedFile, shared: RunState, status: BackfillStatus, logger: Logger) async throws {
        let job = shared.withLock { $0.job }
        let result = try environment.files.resultFile(jobId: jobId, uploadedName: job.uploadedFile)
        let partial = result.url.deletingLastPathComponent()
            .appendingPathComponent(".\(result.url.lastPathComponent).\(shared.claim.epoch)-\(UUID().uuidString.prefix(8)).partial")
        defer { try? FileManager.default.removeItem(at: partial) }
        let counts = try await ResultFileWriter(ledger: environment.ledger, jobId: jobId).write(file, to: partial)
        try checkClaim(shared)
        let progress = try await environment.ledger.progress(jobId)
        let refused = shared.withLock { $0.refused }
        logger.info("backfill \(jobId) \(status.rawValue): \(counts.succeeded) rows applied, \(counts.failed) not")
        try await finish(shared, status: status, error: nil, moving: (partial, result.url)) {
            $0.resultPath = result.relative
            $0.recordsProcessed = refused + progress.rows
            $0.recordsFailed = refused + progress.failed
        }
    }

    private func finishCounting(_ shared: RunState, status: BackfillStatus) async throws {
        let progress = try await environment.ledger.progress(jobId)
        try await finish(shared, status: status, error: nil) {
            $0.recordsProcessed = progress.rows
            $0.recordsFailed = progress.failed
        }
    }

    /// Ends the job as `status` if the claim still holds it (moving `moving.from` onto `moving.to` in
    /// the same transaction), announces it, and clears its working files.
    private func finish(_ shared: RunState, status: BackfillStatus, error: String?, moving: (from: URL, to: URL)? = nil,
                        _ change: (inout BackfillJobRecord) -> Void = { _ in }) async throws {
        var job = shared.withLock { $0.job }
        job.status = try job.status.transition(to: status)
        change(&job)
        job.error = error
        job.endDate = Date().epochMilliseconds
        if job.startDate == nil { job.startDate = job.endDate }
        guard let sequence = try await environment.log.finish(job, claim: shared.claim, whileHeld: {
            if let moving { try FileStore.moveReplacing(moving.from, onto: moving.to) }
        }) else { throw LostClaim() }
        job.sequence = sequence
        let ended = job
        shared.withLock { $0.job = ended }
        await environment.publish(job)
        environment.files.cleanUp(jobId: jobId)
        environment.logger.info("backfill \(jobId) is \(status.rawValue)", metadata: ["job.id": "\(jobId)"])
    }

    /// Fails a job outside the normal flow (an unexpected error), if this run's claim still holds it.
    private func fail(claim: JobClaim, reason: String, logger: Logger) async {
        do {
            guard var job = try await environment.log.job(jobId), !job.status.isTerminal, job.claim == claim else { return }
            job.status = .failed
            job.error = TextRule.cut(reason, toBytes: InputLimits.reasonBytes)
            job.endDate = Date().epochMilliseconds
            if let sequence = try await environment.log.save(job, claim: claim, leaseMilliseconds: 0) {
                job.sequence = sequence
                await environment.publish(job)
                environment.files.cleanUp(jobId: jobId)
            }
        } catch {
            logger.error("backfill \(jobId) could not be marked Failed: \(error); a takeover will retry it")
        }
    }

    // MARK: Shared state

    /// Runs blocking `work` on a thread of Dispatch's pool and waits for it.
    private func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Moves the job to a status that does not end it (refusing an illegal move), saves it if the
    /// claim still holds it, and announces it.
    private func transition(_ shared: RunState, to status: BackfillStatus,
                            _ change: (inout BackfillJobRecord) -> Void = { _ in }) async throws {
        var job = shared.withLock { $0.job }
        job.status = try job.status.transition(to: status)
        change(&job)
        try checkClaim(shared)
        guard let sequence = try await environment.log.save(job, claim: shared.claim,
                                                            leaseMilliseconds: environment.lease.milliseconds) else {
            throw LostClaim()
        }
        job.sequence = sequence
        let saved = job
        shared.withLock { $0.job = saved }
        await environment.publish(job)
        environment.logger.info("backfill \(jobId) is \(status.rawValue)", metadata: ["job.id": "\(jobId)"])
    }

    /// Throws when the job should stop: canceled by a user, the claim lost, or shutdown.
    private func checkpoint(_ shared: RunState) throws {
        try checkClaim(shared)
        if shared.withLock({ $0.cancelRequested }) { throw CanceledByUser() }
        try Task.checkCancellation()
    }

    /// Throws ``LostClaim`` when the claim is known lost: nothing more may be done as owner.
    private func checkClaim(_ shared: RunState) throws {
        if shared.withLock({ $0.lostClaim }) { throw LostClaim() }
    }

    /// Every second: renews the claim, notices a cancel request, and publishes progress.
    private func keepClaim(_ shared: RunState, logger: Logger) async throws {
        while true {
            try await Task.sleep(for: .seconds(1))
            do {
                guard let current = try await environment.log.renew(jobId, claim: shared.claim,
                                                                    leaseMilliseconds: environment.lease.milliseconds) else {
                    shared.withLock { $0.lostClaim = true }
                    return
                }
                shared.withLock { $0.cancelRequested = current.cancelRequestedBy != nil }
                if shared.withLock({ $0.processing }) {
                    try await publishProgress(try await environment.ledger.progress(jobId), shared: shared)
                }
            } catch {
                // The claim lasts several seconds: one failed renewal is retried at the next tick.
                logger.warning("backfill \(jobId): renewing the claim failed: \(error)")
            }
        }
    }

    /// Saves and announces Records Processed when it changed since last announced.
    private func publishProgress(_ progress: BackfillLedger.Progress, shared: RunState) async throws {
        let update: BackfillJobRecord? = shared.withLock { state in
            let processed = state.refused + progress.rows, failed = state.refused + progress.failed
            guard state.lastPublished != (processed, failed), state.job.status == .processing else { return nil }
            state.lastPublished = (processed, failed)
            state.job.recordsProcessed = processed
            state.job.recordsFailed = failed
            return state.job
        }
        guard var update else { return }
        guard let sequence = try await environment.log.saveProgress(jobId, claim: shared.claim, processed: update.recordsProcessed,
                                                                    failed: update.recordsFailed) else {
            shared.withLock { $0.lostClaim = true }
            return
        }
        update.sequence = sequence
        let saved = update
        shared.withLock { if $0.job.sequence < sequence { $0.job.sequence = sequence } }
        await environment.publish(saved)
    }
}
