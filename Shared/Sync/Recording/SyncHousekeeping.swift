import Foundation
import JobstreamStore
import Logging

/// The recorder's timers: publishes what was left waiting (by a crash, or a broker outage) and
/// applies retention even when no session ends. Runs until its task is cancelled (the service
/// cancels it at graceful shutdown).
public struct SyncHousekeeping: Sendable {
    let publisher: SyncPublisher
    let retention: SyncRetention
    /// How often retention runs on its own (it also runs whenever a session ends).
    let retentionInterval: Duration
    /// How often waiting summaries and retry requests are looked for.
    let sweepInterval: Duration
    let logger: Logger
    let clock: any JobClock

    public init(
        publisher: SyncPublisher, retention: SyncRetention, retentionInterval: Duration, sweepInterval: Duration,
        logger: Logger, clock: any JobClock = SystemJobClock()
    ) {
        self.publisher = publisher
        self.retention = retention
        self.retentionInterval = retentionInterval
        self.sweepInterval = sweepInterval
        self.logger = logger
        self.clock = clock
    }

    public func run() async {
        var nextRetention = clock.now()
        while !Task.isCancelled {
            do {
                // Waiting longer than a sweep: no batch is about to publish it.
                try await publisher.publishPending(of: nil, changedBefore: Date().addingTimeInterval(-sweepInterval.seconds))
                if clock.now() >= nextRetention {
                    _ = try await publisher.applyRetention(retention)
                    nextRetention = clock.now().advanced(by: retentionInterval)
                }
            } catch  where !Task.isCancelled {
                logger.warning("sync housekeeping failed, trying again in \(sweepInterval): \(error)")
            } catch {
                return  // shutdown
            }
            // Cancellation ends the wait at once, not a sweep interval later.
            try? await clock.sleep(for: sweepInterval)
        }
    }
}
