import Foundation
import JobstreamService
import JobstreamSync
import Logging
import ServiceLifecycle

/// The recorder's timers: publishes what was left waiting (by a crash, or a broker outage) and
/// applies retention even when no session ends.
struct SyncHousekeeping: Service {
    let publisher: SyncPublisher
    let retention: SyncRetention
    /// How often retention runs on its own (it also runs whenever a session ends).
    let retentionInterval: Duration
    /// How often waiting summaries and retry requests are looked for.
    let sweepInterval: Duration
    let logger: Logger

    func run() async throws {
        let clock = ContinuousClock()
        var nextRetention = clock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                // Waiting longer than a sweep: no batch is about to publish it.
                try await publisher.publishPending(of: nil, changedBefore: Date().addingTimeInterval(-sweepInterval.seconds))
                if clock.now >= nextRetention {
                    _ = try await publisher.applyRetention(retention)
                    nextRetention = clock.now.advanced(by: retentionInterval)
                }
            } catch {
                logger.warning("sync housekeeping failed, trying again in \(sweepInterval): \(error)")
            }
            // A graceful shutdown ends the wait at once, not a sweep interval later.
            let interval = sweepInterval
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
