import JobstreamMessages
import JobstreamStore
import Kafka
import Logging

/// Tells a handler failure that belongs to the message from an outage of the service's surroundings.
///
/// - An outage — the store away or busy, a broker that cannot be reached — is retried without limit
///   (with backoff, until it heals or the service stops): the message is fine and will be handled.
/// - Anything else is the message's own fault once the store answers: it is tried ``attempts`` times
///   in all, then dead-lettered with the last error, and the loop moves on.
///
/// How: a database error says which it is by its code (``StoreFailure``); a Kafka error by whether the
/// broker refused the message itself (``KafkaError/refusesMessage``); any other error is an outage
/// only if the store fails to answer a trivial query right now.
public struct FailureTriage: Sendable {
    /// How many times a message is tried against a failure that is its own before it is dead-lettered.
    public let attempts: Int
    private let store: Store?

    public init(attempts: Int = 5, store: Store?) {
        self.attempts = max(1, attempts)
        self.store = store
    }

    /// Whether `error` is an outage (retry without counting) rather than the message's fault.
    public func isOutage(_ error: any Error) async -> Bool {
        if let error = error as? KafkaError { return !error.refusesMessage }
        if error is UnprocessableMessage { return false }
        guard let store else { return false }
        return await store.isOutage(error)
    }
}

/// Runs `body` until it succeeds, backing off 200 ms doubling to 30 s between tries. Outages (see
/// ``FailureTriage``) are retried without limit; other failures count, and after `triage.attempts`
/// of them the last one is returned. Returns nil on success, and also when the service began
/// stopping (or the task was cancelled) first: the work is then left for a later delivery.
func retryingOutages(
    what: String, triage: FailureTriage, logger: Logger, stopping: StopSignal,
    _ body: () async throws -> Void
) async -> RetryOutcome {
    var delay = Duration.milliseconds(200)
    var faults = 0
    while true {
        do {
            try await body()
            return .done
        } catch {
            guard !stopping.isSet, !Task.isCancelled else { return .stopped }
            if await triage.isOutage(error) {
                logger.error(
                    "\(what) failed (an outage; retried until it heals), retrying in \(delay): \(StoreFailure.describe(error))")
            } else {
                faults += 1
                guard faults < triage.attempts else { return .failed(error, attempts: faults) }
                logger.warning(
                    "\(what) failed (try \(faults) of \(triage.attempts)), retrying in \(delay): \(StoreFailure.describe(error))")
            }
            try? await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
        }
    }
}

/// How ``retryingOutages(what:triage:logger:stopping:_:)`` ended.
enum RetryOutcome {
    case done
    case stopped
    /// Every try failed with the work's own fault; the last error.
    case failed(any Error, attempts: Int)
}
