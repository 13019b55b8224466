import DequeModule
import Dispatch
import Logging
import Synchronization

/// A consumer-group member that hands out messages as an `AsyncSequence` and commits, at least
/// once, only what the service marked processed.
///
/// librdkafka commits in the background every `commitInterval`, but only offsets this consumer
/// stored, and it stores an offset only when every message before it was marked with
/// ``markProcessed(_:)``. When partitions are revoked in a rebalance, their finished offsets are
/// committed synchronously before they move; unfinished messages are redelivered to the next owner.
/// ``close()`` commits finished work and leaves the group.
///
/// A consumer of every partition (``ConsumerConfiguration/Partitions/every``) joins no group: it
/// assigns itself each partition of its topics, reads it from the configured start and commits nothing.
public final class KafkaConsumer: Sendable {
    private let client: RDKafkaClient
    private let state: ConsumerState
    /// Serializes every blocking consumer call (polls, commits, close) off Swift's cooperative pool.
    private let pollQueue: DispatchQueue
    private let batchSize: Int
    private let assignmentStrategy: String
    /// Whether this consumer reads every partition alone, outside any group.
    private let readsEveryPartition: Bool
    private let readsFromStart: Bool
    private let logger: Logger

    /// The messages of the subscribed topics. Ends when the consumer closes or the iterating task is cancelled.
    public var messages: KafkaConsumerMessages { KafkaConsumerMessages(consumer: self) }

    /// Creates the member and subscribes to the configured topics; it joins the group on the first poll.
    /// A consumer of every partition assigns itself its topics' partitions on its first poll instead.
    /// - Parameter statistics: receives librdkafka's statistics every
    ///   ``ConsumerConfiguration/statisticsInterval``, on the polling thread: keep it short.
    public init(
        configuration: ConsumerConfiguration, logger: Logger,
        statistics: (@Sendable (KafkaStatistics) -> Void)? = nil
    ) throws {
        var logger = logger
        if configuration.partitions == .shared { logger[metadataKey: "kafka.group.id"] = "\(configuration.groupID)" }
        let state = ConsumerState(
            lookout: PartitionLookout(topics: configuration.topics, interval: configuration.partitionLookInterval))
        let memberLogger = logger
        // The statistics also tell group membership: a member given no partitions may see no assignment.
        let observed: (@Sendable (KafkaStatistics) -> Void)? = statistics.map { handler in
            { @Sendable statistics in
                if statistics.consumerGroup?.joinState == "steady" { state.joined.store(true, ordering: .relaxed) }
                handler(statistics)
            }
        }
        let context = RDKafkaClientContext(
            logger: logger,
            rebalanceHandler: { client, event in
                state.rebalance(event, client: client, logger: memberLogger)
            }, statisticsHandler: statisticsDecoder(observed, logger: memberLogger))
        self.client = try RDKafkaClient(kind: .consumer, properties: configuration.librdkafkaProperties(), context: context)
        self.state = state
        self.pollQueue = DispatchQueue(label: "jobstream.consumer.\(configuration.groupID)")
        self.batchSize = max(1, configuration.pollBatchSize)
        self.assignmentStrategy =
            configuration.kafka.properties["partition.assignment.strategy"] ?? configuration.assignmentStrategy
        self.readsEveryPartition = configuration.partitions == .every
        self.readsFromStart = configuration.startOffset == .earliest
        self.logger = logger
        if readsEveryPartition {
            client.routeMainQueueToConsumer()
        } else if !configuration.topics.isEmpty {
            // With no topics the member never joins; it can still read the group's committed offsets.
            try client.subscribe(to: configuration.topics)
        }
    }

    /// Marks a message finished: its offset (and that of every finished message before it) will be committed.
    public func markProcessed(_ message: KafkaConsumerMessage) {
        message.progress?.finished(offset: message.offset)
    }

    /// Stores and commits finished offsets now, waiting for the broker. A consumer of every partition
    /// has nothing to commit.
    public func commitProcessed() async throws {
        guard !readsEveryPartition else { return }
        try await blocking(on: pollQueue) { [self] in
            storeFinishedOffsets()
            try client.commitStoredOffsets()
        }
    }

