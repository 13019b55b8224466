import Logging
import ServiceLifecycle
import Synchronization

/// The jobs one instance runs, one task each, with the loop that takes over jobs whose owner
/// stopped renewing its claim. Shared by the backfill validators and the migration runners.
public final class ClaimedJobs: Sendable {
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    private let work: @Sendable (String) async -> Void

    /// - Parameter work: runs one job to its end (or until its task is canceled at shutdown).
    public init(work: @escaping @Sendable (String) async -> Void) {
        self.work = work
    }

    /// Starts a job's work unless it already runs here.
    public func start(_ id: String) {
        running.withLock { running in
            guard running[id] == nil else { return }
            running[id] = Task {
                await work(id)
                _ = self.running.withLock { $0.removeValue(forKey: id) }
            }
        }
    }

    /// Until graceful shutdown, claims the jobs whose claim lapsed every `interval` and starts them;
    /// then cancels every job's work and waits for it, so each can let go of its claim.
    public func takeOverOrphans(every interval: Duration, kind: String, logger: Logger,
                                claim: @escaping @Sendable () async throws -> [String]) async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    for id in try await claim() {
                        logger.notice("taking over \(kind) \(id): its owner stopped renewing its claim")
                        self.start(id)
                    }
                } catch {
                    logger.error("looking for orphaned \(kind)s failed: \(error)")
                }
                try? await Task.sleep(for: interval)
            }
        }
        let tasks = running.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
