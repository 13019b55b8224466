/// The bounds of each message type's fields (``InputLimits``), checked by the codec as it decodes.
/// Identifiers and names are refused when too long or holding control characters; free texts may hold
/// line breaks but no NUL (no database can keep one) and are cut by the services that keep them.

extension BackfillRequest {
    public var boundsProblem: String? {
        TextRule.problem(action, named: "action", maxBytes: InputLimits.actionBytes)
            ?? TextRule.problem(generatedBy, named: "generatedBy", maxBytes: InputLimits.nameBytes, allowEmpty: true)
            ?? file.flatMap { $0.boundsProblem }
            ?? md5.flatMap { TextRule.problem($0, named: "md5", maxBytes: 64) }
            ?? controlsProblem
    }

    /// Bounds of the linked jobs, the brake and the rate.
    private var controlsProblem: String? {
        if let retryOf, let problem = JobIdRule.problem(retryOf) { return "retryOf: \(problem)" }
        if let reverts, let problem = JobIdRule.problem(reverts) { return "reverts: \(problem)" }
        if let applies, let problem = JobIdRule.problem(applies) { return "applies: \(problem)" }
        if let approvedBy, let problem = TextRule.problem(approvedBy, named: "approvedBy", maxBytes: InputLimits.nameBytes) {
            return problem
        }
        if let maxFailed, let problem = TextRule.problem(maxFailed, named: "maxFailed", maxBytes: 24) { return problem }
        if let ratePerSecond, ratePerSecond < 1 { return "ratePerSecond \(ratePerSecond) is below 1" }
        if let webhooks {
            guard webhooks.count <= 5 else { return "webhooks holds \(webhooks.count) addresses; at most 5" }
            for url in webhooks {
                if let problem = TextRule.problem(url, named: "webhooks", maxBytes: 2048) { return problem }
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    return "webhooks: \(Quoted(url)) is not an http:// or https:// address"
                }
            }
        }
        return nil
    }
}

extension FileReference {
    /// Bounds of a file's path and name (the path is checked to stay in the file store where it is used).
    public var boundsProblem: String? {
        TextRule.problem(path, named: "file.path", maxBytes: InputLimits.filePathBytes)
            ?? TextRule.problem(name, named: "file.name", maxBytes: InputLimits.fileNameBytes)
    }
}

extension BackfillStatusEvent {
    public var boundsProblem: String? {
        TextRule.problem(action, named: "action", maxBytes: InputLimits.actionBytes)
            ?? TextRule.problem(generatedBy, named: "generatedBy", maxBytes: InputLimits.nameBytes, allowEmpty: true)
            ?? uploadedFile.flatMap { TextRule.problem($0, named: "uploadedFile", maxBytes: InputLimits.fileNameBytes) }
            ?? error.flatMap {
                TextRule.problem($0, named: "error", maxBytes: InputLimits.messageTextBytes, allowLineBreaks: true)
            }
            ?? resultFile.flatMap { $0.boundsProblem } ?? linksProblem
    }

    /// Bounds of the jobs this one is linked to.
    private var linksProblem: String? {
        if let reverts, let problem = JobIdRule.problem(reverts) { return "reverts: \(problem)" }
        if let applies, let problem = JobIdRule.problem(applies) { return "applies: \(problem)" }
        if let approvedBy, let problem = TextRule.problem(approvedBy, named: "approvedBy", maxBytes: InputLimits.nameBytes) {
            return problem
        }
        if let revertedBy, let problem = JobIdRule.problem(revertedBy) { return "revertedBy: \(problem)" }
        if let pauseReason,
            let problem = TextRule.problem(pauseReason, named: "pauseReason", maxBytes: InputLimits.messageTextBytes)
        {
            return problem
        }
        return nil
    }
}

extension BackfillChunk {
    /// The most rows a chunk may hold (the validator's largest `--chunk-size`).
    public static let maxRows = 50_000

