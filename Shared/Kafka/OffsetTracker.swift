import DequeModule

/// The progress of one assignment of one partition: which delivered messages are finished, and so
/// which offset may be committed. A new assignment of the same partition gets a new object, so a
/// message fetched under an earlier assignment can always be told apart.
///
/// `@unchecked Sendable`: every field is read and written only under ``KafkaConsumer``'s tracker lock.
final class PartitionProgress: @unchecked Sendable {
    let topicPartition: TopicPartition
    /// Delivered offsets in order, with whether each is finished.
    var inWork: Deque<(offset: Int64, finished: Bool)> = []
    /// The next offset to commit, once it moved since the last store.
    var pendingStore: Int64?
    /// Set when the partition is revoked; its messages are then stale.
    var revoked = false

    init(_ topicPartition: TopicPartition) {
        self.topicPartition = topicPartition
    }

    /// Records a delivered message.
    func delivered(offset: Int64) {
        inWork.append((offset, false))
    }

    /// Marks a message finished and moves the committable offset past the unbroken finished prefix:
    /// a message still in work holds back the commit of everything after it.
    func finished(offset: Int64) {
        guard !revoked, let index = index(of: offset), !inWork[index].finished else { return }
        inWork[index].finished = true
        while let first = inWork.first, first.finished {
            inWork.removeFirst()
            pendingStore = first.offset + 1
        }
    }

    private func index(of offset: Int64) -> Int? {
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

/// The progress of every assigned partition. Not thread-safe; ``KafkaConsumer`` guards it.
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
            partitions.removeValue(forKey: topicPartition)?.revoked = true
        }
    }

    /// The progress of an assigned partition; nil if it is not assigned.
    func progress(of topicPartition: TopicPartition) -> PartitionProgress? {
        partitions[topicPartition]
    }

    /// Offsets that moved since the last call, to store for commit; clears them.
    func takeOffsetsToStore() -> [(TopicPartition, Int64)] {
        var result: [(TopicPartition, Int64)] = []
        for progress in partitions.values {
            if let offset = progress.pendingStore {
                result.append((progress.topicPartition, offset))
                progress.pendingStore = nil
            }
        }
        return result
    }

    /// Messages delivered and not yet finished, over all partitions.
    var inWorkCount: Int {
        partitions.values.reduce(0) { $0 + $1.inWork.count { !$0.finished } }
    }
}
