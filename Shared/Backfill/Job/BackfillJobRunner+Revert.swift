import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging

/// A revert: a job that puts back what another backfill changed, from that job's before-images.
/// Accepted → Processing (the images sent in chunks of row numbers, applied by processors as any
/// chunk: once, in a transaction, fenced by the plan) → Completed with its own result file, or Failed
/// when the job cannot be reverted (still running, nothing applied, reverted already).
extension BackfillJobRunner {
    func runRevert(_ shared: RunState, of original: String, action: BackfillAction, logger: Logger) async throws {
        let images = BeforeImages(store: environment.log.store)
        if shared.withLock({ $0.job.status }) == .accepted {
            if let problem = try await environment.log.linkRevert(of: original, by: jobId) {
                return try await finish(shared, status: .failed, error: TextRule.cut(problem, toBytes: InputLimits.reasonBytes))
            }
            let count = try await images.count(original)
            let chunkSize = shared.withLock { $0.job.chunkSize }
            let startDate = environment.clock.epochMilliseconds()
            try await transition(shared, to: .processing) {
                $0.startDate = startDate
                $0.recordsTotal = count
                $0.chunkCount = (count + chunkSize - 1) / chunkSize
            }
            logger.info("backfill \(jobId) reverts backfill \(original): \(count) rows")
        }
        let chunkCount = shared.withLock { $0.job.chunkCount ?? 0 }
        try await startProcessing(shared)
        do {
            try await unlessHeld {
                try await fanOutRevert(of: original, action: action, images: images, shared: shared, logger: logger)
            }
            try await waitForChunks(chunkCount, shared: shared, logger: logger) {
                try await fanOutRevert(of: original, action: action, images: images, shared: shared, logger: logger)
            }
        } catch is CanceledByUser {
            return try await finishRevert(of: original, action: action, shared: shared, status: .canceled)
        }
        try await finishRevert(of: original, action: action, shared: shared, status: .completed)
    }

    /// Sends the rows of `original` that changed a record, a chunk of row numbers at a time, skipping
    /// chunks applied already. The images never change, so every fan-out makes the same chunks.
    private func fanOutRevert(
        of original: String, action: BackfillAction, images: BeforeImages, shared: RunState,
        logger: Logger
    ) async throws {
        let applied = try await environment.ledger.appliedChunkIndices(jobId)
        let chunkSize = shared.withLock { $0.job.chunkSize }
        var group: [BackfillChunk] = []
        var chunkIndex = 0, after = 0, sent = 0
        while true {
            let page = try await images.images(original, after: after, limit: chunkSize)
            guard let last = page.last else { break }
            after = last.rowNumber
            defer { chunkIndex += 1 }
            guard !applied.contains(chunkIndex) else { continue }
            let rows = page.map { BackfillRow(rowNumber: $0.rowNumber, fields: [:]) }
            group.append(BackfillChunk(chunkIndex: chunkIndex, action: action.name, rows: rows))
            if group.count == Self.chunkGroup {
                try await sendPlanned(group, shared: shared)
                sent += group.count
                group.removeAll(keepingCapacity: true)
            }
        }
        try await sendPlanned(group, shared: shared)
        sent += group.count
        logger.info("backfill \(jobId): \(sent) revert chunks sent (\(applied.count) were applied already)")
    }

    /// Writes the revert's result file and ends it, as ``finishWithResult(_:shared:status:logger:)`` does.
    private func finishRevert(
        of original: String, action: BackfillAction, shared: RunState,
        status: BackfillStatus
    ) async throws {
        let originalName = try await environment.log.job(original)?.uploadedFile ?? action.name
        let stem = (originalName as NSString).deletingPathExtension
        let result = try environment.files.resultFile(jobId: jobId, uploadedName: "\(stem)-revert.csv")
        let partial = partialFile(for: result.url, shared: shared)
        defer { try? FileManager.default.removeItem(at: partial) }
        let counts = try await RevertResultWriter(store: environment.log.store, jobId: jobId, original: original)
            .write(keyName: action.recordKeyName, to: partial)
        try checkClaim(shared)
        let progress = try await environment.ledger.progress(jobId)
        environment.logger.info(
            "backfill \(jobId) \(status.rawValue): \(counts.succeeded) rows of \(original) put back, \(counts.failed) not",
            metadata: ["job.id": "\(jobId)"])
        try await finish(shared, status: status, error: nil, keeping: (partial, result)) {
            $0.recordsProcessed = progress.rows
            $0.recordsFailed = progress.failed
        }
    }
}
