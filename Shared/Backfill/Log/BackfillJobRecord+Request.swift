import JobstreamMessages

extension BackfillJobRecord {
    /// The job a request asks for, as accepted (status Accepted, claimed by `owner`): every setting of
    /// the request; run as a preview when asked for or when approval is required (``isPreview(_:requireApproval:)``);
    /// an apply takes the action and the upload of the preview it applies (`previewed`), whatever the
    /// request said.
    public static func accepted(
        _ request: BackfillRequest, jobId: String, submittedAt: Int, chunkSize: Int, owner: String,
        requireApproval: Bool, previewed: BackfillJobRecord?
    ) -> BackfillJobRecord {
        var job = BackfillJobRecord(
            jobId: jobId, action: request.action, uploadedFile: request.file?.name, filePath: request.file?.path,
            fileSize: request.file?.sizeBytes.map(Int.init), md5: request.md5, generatedBy: request.generatedBy,
            retryOf: request.retryOf, status: .accepted, submittedAt: submittedAt, chunkSize: chunkSize,
            owner: owner, leaseUntil: 0)
        job.reverts = request.reverts
        job.overwriteChanged = request.overwriteChanged == true ? 1 : 0
        job.rateLimit = request.ratePerSecond
        job.maxFailed = request.maxFailed
        job.approvedBy = request.approvedBy
        job.applies = request.applies
        if request.applies != nil, let previewed { job.takeFile(of: previewed) }
        job.preview = isPreview(request, requireApproval: requireApproval) ? 1 : 0
        return job
    }

    /// Whether a request runs as a preview: asked for, or a file backfill where approval is required
    /// (an apply of a preview and a revert are what approval and undo are for, so they are not).
    public static func isPreview(_ request: BackfillRequest, requireApproval: Bool) -> Bool {
        if request.preview == true { return true }
        let fileAction = BackfillAction.named(request.action)?.needsFile ?? true
        return requireApproval && fileAction && request.applies == nil && request.reverts == nil
    }
}