    public var boundsProblem: String? {
        if let problem = TextRule.problem(action, named: "action", maxBytes: InputLimits.actionBytes) { return problem }
        if chunkIndex < 0 { return "chunkIndex \(chunkIndex) is negative" }
        if rows.count > Self.maxRows { return "the chunk holds \(rows.count) rows; at most \(Self.maxRows)" }
        // Rows share their column names: each distinct name is checked once, not once per row.
        var checkedNames: [String] = []
        for row in rows {
            for (column, value) in row.fields {
                if !checkedNames.contains(column) {
                    if let problem = TextRule.problem(column, named: "a column name", maxBytes: InputLimits.fileNameBytes) {
                        return problem
                    }
                    if checkedNames.count < 64 { checkedNames.append(column) }
                }
                if let problem = TextRule.problem(
                    value, named: "row \(row.rowNumber) \(column)", maxBytes: InputLimits.messageTextBytes, allowEmpty: true)
                {
                    return problem
                }
            }
        }
        return nil
    }
}

extension MigrationRequest {
    public var boundsProblem: String? {
        TextRule.problem(generatedBy, named: "generatedBy", maxBytes: InputLimits.nameBytes, allowEmpty: true)
    }
}

extension MigrationStatusEvent {
    public var boundsProblem: String? {
        TextRule.problem(generatedBy, named: "generatedBy", maxBytes: InputLimits.nameBytes, allowEmpty: true)
            ?? error.flatMap {
                TextRule.problem($0, named: "error", maxBytes: InputLimits.messageTextBytes, allowLineBreaks: true)
            }
    }
}

extension MigrationSlice {
    public var boundsProblem: String? {
        guard sliceIndex >= 0, sliceIndex < sliceCount else {
            return "sliceIndex \(sliceIndex) is not within the migration's \(sliceCount) slices"
        }
        return nil
    }
}

extension SyncRecordOutcome {
    public var boundsProblem: String? {
        let identifier = InputLimits.syncIdentifierBytes
        return TextRule.problem(objectType, named: "objectType", maxBytes: identifier)
            ?? TextRule.problem(objectId, named: "objectId", maxBytes: identifier)
            ?? crmId.flatMap { TextRule.problem($0, named: "crmId", maxBytes: identifier, allowEmpty: true) }
            ?? errorCode.flatMap { TextRule.problem($0, named: "errorCode", maxBytes: identifier, allowEmpty: true) }
            ?? errorMessage.flatMap { Self.freeTextProblem($0, named: "errorMessage") }
            ?? crmIdChange.flatMap {
                TextRule.problem($0.previousCrmId, named: "crmIdChange.previousCrmId", maxBytes: identifier, allowEmpty: true)
                    ?? TextRule.problem($0.newCrmId, named: "crmIdChange.newCrmId", maxBytes: identifier, allowEmpty: true)
            }
    }

    /// A free text is cut where it is kept, not refused for its length; a NUL in it is refused.
    static func freeTextProblem(_ text: String, named name: String) -> String? {
        text.utf8.contains(0) ? "\(name) holds a NUL character" : nil
    }
}

extension SyncSessionFailed {
    public var boundsProblem: String? {
        SyncRecordOutcome.freeTextProblem(reason, named: "reason")
    }
}

extension SyncHistoryEntry {
    public var boundsProblem: String? {
        failureReason.flatMap { SyncRecordOutcome.freeTextProblem($0, named: "failureReason") }
    }
}

extension MessageType {
    /// Why `jobId` cannot be the id of a message of this type, or nil: backfill and migration ids
    /// follow ``JobIdRule``; sync session ids are bounded keys without control characters.
    public func jobIdProblem(_ jobId: String) -> String? {
        switch self {
        case .syncSessionStarted, .syncRecordOutcome, .syncSessionFinished, .syncSessionFailed, .syncHistory, .syncRetry:
            TextRule.problem(jobId, named: "the session id (jobId)", maxBytes: InputLimits.syncIdentifierBytes)
        default:
            JobIdRule.problem(jobId)
        }
    }
}
