import Foundation

/// One realistic envelope of every message type: for codec tests, for `jobstream messages examples`
/// (which the schema tests validate against `deploy/schemas`), and for documentation.
public enum MessageExamples {
    private static let time = Timestamp.parse("2026-11-22T10:00:00.000Z")!
    private static let later = Timestamp.parse("2026-11-22T10:04:31.250Z")!
    private static let cutover = CalendarDate("2026-01-01")!

    /// Every example, as JSON envelopes keyed by message type.
    public static func all() throws -> [MessageType: [UInt8]] {
        var result: [MessageType: [UInt8]] = [:]
        func add<T: JobstreamMessage>(_ payload: T, jobId: String) throws {
            result[T.messageType] = try MessageCodec.encode(Envelope(jobId: jobId, time: time, payload: payload))
        }
        let backfill = "bf-7f3c2a"
        let file = FileReference(path: "uploads/bf-7f3c2a/charges.csv", name: "charges.csv", sizeBytes: 48_213)
        try add(
            BackfillRequest(
                action: "update-rate-plan-charge", file: file, md5: "9e107d9d372bb6826bd81d3542a419d6",
                generatedBy: "ana.lima"), jobId: backfill)
        // One example per type: the status of a preview, which carries the most fields.
        var preview = BackfillStatusEvent(
            action: "update-rate-plan-charge", uploadedFile: "charges.csv", startDate: time, endDate: later,
            generatedBy: "ana.lima", recordsProcessed: 1200, recordsFailed: 3, status: .completed,
            resultFile: FileReference(path: "results/bf-7f3c2b/charges-preview.csv", name: "charges-preview.csv"),
            sequence: 7, recordsTotal: 1200)
        preview.preview = true
        preview.wouldChange = 1150
        preview.alreadyAsAsked = 47
        preview.wouldFail = 3
        preview.appliedBy = "bf-7f3c2c"
        try add(preview, jobId: "bf-7f3c2b")
        try add(
            BackfillChunk(
                chunkIndex: 4, action: "update-rate-plan-charge",
                rows: [BackfillRow(rowNumber: 2001, fields: ["Charge Id": "RPC-00000042", "Booking Date": "2026-03-01"])]),
            jobId: backfill)
        let migration = "mig-20260101-1"
        try add(MigrationRequest(cutoverDate: cutover, generatedBy: "revops"), jobId: migration)
        try add(
            MigrationStatusEvent(
                startTime: time, generatedBy: "revops", cutoverDate: cutover, progress: 42,
                status: .inProgress, chargesInScope: 100_000, schedulesGenerated: 41_870, warnings: 130),
            jobId: migration)
        try add(MigrationSlice(sliceIndex: 7, sliceCount: 64, cutoverDate: cutover), jobId: migration)
        let session = "sync-2026-11-22-0001"
        try add(SyncSessionStarted(operation: .scheduled, startedAt: time), jobId: session)
        try add(
            SyncRecordOutcome(
                objectType: "Account", objectId: "A-00012", crmId: "001XX000003DHP0", success: false,
                errorCode: "UNABLE_TO_LOCK_ROW", errorMessage: "unable to obtain exclusive access to this record",
                retryable: true,
                crmIdChange: CrmIdChange(previousCrmId: "001XX000003DHOz", newCrmId: "001XX000003DHP0")),
            jobId: session)
        try add(SyncSessionFinished(finishedAt: later, recordCount: 250), jobId: session)
        try add(SyncSessionFailed(failedAt: later, failure: .crmConnection, reason: "connection reset by peer"), jobId: session)
        try add(
            SyncHistoryEntry(
                operation: .scheduled, status: .finishedWithErrors, startedAt: time, finishedAt: later,
                recordsExpected: 250, recordsSynced: 247, recordsFailed: 3, recordsToRetry: 2,
                recordsNeedingFix: 1, crmIdChanges: 4), jobId: session)
        try add(
            SyncRetryRequest(
                scope: .records, operation: .scheduled,
                records: [SyncRetryRequest.Record(objectType: "Account", objectId: "A-00012")]), jobId: session)
        return result
    }
}
