import Foundation
import JobstreamFiles
import JobstreamMessages
import JobstreamStore
import Logging

/// A preview runs as any job — Accepted → Pending → Processing → Completed — but its chunks only
/// read (``ChunkApplier``), and it ends with a preview file and its counts instead of a result file.
/// An apply of a preview runs as any file job on the preview's upload, once that upload is found
/// to be the very file previewed.
extension BackfillJobRunner {
    /// Keeps a preview's upload digest, or checks an apply's upload against its preview's.
    func checkDigest(_ digest: String?, shared: RunState) async throws {
        guard let digest else { return }
        let job = shared.withLock { $0.job }
        if job.preview != 0 {
            shared.withLock { $0.job.fileDigest = digest }
            return
        }
        guard let preview = job.applies else { return }
        let previewed = try await environment.log.job(preview)?.fileDigest
        guard previewed == digest else {
            throw FileProblem(
                "the stored upload is not the file preview \(preview) read (SHA-256 \(digest.prefix(12))…, previewed "
                    + "\(previewed.map { "\($0.prefix(12))…" } ?? "none")): it was changed or replaced; nothing was applied")
        }
        shared.withLock { $0.job.fileDigest = digest }
    }

    /// Writes the preview file and ends the preview with its counts, as
    /// ``finishWithResult(_:shared:status:logger:)`` ends a job with its result file.
    func finishPreview(_ file: ValidatedFile, shared: RunState, status: BackfillStatus, logger: Logger) async throws {
        let job = shared.withLock { $0.job }
        let previews = PreviewRows(store: environment.log.store)
        let result = try environment.files.place(["results", jobId, BackfillResultName.forPreview(job.uploadedFile)])
        let partial = partialFile(for: result.url, shared: shared)
        defer { try? FileManager.default.removeItem(at: partial) }
        let counts = try await PreviewFileWriter(ledger: environment.ledger, previews: previews, jobId: jobId)
            .write(file, to: partial)
        try checkClaim(shared)
        let progress = try await environment.ledger.progress(jobId)
        let refused = shared.withLock { $0.refused }
        logger.info(
            "preview \(jobId) \(status.rawValue): \(counts.wouldChange) rows would change, \(counts.alreadyAsAsked) already as asked, \(counts.failed) would fail"
        )
        try await finish(shared, status: status, error: nil, keeping: (partial, result)) {
            $0.recordsProcessed = refused + progress.rows
            $0.recordsFailed = refused + progress.failed
            $0.wouldChange = counts.wouldChange
            $0.alreadyAsAsked = counts.alreadyAsAsked
        }
    }

    /// Ends a file-less job: a preview with its preview file (one line per record it would change),
    /// an applied one with the count of records it changed.
    func finishFileless(_ shared: RunState, action: BackfillAction, status: BackfillStatus) async throws {
        guard shared.withLock({ $0.job.preview != 0 }) else { return try await finishCounting(shared, status: status) }
        let previews = PreviewRows(store: environment.log.store)
        let result = try environment.files.place(["results", jobId, "\(action.name)-preview.csv"])
        let partial = partialFile(for: result.url, shared: shared)
        defer { try? FileManager.default.removeItem(at: partial) }
        let records = try await PreviewFileWriter(ledger: environment.ledger, previews: previews, jobId: jobId)
            .writeFileless(action: action, to: partial)
        try checkClaim(shared)
        try await finish(shared, status: status, error: nil, keeping: (partial, result)) {
            $0.recordsProcessed = records
            $0.recordsFailed = 0
            $0.wouldChange = records
            $0.alreadyAsAsked = 0
        }
    }
}
