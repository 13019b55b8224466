/// For a consumer of every partition (``ConsumerConfiguration/Partitions/every``): which of its
/// topics' partitions it has still to assign, and when to read the partition counts again.
///
/// A look that finds every topic comes again after `interval`; one that misses a topic, or fails,
/// comes again after a second, so a dashboard started before its topics were created reads them soon
/// after they are.
struct PartitionLookout: Sendable {
    let topics: [String]
    let interval: Duration
    private(set) var assigned: Set<TopicPartition> = []
    /// Whether a look has had the cluster's answer for every topic (found or not).
    private(set) var hasLooked = false
    private var nextLook: ContinuousClock.Instant?

    /// How soon a look that missed something is repeated.
    static let retryInterval = Duration.seconds(1)

    init(topics: [String], interval: Duration) {
        self.topics = topics
        self.interval = interval
    }

    /// Whether it is time to read the partition counts.
    func isDue(at now: ContinuousClock.Instant) -> Bool {
        nextLook.map { now >= $0 } ?? true
    }

    /// Takes a look's counts (nil: the cluster has no such topic) and returns, in topic and partition
    /// order, the partitions not assigned yet. They count as assigned once ``markAssigned(_:)`` says so.
    mutating func unassigned(counts: [String: Int?], at now: ContinuousClock.Instant) -> [TopicPartition] {
        hasLooked = true
        var missing = false
        var found: [TopicPartition] = []
        for topic in topics {
            guard case .some(.some(let count)) = counts[topic] else {
                missing = true
                continue
            }
            for partition in 0..<Int32(clamping: count) {
                let topicPartition = TopicPartition(topic: topic, partition: partition)
                if !assigned.contains(topicPartition) { found.append(topicPartition) }
            }
        }
        nextLook = now + (missing ? Self.retryInterval : interval)
        return found
    }

    /// The cluster did not answer: look again soon.
    mutating func failed(at now: ContinuousClock.Instant) {
        nextLook = now + Self.retryInterval
    }

    mutating func markAssigned(_ partitions: [TopicPartition]) {
        assigned.formUnion(partitions)
    }

    /// An assignment that failed is tried again at the next look, soon.
    mutating func assignmentFailed(at now: ContinuousClock.Instant) {
        nextLook = now + Self.retryInterval
    }
}
