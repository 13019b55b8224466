import Testing

@testable import Kafka

/// The heart of at-least-once delivery: an offset is committed only once every message before it on
/// its partition is finished, whatever order they finish in; a revoked partition commits nothing more.
@Suite("Offset tracking")
struct OffsetTrackerTests {
    let orders = TopicPartition(topic: "orders", partition: 0)
    let other = TopicPartition(topic: "orders", partition: 1)

    func tracker(delivering offsets: [Int64], on topicPartition: TopicPartition) -> OffsetTracker {
        var tracker = OffsetTracker()
        tracker.assign([topicPartition])
        for offset in offsets { tracker.progress(of: topicPartition)?.delivered(offsets: [offset]) }
        return tracker
    }

    func stored(_ tracker: OffsetTracker) -> [TopicPartition: Int64] {
        Dictionary(uniqueKeysWithValues: tracker.takeOffsetsToStore().map { ($0.0, $0.1) })
    }

    @Test("finishing in order commits past each message")
    func inOrder() {
        let tracker = tracker(delivering: [0, 1, 2], on: orders)
        tracker.progress(of: orders)?.finished(offset: 0)
        #expect(stored(tracker) == [orders: 1])
        tracker.progress(of: orders)?.finished(offset: 1)
        tracker.progress(of: orders)?.finished(offset: 2)
        #expect(stored(tracker) == [orders: 3])
        #expect(tracker.inWorkCount == 0)
        #expect(stored(tracker).isEmpty, "an offset is handed out to store once")
    }

    @Test("a message still in work holds back the commit of every later one")
    func outOfOrder() {
        let tracker = tracker(delivering: [10, 11, 12, 13], on: orders)
        tracker.progress(of: orders)?.finished(offset: 13)
        tracker.progress(of: orders)?.finished(offset: 11)
        tracker.progress(of: orders)?.finished(offset: 12)
        #expect(stored(tracker).isEmpty, "offset 10 is not finished: nothing may be committed")
        #expect(tracker.inWorkCount == 1)
        tracker.progress(of: orders)?.finished(offset: 10)
        #expect(stored(tracker) == [orders: 14])
    }

    @Test("offsets with gaps (compaction, transaction markers) commit past the last finished")
    func gaps() {
        let tracker = tracker(delivering: [3, 7, 20], on: orders)
        tracker.progress(of: orders)?.finished(offset: 7)
        #expect(stored(tracker).isEmpty)
        tracker.progress(of: orders)?.finished(offset: 3)
        #expect(stored(tracker) == [orders: 8])
        tracker.progress(of: orders)?.finished(offset: 20)
        #expect(stored(tracker) == [orders: 21])
    }

    @Test("finishing an offset never delivered, or one finished already, changes nothing")
    func unknownAndRepeated() {
        let tracker = tracker(delivering: [5, 6], on: orders)
        tracker.progress(of: orders)?.finished(offset: 4)
        tracker.progress(of: orders)?.finished(offset: 99)
        #expect(stored(tracker).isEmpty)
        #expect(tracker.inWorkCount == 2)
        tracker.progress(of: orders)?.finished(offset: 5)
        tracker.progress(of: orders)?.finished(offset: 5)
        #expect(stored(tracker) == [orders: 6])
        #expect(tracker.inWorkCount == 1)
    }

    @Test("partitions are tracked apart")
    func partitionsApart() {
        var tracker = tracker(delivering: [0, 1], on: orders)
        tracker.assign([other])
        tracker.progress(of: other)?.delivered(offsets: [40])
        tracker.progress(of: other)?.finished(offset: 40)
        tracker.progress(of: orders)?.finished(offset: 1)
        #expect(stored(tracker) == [other: 41], "orders[0] waits for offset 0")
    }

    @Test("a revoked partition commits nothing more, even when its messages finish later")
    func revoked() {
        var tracker = tracker(delivering: [0, 1], on: orders)
        let before = tracker.progress(of: orders)
        tracker.revoke([orders])
        #expect(tracker.progress(of: orders) == nil)
        before?.finished(offset: 0)
        before?.finished(offset: 1)
        #expect(stored(tracker).isEmpty)
        #expect(tracker.inWorkCount == 0, "a revoked partition's messages are no longer counted in work")
    }

    @Test("a partition assigned again starts afresh: a message of the earlier assignment cannot move it")
    func reassigned() {
        var tracker = tracker(delivering: [0, 1], on: orders)
        let earlier = tracker.progress(of: orders)
        tracker.revoke([orders])
        tracker.assign([orders])
        let now = tracker.progress(of: orders)
        #expect(now !== earlier)
        now?.delivered(offsets: [1])
        earlier?.finished(offset: 0)
        earlier?.finished(offset: 1)
        #expect(stored(tracker).isEmpty, "the earlier assignment's finishes are stale")
        now?.finished(offset: 1)
        #expect(stored(tracker) == [orders: 2])
    }

    @Test("assigning a partition already assigned keeps its progress")
    func assignedTwice() {
        var tracker = tracker(delivering: [0], on: orders)
        let first = tracker.progress(of: orders)
        tracker.assign([orders])
        #expect(tracker.progress(of: orders) === first)
        #expect(tracker.inWorkCount == 1)
    }
}