    /// Stops fetching from every assigned partition (and any assigned later) until ``resume()``.
    /// Keep iterating while paused: polls keep the member in its group.
    public func pause() {
        state.paused.store(true, ordering: .relaxed)
        client.setPaused(true, partitions: client.assignment())
    }

    /// Fetches again after ``pause()``.
    public func resume() {
        state.paused.store(false, ordering: .relaxed)
        client.setPaused(false, partitions: client.assignment())
    }

    /// Whether fetching is paused.
    public var isPaused: Bool { state.paused.load(ordering: .relaxed) }

    /// The partitions assigned to this member now.
    public var assignment: [TopicPartition] { client.assignment() }

    /// The group's rebalance protocol: "COOPERATIVE", "EAGER", or "NONE" before the first assignment.
    public var rebalanceProtocol: String { client.rebalanceProtocol }

    /// Messages handed out and not yet marked processed.
    public var inWorkCount: Int { state.tracker.withLock { $0.inWorkCount } }

    /// The group's committed offsets for `partitions` (the next offset to read; negative where none).
    public func committedOffsets(for partitions: [TopicPartition]) async throws -> [TopicPartition: Int64] {
        try await blocking { [client] in try client.committedOffsets(for: partitions, timeoutMilliseconds: 10_000) }
    }

    /// Commits finished work and leaves the group. Further iteration ends. Idempotent.
    public func close() async {
        guard !state.closed.exchange(true, ordering: .relaxed) else { return }
        do {
            try await blocking(on: pollQueue) { [self] in
                storeFinishedOffsets()
                try client.closeConsumer()
            }
            logger.debug("left the consumer group")
        } catch {
            logger.warning("\(error)")
        }
    }

    /// Ends iteration of ``messages`` after the current poll, without leaving the group; call
    /// ``close()`` afterwards to commit finished work and leave. Messages fetched and not yet handed
    /// out are not committed and will be delivered again.
    public func stopConsuming() {
        state.stopped.store(true, ordering: .relaxed)
    }

    /// Whether the member has received its first assignment (possibly of no partitions), or its
    /// statistics reported the group's join state as steady, and it has not closed since: it is in its
    /// group and consuming. A consumer of every partition: once the cluster told it its topics'
    /// partitions and it assigned them.
    public var hasJoinedGroup: Bool { state.joined.load(ordering: .relaxed) && !isClosed }

    /// Whether ``close()`` was called.
    public var isClosed: Bool { state.closed.load(ordering: .relaxed) }

    /// Whether iteration should end: closed, or ``stopConsuming()`` was called.
    var isStopped: Bool { state.stopped.load(ordering: .relaxed) || isClosed }

    // MARK: - Polling (on the poll queue)

    /// Polls up to a batch of messages, waiting at most 100 ms, with the rebalance count after the poll.
    func pollBatch() async -> PolledBatch {
        await blocking(on: pollQueue) { [self] in
            PolledBatch(pollBatchBlocking(timeoutMilliseconds: 100, maximum: batchSize), rebalances: rebalanceCount)
        }
    }

    /// Polls without waiting while the service is still working through messages handed out earlier:
    /// it keeps the member in its group (librdkafka counts `max.poll.interval.ms` from the last poll)
    /// and serves rebalances. It takes at most one message, to hand out after the rest, so a slow
    /// service's backlog grows by at most one message a keep-alive; librdkafka bounds what it
    /// fetches ahead (`queued.max.messages.kbytes`).
    ///
    /// Fetching is deliberately not paused meanwhile: pausing partitions around rebalances can leave
    /// one paused for good in librdkafka (an assignment lost while a processor was stopped, then
    /// given back, fetched nothing for minutes).
    func keepAlivePoll() async -> (Deque<KafkaConsumerMessage>, Int) {
        await blocking(on: pollQueue) { [self] in
            (pollBatchBlocking(timeoutMilliseconds: 0, maximum: 1), rebalanceCount)
        }
    }

