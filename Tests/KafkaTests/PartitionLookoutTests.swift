import Testing

@testable import Kafka

@Suite("the partitions a consumer of every partition still has to assign")
struct PartitionLookoutTests {
    let start = ContinuousClock.now

    @Test("the first look is due at once; every partition found comes once, in order; then every interval")
    func findsEachOnce() {
        var lookout = PartitionLookout(topics: ["a", "b"], interval: .seconds(30))
        #expect(lookout.isDue(at: start))
        #expect(!lookout.hasLooked)
        let first = lookout.unassigned(counts: ["a": 2, "b": 1], at: start)
        #expect(first == [.init(topic: "a", partition: 0), .init(topic: "a", partition: 1), .init(topic: "b", partition: 0)])
        #expect(lookout.hasLooked)
        lookout.markAssigned(first)
        #expect(!lookout.isDue(at: start + .seconds(29)))
        #expect(lookout.isDue(at: start + .seconds(30)))
        // A partition added since is the only one the next look returns.
        #expect(lookout.unassigned(counts: ["a": 3, "b": 1], at: start + .seconds(30)) == [.init(topic: "a", partition: 2)])
    }

    @Test("a missing topic, a failed look or a failed assignment is retried after a second")
    func retriesSoon() {
        var lookout = PartitionLookout(topics: ["a", "b"], interval: .seconds(30))
        let found = lookout.unassigned(counts: ["a": 1, "b": nil], at: start)
        #expect(found == [.init(topic: "a", partition: 0)])
        #expect(lookout.isDue(at: start + PartitionLookout.retryInterval))
        // Not marked assigned (the assignment failed): the next look returns it again.
        lookout.assignmentFailed(at: start)
        #expect(lookout.unassigned(counts: ["a": 1, "b": 1], at: start + .seconds(1)).count == 2)
        lookout.failed(at: start + .seconds(1))
        #expect(!lookout.isDue(at: start + .milliseconds(1_999)))
        #expect(lookout.isDue(at: start + .seconds(2)))
    }
}
