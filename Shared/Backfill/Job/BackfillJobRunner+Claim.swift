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
                }
            } catch {
                if Task.isCancelled { return }  // the job ended, or shutdown: nothing to renew
                // The claim lasts several seconds: one failed renewal is retried at the next tick.
                logger.warning("backfill \(jobId): renewing the claim failed: \(error)")
            }
        }
    }

    /// Saves and announces Records Processed when it changed since last announced.
    func publishProgress(_ progress: BackfillLedger.Progress, shared: RunState) async throws {
        try await shared.saving.withLock {
            let update: BackfillJobRecord? = shared.withLock { state in
                let processed = state.refused + progress.rows, failed = state.refused + progress.failed
                guard state.lastPublished != (processed, failed), state.job.status == .processing else { return nil }
                state.lastPublished = (processed, failed)
                state.job.recordsProcessed = processed
                state.job.recordsFailed = failed
                return state.job
            }
            guard var update else { return }
            guard
                let sequence = try await environment.log.saveProgress(
                    jobId, claim: shared.claim, processed: update.recordsProcessed,
                    failed: update.recordsFailed)
            else {
                shared.withLock { $0.lostClaim = true }
                return
            }
            update.sequence = sequence
            let saved = update
            shared.withLock { if $0.job.sequence < sequence { $0.job.sequence = sequence } }
            await environment.publish(saved)
        }
    }
}
