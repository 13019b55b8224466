import Kafka
import Synchronization

/// One condition a service needs before it can do its work, checked on every `/ready` request.
public protocol ReadinessCheck: Sendable {
    /// A short name shown in `/ready`'s answer, e.g. "store".
    var readinessName: String { get }
    /// Returns when the condition holds; throws an error that says what is missing otherwise.
    func checkReadiness() async throws
}

/// What `/ready` answers: ready when every registered check passes.
public final class Readiness: Sendable {
    private let checks = Mutex<[any ReadinessCheck]>([])

    public init() {}

    /// Adds a check; `/ready` runs them in the order they were added.
    public func add(_ check: any ReadinessCheck) {
        checks.withLock { $0.append(check) }
    }

    /// Each check's name and, where it failed, why; each is given at most `timeout`.
    public func evaluate(timeout: Duration = .seconds(5)) async -> [(name: String, problem: String?)] {
        var results: [(name: String, problem: String?)] = []
        for check in checks.withLock({ $0 }) {
            do {
                try await withTimeout(timeout, what: check.readinessName) { try await check.checkReadiness() }
                results.append((check.readinessName, nil))
            } catch {
                results.append((check.readinessName, "\(error)"))
            }
        }
        return results
    }
}

/// Why a service is not ready.
public struct NotReady: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Ready once the consumer is a member of its group (``KafkaConsumer/hasJoinedGroup``), or, for a
/// consumer of every partition (no `group`), once it has assigned itself its topics' partitions.
public struct ConsumerGroupReadiness: ReadinessCheck {
    let consumer: KafkaConsumer
    let group: String?

    public init(consumer: KafkaConsumer, group: String?) {
        self.consumer = consumer
        self.group = group
    }

    public var readinessName: String { "kafka" }

    public func checkReadiness() async throws {
        guard consumer.hasJoinedGroup else {
            guard let group else { throw NotReady("not yet reading its topics' partitions") }
            throw NotReady("not yet a member of consumer group \(group)")
        }
    }
}

/// Runs `body`, throwing ``NotReady`` if it takes longer than `timeout`.
func withTimeout(_ timeout: Duration, what: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw NotReady("\(what) did not answer within \(timeout)")
        }
        try await group.next()
        group.cancelAll()
    }
}
