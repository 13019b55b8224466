import Testing

@testable import Kafka

@Suite("Packing consumed values into shared buffers")
struct PackedValuesTests {
    /// Splits `lengths` into runs as the consumer does, returning each run's range and bytes.
    func runs(_ lengths: [Int]) -> [(Range<Int>, Int)] {
        var runs: [(Range<Int>, Int)] = []
        var start = 0
        while start < lengths.count {
            let run = PackedValues.run(from: start, count: lengths.count) { lengths[$0] }
            runs.append((run.messages, run.bytes))
            start = run.messages.upperBound
        }
        return runs
    }

    @Test("a batch of small values shares one buffer")
    func oneRun() {
        let found = runs(Array(repeating: 100, count: 1000))
        #expect(found.count == 1)
        #expect(found.first?.0 == 0..<1000 && found.first?.1 == 100_000)
    }

    @Test("no buffer holds more than its limit, and every message is in exactly one run")
    func bounded() {
        let lengths = (0..<500).map { $0 % 7 == 0 ? 0 : 10_000 + $0 }
        let found = runs(lengths)
        #expect(found.count > 1)
        #expect(found.allSatisfy { $0.1 <= PackedValues.bufferBytes })
        #expect(found.map(\.0.count).reduce(0, +) == lengths.count)
        #expect(zip(found, found.dropFirst()).allSatisfy { $0.0.upperBound == $1.0.lowerBound })
        #expect(found.allSatisfy { run in run.1 == lengths[run.0].reduce(0, +) })
    }

    @Test("a run always takes at least one message, so the split ends")
    func progress() {
        let found = runs([PackedValues.bufferBytes + 1, 5])
        #expect(found.map(\.0) == [0..<1, 1..<2])
    }
}
