import DequeModule
import Synchronization

/// The progress of one assignment of one partition: which delivered messages are finished, and so
/// which offset may be committed. A new assignment of the same partition gets a new object, so a
/// message fetched under an earlier assignment can always be told apart.
///
/// Its state lives inside its own lock: a message carries its partition's progress, and the service
/// marks it finished from any task while the consumer polls on its queue.
final class PartitionProgress: Sendable {
    private struct State {
        /// Delivered offsets in order, with whether each is finished.
        var inWork: Deque<(offset: Int64, finished: Bool)> = []
        /// The next offset to commit, once it moved since the last store.
        var pendingStore: Int64?
        /// Set when the partition is revoked; its messages are then stale.
        var revoked = false
    }

    let topicPartition: TopicPartition
    private let state = Mutex(State())

    init(_ topicPartition: TopicPartition) {
        self.topicPartition = topicPartition
    }

    /// Records delivered messages, in the order they were delivered.
    func delivered(offsets: [Int64]) {
        state.withLock { state in
            for offset in offsets { state.inWork.append((offset, false)) }
        }
    }

    /// Marks a message finished and moves the committable offset past the unbroken finished prefix:
    /// a message still in work holds back the commit of everything after it.
    func finished(offset: Int64) {
        state.withLock { state in
            guard !state.revoked else { return }
            // Most messages are finished in the order they came: the first in work needs no search.
            if state.inWork.first?.offset == offset {
                state.inWork[state.inWork.startIndex].finished = true
            } else {
                guard let index = Self.index(of: offset, in: state.inWork), !state.inWork[index].finished else { return }
                state.inWork[index].finished = true
            }
            while let first = state.inWork.first, first.finished {
                state.inWork.removeFirst()
                state.pendingStore = first.offset + 1
            }
        }
    }

    /// Whether the partition was revoked since this assignment began.
    var isRevoked: Bool { state.withLock { $0.revoked } }

    /// Marks the assignment ended: nothing more of it is committed.
    func revoke() {
        state.withLock { $0.revoked = true }
    }

    /// The offset to store for commit if it moved since the last call; clears it.
    func takePendingStore() -> Int64? {
        state.withLock { state in
            defer { state.pendingStore = nil }
            return state.pendingStore
        }
    }

    /// Messages delivered and not yet finished.
    var inWorkCount: Int { state.withLock { $0.inWork.count { !$0.finished } } }

    private static func index(of offset: Int64, in inWork: Deque<(offset: Int64, finished: Bool)>) -> Int? {
        var low = 0
        var high = inWork.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let candidate = inWork[middle].offset
            if candidate == offset { return middle }
            if candidate < offset { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }
}

/// The progress of every assigned partition. A value: ``KafkaConsumer`` keeps it in a lock, and
/// each partition's progress keeps its own state in its own.
struct OffsetTracker {
    private var partitions: [TopicPartition: PartitionProgress] = [:]

    /// Starts tracking newly assigned partitions.
    mutating func assign(_ topicPartitions: [TopicPartition]) {
        for topicPartition in topicPartitions where partitions[topicPartition] == nil {
            partitions[topicPartition] = PartitionProgress(topicPartition)
        }
    }

    /// Stops tracking revoked partitions; their unfinished messages will be redelivered to the next owner.
    mutating func revoke(_ topicPartitions: [TopicPartition]) {
        for topicPartition in topicPartitions {
            partitions.removeValue(forKey: topicPartition)?.revoke()
        }
    }

    /// The progress of an assigned partition; nil if it is not assigned.
    func progress(of topicPartition: TopicPartition) -> PartitionProgress? {
        partitions[topicPartition]
    }

    /// Offsets that moved since the last call, to store for commit; clears them.
    func takeOffsetsToStore() -> [(TopicPartition, Int64)] {
        partitions.values.compactMap { progress in progress.takePendingStore().map { (progress.topicPartition, $0) } }
    }

    /// Messages delivered and not yet finished, over all partitions.
    var inWorkCount: Int {
        partitions.values.reduce(0) { $0 + $1.inWorkCount }
    }
}
