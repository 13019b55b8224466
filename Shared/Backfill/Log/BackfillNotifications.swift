import Foundation
import JobstreamMessages
import JobstreamStore
import SQLKit

/// Turns backfills that ended (or paused at their failure brake) into the webhook deliveries they
/// owe (``WebhookOutbox``): the job's status event at that state, to every address of the
/// deployment and to the addresses the job's request added that the deployment allows. A job is
/// swept once per state (`notified_sequence`); a state owes an event once, whatever the sweeps.
public struct BackfillNotifications: Sendable {
    let store: Store
    /// The deployment's addresses: every job's end is sent there.
    let deploymentURLs: [String]
    /// Prefixes an address a request adds must start with (`https://hooks.slack.com/`); none: a
    /// request may add no address. Anyone who may publish a request could otherwise make the
    /// validators post to any address they can reach.
    let allowedPrefixes: [String]

    public init(store: Store, deploymentURLs: [String], allowedPrefixes: [String]) {
        self.store = store
        self.deploymentURLs = deploymentURLs
        self.allowedPrefixes = allowedPrefixes
    }

    /// Why a request's address is not sent to, or nil when it may be.
    public func refusal(of url: String) -> String? {
        guard allowedPrefixes.contains(where: { url.hasPrefix($0) }) else {
            return "not an address this deployment allows jobs to add (--webhook-allow)"
        }
        return nil
    }

    /// Sweeps up to `limit` jobs at `now`; returns how many owed something.
    @discardableResult
    public func sweep(limit: Int = 100, now: Int = Date().epochMilliseconds) async throws -> Int {
        let outbox = WebhookOutbox(store: store)
        let statuses = [BackfillStatus.completed, .failed, .canceled, .paused].map(\.rawValue)
        let jobs = try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: BackfillJobLog.columns) FROM backfill_jobs
                WHERE notified_sequence < sequence AND status IN (\(binds: statuses)) LIMIT \(bind: limit)
                """
            ).all(decoding: BackfillJobRecord.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
        var owing = 0
        for job in jobs {
            let subscribed = try await outbox.subscriptions(of: job.jobId)
            let atBrake = job.status == .paused && job.pauseRequestedBy == nil
            let payload = String(
                decoding: try MessageCodec.encode(
                    job.statusEvent, jobId: job.jobId, time: Date(epochMilliseconds: job.updatedAt)), as: UTF8.self)
            let allowed = subscribed.filter { refusal(of: $0) == nil }
            let refused = subscribed.compactMap { url in refusal(of: url).map { (url: url, reason: $0) } }
            let owes = (job.status.isTerminal || atBrake) && !(deploymentURLs.isEmpty && subscribed.isEmpty)
            try await store.transaction { database in
                if owes {
                    try await outbox.owe(
                        jobId: job.jobId, eventKey: job.status.isTerminal ? job.status.rawValue : "paused-\(job.sequence)",
                        payload: payload, urls: Array(Set(deploymentURLs + allowed)).sorted(), refused: refused,
                        now: now, in: database)
                }
                try await database.raw(
                    """
                    UPDATE backfill_jobs SET notified_sequence = \(bind: job.sequence)
                    WHERE job_id = \(bind: job.jobId) AND notified_sequence < \(bind: job.sequence)
                    """
                ).run()
            }
            if owes { owing += 1 }
        }
        return owing
    }
}