    /// How many rebalances this member has gone through.
    var rebalanceCount: Int { state.rebalances.load(ordering: .relaxed) }

    /// Whether a handed-out message still belongs to its partition's current assignment.
    func isCurrent(_ message: KafkaConsumerMessage) -> Bool {
        guard let progress = message.progress else { return false }
        return !progress.isRevoked
    }

    private func pollBatchBlocking(timeoutMilliseconds: Int32, maximum: Int) -> Deque<KafkaConsumerMessage> {
        guard !isClosed else { return [] }
        storeFinishedOffsets()
        if readsEveryPartition { assignUnassignedPartitions() }
        var batch = Deque<KafkaConsumerMessage>(minimumCapacity: maximum)
        var topicNames = RDKafkaTopicNameCache()
        var run = DeliveredRun()
        // Rebalance callbacks run inside librdkafka's consume calls, which have all returned before the
        // first message reaches this closure: registering the messages here sees the assignment they
        // will be handed out under.
        client.consumeBatch(timeoutMilliseconds: timeoutMilliseconds, maximum: maximum, topicNames: &topicNames) { result in
            switch consume result {
            case .message(let message):
                // Messages of partitions revoked while this batch was taken go to their next owner.
                guard let progress = run.register(message, in: state.tracker) else { break }
                batch.append(message)
                batch[batch.count - 1].progress = progress
            case .error(_, _, .endOfPartition):
                break
            case .error(_, _, .inconsistentGroupProtocol(let reason)):
                logger.error(
                    """
                    the group cannot use the \(assignmentStrategy) assignment strategy (\(reason)); \
                    all members must agree: run every member with -X partition.assignment.strategy=range
                    """)
            case .error(let topic, let partition, .other(let code, let reason)):
                logger.warning("consumer error on \(topic)[\(partition)]: \(reason)", metadata: ["librdkafka.code": "\(code)"])
            }
        }
        run.flush()
        return finishBatch(batch)
    }

    private func finishBatch(_ batch: Deque<KafkaConsumerMessage>) -> Deque<KafkaConsumerMessage> {
        if state.assignmentChanged.exchange(false, ordering: .relaxed), isPaused {
            client.setPaused(true, partitions: client.assignment())
        }
        return batch
    }

    /// For a consumer of every partition, when its lookout says so: reads its topics' partition counts
    /// and assigns itself the partitions it has not yet, from the start or the end.
    private func assignUnassignedPartitions() {
        let now = ContinuousClock.now
        guard let topics = state.lookout.withLock({ $0.isDue(at: now) ? $0.topics : nil }) else { return }
        var counts: [String: Int?] = [:]
        do {
            for topic in topics {
                counts[topic] = .some(try client.partitionCount(of: topic, timeoutMilliseconds: 2_000))
            }
        } catch {
            state.lookout.withLock { $0.failed(at: now) }
            logger.warning("\(error)")
            return
        }
        let unassigned = state.lookout.withLock { $0.unassigned(counts: counts, at: now) }
        for topic in topics where counts[topic] == .some(nil) {
            logger.warning("topic \(topic) does not exist (yet): looking again in \(PartitionLookout.retryInterval)")
        }
        if !unassigned.isEmpty {
            do {
                try client.assignIncrementally(unassigned, fromStart: readsFromStart)
            } catch {
                state.lookout.withLock { $0.assignmentFailed(at: now) }
                logger.warning("\(error)")
                return
            }
            state.tracker.withLock { $0.assign(unassigned) }
            state.lookout.withLock { $0.markAssigned(unassigned) }
            logger.info("partitions assigned: \(unassigned.map(\.description).joined(separator: ", "))")
        }
        state.joined.store(true, ordering: .relaxed)
    }

    private func storeFinishedOffsets() {
        guard !readsEveryPartition else { return }
        let offsets = state.tracker.withLock { $0.takeOffsetsToStore() }
        do {
            try client.storeOffsets(offsets)
        } catch {
            logger.warning("\(error)")
        }
    }
}

