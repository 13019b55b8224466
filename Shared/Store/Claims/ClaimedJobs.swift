import JobstreamMessages
import Logging
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

    /// The jobs running here now.
    public var runningIds: Set<String> {
        running.withLock { Set($0.keys) }
    }

    /// Until this task is cancelled (a service cancels it at graceful shutdown), claims the jobs whose
    /// claim lapsed every `interval` and starts them; then cancels every job's work and waits for it,
    /// so each can let go of its claim.
    public func takeOverOrphans(
        every interval: Duration, kind: JobKind, logger: Logger, sleep: any JobClock = SystemJobClock(),
        claim: @escaping @Sendable () async throws -> [String]
    ) async {
        while !Task.isCancelled {
            do {
                for id in try await claim() {
                    logger.notice("taking over \(kind.noun) \(id): its owner stopped renewing its claim")
                    start(id)
                }
            } catch  where !Task.isCancelled {
                logger.error("looking for orphaned \(kind.noun)s failed: \(error)")
            } catch {
                break  // shutdown
            }
            try? await sleep.sleep(for: interval)
        }
        let tasks = running.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
