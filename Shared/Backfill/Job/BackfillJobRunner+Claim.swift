import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging
import Synchronization

/// Saving as owner: moves fenced by the claim, the keeper that renews it, and progress.
extension BackfillJobRunner {
    /// Runs blocking `work` on a thread of Dispatch's pool and waits for it.
    func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Moves the job to a status that does not end it (refusing an illegal move), saves it if the
    /// claim still holds it, and announces it.
    func transition(
        _ shared: RunState, to status: BackfillStatus,
        _ change: (inout BackfillJobRecord) -> Void = { _ in }
    ) async throws {
        try await shared.saving.withLock {
            var job = shared.withLock { $0.job }
            job.status = try job.status.transition(to: status)
            change(&job)
            try checkClaim(shared)
            guard
                let sequence = try await environment.log.save(
                    job, claim: shared.claim,
                    leaseMilliseconds: environment.lease.milliseconds)
            else {
                throw LostClaim()
            }
            job.sequence = sequence
            let saved = job
            shared.withLock { $0.job = saved }
            await environment.publish(job)
        }
        environment.logger.info("backfill \(jobId) is \(status.rawValue)", metadata: ["job.id": "\(jobId)"])
    }

    /// Throws when the job should stop: canceled by a user, the claim lost, or shutdown.
    func checkpoint(_ shared: RunState) throws {
        try checkClaim(shared)
        if shared.withLock({ $0.cancelRequested }) { throw CanceledByUser() }
        try Task.checkCancellation()
    }

    /// Throws ``LostClaim`` when the claim is known lost: nothing more may be done as owner.
    func checkClaim(_ shared: RunState) throws {
        if shared.withLock({ $0.lostClaim }) { throw LostClaim() }
    }

    /// Every second: renews the claim, notices a cancel request, a hold and a new rate, and publishes progress.
    func keepClaim(_ shared: RunState, logger: Logger) async throws {
        while true {
            try await environment.clock.sleep(for: .seconds(1))
            do {
                guard
                    let current = try await environment.log.renew(
                        jobId, claim: shared.claim,
                        leaseMilliseconds: environment.lease.milliseconds)
                else {
                    shared.withLock { $0.lostClaim = true }
                    return
                }
                shared.withLock {
                    $0.cancelRequested = current.cancelRequestedBy != nil
                    $0.rate = current.rateLimit
                }
                if shared.withLock({ $0.processing }) {
                    let hold = try await environment.log.hold(current)
                    shared.withLock { $0.hold = hold }
                    try await publishProgress(try await environment.ledger.progress(jobId), shared: shared)
                } else if shared.withLock({ $0.job.status == .pending }) {
                    try await publishValidation(shared)
                }
            } catch {
                if Task.isCancelled { return }  // the job ended, or shutdown: nothing to renew
                // The claim lasts several seconds: one failed renewal is retried at the next tick.
                logger.warning("backfill \(jobId): renewing the claim failed: \(error)")
            }
        }
    }

    /// Saves and announces Records Processed — with the pace and the estimated end — when it changed
    /// since last announced.
    func publishProgress(_ progress: BackfillLedger.Progress, shared: RunState) async throws {
        let (now, epoch) = (environment.clock.now(), environment.clock.epochMilliseconds())
        try await shared.saving.withLock {
            let update: BackfillJobRecord? = shared.withLock { state in
                let processed = state.refused + progress.rows, failed = state.refused + progress.failed
                guard state.job.status == .processing else { return nil }
                state.pace.add(rows: processed, at: now)
                guard state.lastPublished != (processed, failed) else { return nil }
                state.lastPublished = (processed, failed)
                state.job.recordsProcessed = processed
                state.job.recordsFailed = failed
                state.job.rowsPerSecond = state.pace.rowsPerSecond
                state.job.estimatedEnd = state.job.recordsTotal.flatMap {
                    state.pace.estimatedEnd(remaining: $0 - processed, nowMilliseconds: epoch)
                }
                return state.job
            }
            guard let update else { return }
            await announce(update, savedAs: try await environment.log.saveProgress(update, claim: shared.claim), shared: shared)
        }
    }

    /// Announces `update` once saved as state `sequence`; a save the claim refused (nil) marks the claim lost.
    private func announce(_ update: BackfillJobRecord, savedAs sequence: Int?, shared: RunState) async {
        guard let sequence else {
            shared.withLock { $0.lostClaim = true }
            return
        }
        var saved = update
        saved.sequence = sequence
        shared.withLock { if $0.job.sequence < sequence { $0.job.sequence = sequence } }
        await environment.publish(saved)
    }

    /// Saves and announces how far validation has read, when it moved since last announced.
    func publishValidation(_ shared: RunState) async throws {
        try await shared.saving.withLock {
            let update: BackfillJobRecord? = shared.withLock { state in
                guard state.job.status == .pending, let (rows, bytes) = state.validated,
                    state.job.rowsValidated != rows || state.job.bytesValidated != bytes
                else { return nil }
                state.job.rowsValidated = rows
                state.job.bytesValidated = bytes
                return state.job
            }
            guard let update, let rows = update.rowsValidated, let bytes = update.bytesValidated else { return }
            let sequence = try await environment.log.saveValidation(jobId, claim: shared.claim, rows: rows, bytes: bytes)
            await announce(update, savedAs: sequence, shared: shared)
        }
    }
}
