import DequeModule

/// The messages of a ``KafkaConsumer``, fetched from librdkafka in batches.
///
/// Iterate from one task. A message whose partition was revoked after it was fetched is skipped:
/// its new owner receives it.
public struct KafkaConsumerMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerMessage

    let consumer: KafkaConsumer

    public func makeAsyncIterator() -> Iterator {
        Iterator(consumer: consumer)
    }

    /// Hands out buffered messages, polling for a new batch when the buffer is empty. A prefetched batch
    /// that is never handed out (iteration ended) stays unfinished, so it is not committed and is
    /// delivered again after a restart or rebalance.
    public struct Iterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        var buffer: Deque<KafkaConsumerMessage> = []
        /// The consumer's rebalance count when the buffered batch was taken; while it is unchanged,
        /// every buffered message is still current and needs no per-message check.
        var bufferRebalances = 0
        /// The next batch, already being polled while this one is handed out (only while messages
        /// flow): the poll waits on librdkafka while the service works, so a new message is not held
        /// up by a thread hop.
        var prefetch: Task<(Deque<KafkaConsumerMessage>, Int), Never>?

        /// The next message already fetched, without waiting; nil when none is buffered. For a service
        /// that handles messages in batches: it takes what has arrived without holding the batch back.
        public mutating func nextBuffered() -> KafkaConsumerMessage? {
            guard !consumer.isStopped else { return nil }
            while let message = buffer.popFirst() {
                if consumer.rebalanceCount == bufferRebalances || consumer.isCurrent(message) { return message }
            }
            return nil
        }

        /// The next message, or nil once the consumer stopped or closed, or the task was cancelled.
        public mutating func next() async -> KafkaConsumerMessage? {
            while true {
                if Task.isCancelled || consumer.isStopped { return nil }
                while let message = buffer.popFirst() {
                    if consumer.rebalanceCount == bufferRebalances || consumer.isCurrent(message) { return message }
                }
                let consumer = self.consumer
                let batch = prefetch ?? Task { await consumer.pollBatch() }
                (buffer, bufferRebalances) = await batch.value
                prefetch = buffer.isEmpty ? nil : Task { await consumer.pollBatch() }
            }
        }
    }
}