/// A polled batch on its way from the poll queue to the iterator, which takes the messages out: its
/// buffer is then their storage's only owner. (Handed out as a task's result, a `Deque` stays shared
/// with the task until it is freed, and the first message taken from it would copy them all.)
final class PolledBatch: Sendable {
    /// The consumer's rebalance count after the poll.
    let rebalances: Int
    private let messages: Mutex<Deque<KafkaConsumerMessage>>

    init(_ messages: consuming Deque<KafkaConsumerMessage>, rebalances: Int) {
        self.messages = Mutex(messages)
        self.rebalances = rebalances
    }

    /// The messages, leaving none behind.
    func take() -> Deque<KafkaConsumerMessage> {
        messages.withLock { messages in
            var taken = Deque<KafkaConsumerMessage>()
            swap(&taken, &messages)
            return taken
        }
    }
}

/// The messages of one partition delivered in a row within a batch, registered with their partition's
/// progress at once: one lock per run of messages rather than one per message.
private struct DeliveredRun {
    private var progress: PartitionProgress?
    private var topicPartition: TopicPartition?
    private var offsets: [Int64] = []

    /// The current progress of the message's partition (nil if it is not assigned), with the message
    /// recorded as delivered.
    mutating func register(_ message: KafkaConsumerMessage, in tracker: borrowing Mutex<OffsetTracker>) -> PartitionProgress? {
        if message.partition != topicPartition?.partition || message.topic != topicPartition?.topic {
            flush()
            topicPartition = message.topicPartition
            progress = tracker.withLock { $0.progress(of: message.topicPartition) }
        }
        if progress != nil { offsets.append(message.offset) }
        return progress
    }

    /// Registers the run's offsets as delivered.
    mutating func flush() {
        if let progress, !offsets.isEmpty { progress.delivered(offsets: offsets) }
        offsets.removeAll(keepingCapacity: true)
    }
}

/// The consumer's state shared with its rebalance callback.
private final class ConsumerState: Sendable {
    let tracker = Mutex(OffsetTracker())
    let paused = Atomic<Bool>(false)
    let closed = Atomic<Bool>(false)
    let stopped = Atomic<Bool>(false)
    let assignmentChanged = Atomic<Bool>(false)
    let rebalances = Atomic<Int>(0)
    let joined = Atomic<Bool>(false)
    /// A consumer of every partition's own assignment (unused in a group).
    let lookout: Mutex<PartitionLookout>

    init(lookout: PartitionLookout) {
        self.lookout = Mutex(lookout)
    }

    /// Runs on the poll queue inside librdkafka's rebalance callback, before the assignment changes.
    func rebalance(_ event: RebalanceEvent, client: RDKafkaClient, logger: Logger) {
        rebalances.add(1, ordering: .relaxed)
        switch event {
        case .assigned(let partitions):
            tracker.withLock { $0.assign(partitions) }
            assignmentChanged.store(true, ordering: .relaxed)
            joined.store(true, ordering: .relaxed)
            logger.info(
                "partitions assigned: \(partitions.map(\.description).sorted().joined(separator: ", "))",
                metadata: ["kafka.rebalance.protocol": "\(client.rebalanceProtocol)"])
        case .revoking(let partitions):
            // Finished work of the revoked partitions is committed before they move; the rest is redelivered.
            let offsets = tracker.withLock { tracker in
                defer { tracker.revoke(partitions) }
                return tracker.takeOffsetsToStore()
            }
            do {
                try client.storeOffsets(offsets)
                try client.commitStoredOffsets()
            } catch {
                logger.warning("committing before revocation failed: \(error)")
            }
            logger.info("partitions revoked: \(partitions.map(\.description).sorted().joined(separator: ", "))")
        }
    }
}

/// A context's statistics handler that parses the JSON for `handler`; a document that does not
/// parse is logged and skipped.
func statisticsDecoder(
    _ handler: (@Sendable (KafkaStatistics) -> Void)?,
    logger: Logger
) -> RDKafkaClientContext.StatisticsHandler? {
    guard let handler else { return nil }
    return { json in
        do {
            handler(try KafkaStatistics.parse(json))
        } catch {
            logger.debug("librdkafka statistics not understood: \(error)")
        }
    }
}
