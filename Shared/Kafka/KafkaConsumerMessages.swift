import DequeModule

/// The messages of a ``KafkaConsumer``, fetched from librdkafka in batches.
///
/// Iterate from one task. A message whose partition was revoked after it was fetched is skipped:
/// its new owner receives it. However slowly the messages are handled, the consumer polls at least
/// every ``keepAliveInterval`` while it hands out fetched ones, so it stays in its group.
public struct KafkaConsumerMessages: AsyncSequence, Sendable {
    public typealias Element = KafkaConsumerMessage

    let consumer: KafkaConsumer

    /// The longest the consumer goes without polling while the service works through fetched messages.
    public static let keepAliveInterval = Duration.seconds(1)

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
        var prefetch: Task<PolledBatch, Never>?
        /// When the consumer last polled (or a prefetch was started), in ``CoarseClock`` milliseconds.
        var lastPoll = CoarseClock.milliseconds()
        static let keepAliveMilliseconds = KafkaConsumerMessages.keepAliveInterval.milliseconds

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
                if !buffer.isEmpty, CoarseClock.milliseconds() - lastPoll > Self.keepAliveMilliseconds {
                    await keepAlive()
                }
                while let message = buffer.popFirst() {
                    if consumer.rebalanceCount == bufferRebalances || consumer.isCurrent(message) { return message }
                }
                let consumer = self.consumer
                let batch = await (prefetch ?? Task { await consumer.pollBatch() }).value
                buffer = batch.take()
                bufferRebalances = batch.rebalances
                prefetch = buffer.isEmpty ? nil : Task { await consumer.pollBatch() }
                lastPoll = CoarseClock.milliseconds()
            }
        }

        /// Polls while fetched messages wait (see ``KafkaConsumer/keepAlivePoll()``), queuing what the
        /// prefetch and the poll brought behind them in order. Messages are then checked one by one
        /// against the assignment, which a rebalance served by the poll may have changed.
        private mutating func keepAlive() async {
            if let prefetch {
                buffer.append(contentsOf: await prefetch.value.take())
                self.prefetch = nil
            }
            let (more, _) = await consumer.keepAlivePoll()
            buffer.append(contentsOf: more)
            bufferRebalances = -1
            lastPoll = CoarseClock.milliseconds()
        }
    }
}
