import DequeModule

/// Which delivered messages are finished, per partition, and so which offset may be committed.
///
/// Messages of a partition arrive in offset order but may finish in any order. The committable
/// offset is one past the last message of the unbroken finished prefix: a message still in work
/// holds back the commit of everything after it, so nothing unfinished is ever committed.
/// Not thread-safe; ``KafkaConsumer`` guards it.
struct OffsetTracker {
    private struct Progress {
        /// Which assignment of the partition this is; a message from an earlier one is stale.
        var epoch: UInt64
        /// Delivered offsets in order, with whether each is finished.
        var inWork: Deque<(offset: Int64, finished: Bool)> = []
        /// The next offset to commit, once it moved since the last store.
        var pendingStore: Int64?
    }

    private var partitions: [TopicPartition: Progress] = [:]
    private var nextEpoch: UInt64 = 1

    /// Partitions currently assigned.
    var assigned: Set<TopicPartition> { Set(partitions.keys) }

    /// Starts tracking newly assigned partitions.
    mutating func assign(_ topicPartitions: [TopicPartition]) {
        for topicPartition in topicPartitions where partitions[topicPartition] == nil {
            partitions[topicPartition] = Progress(epoch: nextEpoch)
            nextEpoch += 1
        }
    }

    /// Stops tracking revoked partitions; their unfinished messages will be redelivered to the next owner.
    mutating func revoke(_ topicPartitions: [TopicPartition]) {
        for topicPartition in topicPartitions {
            partitions[topicPartition] = nil
        }
    }

    /// Records a delivered message and returns the epoch of its partition's assignment, or nil if the
    /// partition is not assigned (it was revoked after the fetch): such a message must not be handed out.
    mutating func delivered(_ topicPartition: TopicPartition, offset: Int64) -> UInt64? {
        guard partitions[topicPartition] != nil else { return nil }
        partitions[topicPartition]!.inWork.append((offset, false))
        return partitions[topicPartition]!.epoch
    }

    /// Whether a delivered message still belongs to the current assignment of its partition.
    func isTracked(_ topicPartition: TopicPartition, epoch: UInt64) -> Bool {
        partitions[topicPartition]?.epoch == epoch
    }

    /// Marks a message finished. Stale (revoked since) or unknown messages are ignored.
    mutating func finished(_ topicPartition: TopicPartition, offset: Int64, epoch: UInt64) {
        guard var progress = partitions[topicPartition], progress.epoch == epoch else { return }
        partitions[topicPartition] = nil  // keep the deque uniquely referenced while mutating it
        if let index = Self.index(of: offset, in: progress.inWork) {
            progress.inWork[index].finished = true
            while let first = progress.inWork.first, first.finished {
                progress.inWork.removeFirst()
                progress.pendingStore = first.offset + 1
            }
        }
        partitions[topicPartition] = progress
    }

    /// Offsets that moved since the last call, to store for commit; clears them.
    mutating func takeOffsetsToStore() -> [(TopicPartition, Int64)] {
        var result: [(TopicPartition, Int64)] = []
        for (topicPartition, progress) in partitions {
            if let offset = progress.pendingStore {
                result.append((topicPartition, offset))
                partitions[topicPartition]!.pendingStore = nil
            }
        }
        return result
    }

    /// Messages delivered and not yet finished, over all partitions.
    var inWorkCount: Int {
        partitions.values.reduce(0) { $0 + $1.inWork.count { !$0.finished } }
    }

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
