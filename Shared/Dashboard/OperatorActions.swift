import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamMigration
import JobstreamStore

/// What operators ask of the dashboard and its API, recorded in the job logs (``JobLogOperatorActions``),
/// where the validators, processors and migration runners notice it; a seam so the routes can be
/// tested alone. Each throws ``CancelRefused`` when the log does not take the request, saying why.
public protocol OperatorActions: Sendable {
    func requestCancel(jobId: String, requestedBy: String) async throws
    func requestPause(jobId: String, requestedBy: String) async throws
    /// Resumes a Paused job, with a new failure brake when `maxFailed` is given.
    func resume(jobId: String, maxFailed: String?) async throws
    /// Sets (or with nil lifts) the most rows per second a job may apply.
    func setRate(jobId: String, rowsPerSecond: Int?) async throws
    /// Starts a job that applies the preview `jobId`, approved by `approvedBy`; returns its id.
    func apply(jobId: String, approvedBy: String, generatedBy: String, overwriteChanged: Bool) async throws -> String
    /// Starts a job that reverts `jobId`; returns its id.
    func revert(jobId: String, generatedBy: String, overwriteChanged: Bool) async throws -> String
    /// Logs a new backfill, its file already in the file store.
    func submit(_ request: BackfillRequest, jobId: String) async throws
    /// Logs a new migration; refused while another one is active.
    func startMigration(_ request: MigrationRequest, migrationId: String) async throws
}

/// Writes operators' requests into the job logs (``BackfillJobLog/cancel(_:by:)``,
/// ``BackfillJobLog/requestPause(_:by:)``, ``BackfillJobLog/resume(_:maxFailed:)``, new jobs).
///
/// The dashboard has no Kafka producer: it logs a new job with its claim lapsed already, and the
/// validators' (or migration runners') orphan loop takes the job over within a third of a lease and
/// runs it, checking it as it starts it, and their outbox announces it.
public struct JobLogOperatorActions: OperatorActions {
    let log: BackfillJobLog
    let migrations: MigrationLog
    /// Rows per chunk, and charges per slice, of the jobs the dashboard starts afresh.
    let chunkSize: Int
    let sliceSize: Int

    public init(store: Store, chunkSize: Int = 1000, sliceSize: Int = 1000) {
        log = BackfillJobLog(store: store)
        migrations = MigrationLog(store: store)
        self.chunkSize = chunkSize
        self.sliceSize = sliceSize
    }

    public func requestCancel(jobId: String, requestedBy: String) async throws {
        switch try await log.cancel(jobId, by: requestedBy) {
        case .requested: return
        case .notFound: throw CancelRefused(reason: "backfill \(jobId) is not in the job log")
        case .ended(let status): throw CancelRefused(reason: "backfill \(jobId) is \(status.rawValue) already")
        }
    }

    public func requestPause(jobId: String, requestedBy: String) async throws {
        try Self.check(try await log.requestPause(jobId, by: requestedBy), jobId: jobId)
    }

    public func resume(jobId: String, maxFailed: String?) async throws {
        try Self.check(try await log.resume(jobId, maxFailed: maxFailed), jobId: jobId)
    }

    public func setRate(jobId: String, rowsPerSecond: Int?) async throws {
        try Self.check(try await log.setRate(jobId, to: rowsPerSecond), jobId: jobId)
    }

    public func apply(jobId: String, approvedBy: String, generatedBy: String, overwriteChanged: Bool) async throws -> String {
        // The validator checks again, with its own approval rule, when it takes the job over.
        let preview = try await log.job(jobId)
        if let problem = BackfillJobLog.applyProblem(
            of: preview, id: jobId, by: nil, approvedBy: approvedBy, requireApproval: false)
        {
            throw CancelRefused(reason: problem)
        }
        let jobId = UUID().uuidString.lowercased()
        try await insert(
            BackfillRequest(
                action: preview?.action ?? "", generatedBy: generatedBy, overwriteChanged: overwriteChanged ? true : nil,
                applies: preview?.jobId, approvedBy: approvedBy),
            jobId: jobId, previewed: preview, chunkSize: preview?.chunkSize)
        return jobId
    }

    public func revert(jobId: String, generatedBy: String, overwriteChanged: Bool) async throws -> String {
        if let problem = try await log.revertProblem(of: jobId) { throw CancelRefused(reason: problem) }
        let original = try await log.job(jobId)
        let newId = UUID().uuidString.lowercased()
        try await insert(
            BackfillRequest(
                action: original?.action ?? "", generatedBy: generatedBy, reverts: jobId,
                overwriteChanged: overwriteChanged ? true : nil),
            jobId: newId, previewed: nil, chunkSize: original?.chunkSize)
        return newId
    }

    public func submit(_ request: BackfillRequest, jobId: String) async throws {
        try await WebhookOutbox(store: log.store).subscribe(jobId: jobId, urls: request.webhooks ?? [])
        try await insert(request, jobId: jobId, previewed: nil, chunkSize: nil)
        if let original = request.retryOf { try await log.linkRetry(of: original, by: jobId) }
    }

    public func startMigration(_ request: MigrationRequest, migrationId: String) async throws {
        if let active = try await migrations.active() {
            throw CancelRefused(
                reason:
                    "migration \(active.migrationId) (cutover \(active.cutoverDate)) is in progress; one migration runs at a time"
            )
        }
        var migration = MigrationRecord(
            migrationId: migrationId, cutoverDate: request.cutoverDate, generatedBy: request.generatedBy,
            status: .accepted, submittedAt: Date().epochMilliseconds, sliceSize: sliceSize, owner: "dashboard",
            leaseUntil: 0)
        migration.preview = request.preview == true ? 1 : 0
        switch try await migrations.insert(migration, leaseMilliseconds: 0) {
        case .inserted: return
        case .repeated: throw CancelRefused(reason: "a migration with the id \(migrationId) exists already; try again")
        case .refused(let activeId):
            throw CancelRefused(reason: "migration \(activeId) is in progress; one migration runs at a time")
        }
    }

    /// Logs a new job whose claim has lapsed already. The new job's chunks are as large as those of
    /// the job it applies or reverts.
    private func insert(
        _ request: BackfillRequest, jobId: String, previewed: BackfillJobRecord?, chunkSize: Int?
    )
        async throws
    {
        let job = BackfillJobRecord.accepted(
            request, jobId: jobId, submittedAt: Date().epochMilliseconds, chunkSize: chunkSize ?? self.chunkSize,
            owner: "dashboard", requireApproval: false, previewed: previewed)
        guard try await log.insert(job, leaseMilliseconds: 0) else {
            throw CancelRefused(reason: "a job with the id \(jobId) exists already; try again")
        }
    }

    private static func check(_ outcome: BackfillJobLog.HoldOutcome, jobId: String) throws {
        switch outcome {
        case .requested: return
        case .notFound: throw CancelRefused(reason: "backfill \(jobId) is not in the job log")
        case .refused(let why): throw CancelRefused(reason: why)
        }
    }
}

/// Why the job log did not take a request.
public struct CancelRefused: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
