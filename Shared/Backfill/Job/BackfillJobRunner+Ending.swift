import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging
import Synchronization

/// Ending a job: the result file, the last counts, the claim checked in the same transaction.
extension BackfillJobRunner {
    /// Writes the result file under a name of this run's own, then ends the job and moves the file
    /// into place in one transaction that first checks the claim: a validator that lost the job
    /// meanwhile leaves the new owner's result file alone.
    func finishWithResult(_ file: ValidatedFile, shared: RunState, status: BackfillStatus, logger: Logger) async throws {
        let job = shared.withLock { $0.job }
        if job.preview != 0 { return try await finishPreview(file, shared: shared, status: status, logger: logger) }
        let result = try environment.files.resultFile(jobId: jobId, uploadedName: job.uploadedFile)
        let partial = partialFile(for: result.url, shared: shared)
        defer { try? FileManager.default.removeItem(at: partial) }
        let counts = try await ResultFileWriter(ledger: environment.ledger, jobId: jobId).write(file, to: partial)
        try checkClaim(shared)
        let progress = try await environment.ledger.progress(jobId)
        let refused = shared.withLock { $0.refused }
        logger.info("backfill \(jobId) \(status.rawValue): \(counts.succeeded) rows applied, \(counts.failed) not")
        try await finish(shared, status: status, error: nil, keeping: (partial, result)) {
            $0.recordsProcessed = refused + progress.rows
            $0.recordsFailed = refused + progress.failed
        }
    }

    /// A name of this run's own beside `url`, for a file written before the job ends and kept as
    /// `url` when it does (``finish(_:status:error:keeping:_:)``).
    func partialFile(for url: URL, shared: RunState) -> URL {
        url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(shared.claim.epoch)-\(UUID().uuidString.prefix(8)).partial")
    }

    func finishCounting(_ shared: RunState, status: BackfillStatus) async throws {
        let progress = try await environment.ledger.progress(jobId)
        try await finish(shared, status: status, error: nil) {
            $0.recordsProcessed = progress.rows
            $0.recordsFailed = progress.failed
        }
    }

    /// Ends the job as `status` if the claim still holds it, announces it, and clears its working
    /// files. `keeping` is the job's finished file, written at `partial`: kept as `result`
    /// (``FileStore/keep(_:as:run:)``) and named by the record in the same transaction; a run that
    /// lost the claim abandons it.
    func finish(
        _ shared: RunState, status: BackfillStatus, error: String?,
        keeping file: (partial: URL, result: (relative: String, url: URL))? = nil,
        _ change: (inout BackfillJobRecord) -> Void = { _ in }
    ) async throws {
        var kept: KeptFile?
        if let file { kept = try await environment.files.keep(file.partial, as: file.result, run: shared.claim.epoch) }
        do {
            try await end(shared, status: status, error: error, keeping: kept, change)
        } catch let lost as LostClaim {
            await kept?.abandon()
            throw lost
        }
        environment.files.cleanUp(jobId: jobId)
        environment.logger.info("backfill \(jobId) is \(status.rawValue)", metadata: ["job.id": "\(jobId)"])
    }

    private func end(
        _ shared: RunState, status: BackfillStatus, error: String?, keeping: KeptFile?,
        _ change: (inout BackfillJobRecord) -> Void
    ) async throws {
        try await shared.saving.withLock {
            var job = shared.withLock { $0.job }
            job.status = try job.status.transition(to: status)
            if let keeping { job.resultPath = keeping.relative }
            change(&job)
            job.error = error
            job.endDate = environment.clock.epochMilliseconds()
            job.rowsPerSecond = nil
            job.estimatedEnd = nil
            if job.startDate == nil { job.startDate = job.endDate }
            guard
                let sequence = try await environment.log.finish(
                    job, claim: shared.claim,
                    whileHeld: { try keeping?.takeWhileHeld() })
            else { throw LostClaim() }
            job.sequence = sequence
            let ended = job
            shared.withLock { $0.job = ended }
            await environment.publish(job)
        }
    }

    /// Fails a job outside the normal flow (an unexpected error), if this run's claim still holds it.
    func fail(claim: JobClaim, reason: String, logger: Logger) async {
        do {
            guard var job = try await environment.log.job(jobId), !job.status.isTerminal, job.claim == claim else { return }
            job.status = .failed
            job.error = TextRule.cut(reason, toBytes: InputLimits.reasonBytes)
            job.endDate = environment.clock.epochMilliseconds()
            if let sequence = try await environment.log.save(job, claim: claim, leaseMilliseconds: 0) {
                job.sequence = sequence
                await environment.publish(job)
                environment.files.cleanUp(jobId: jobId)
            }
        } catch {
            logger.error("backfill \(jobId) could not be marked Failed: \(error); a takeover will retry it")
        }
    }
}
