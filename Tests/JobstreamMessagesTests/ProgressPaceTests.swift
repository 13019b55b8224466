import JobstreamMessages
import Testing

@Suite("Progress pace")
struct ProgressPaceTests {
    @Test("rows per second over about the last ten seconds, and the end at that pace")
    func pace() {
        var pace = ProgressPace()
        let start = ContinuousClock.now
        #expect(pace.rowsPerSecond == nil)
        pace.add(rows: 0, at: start)
        pace.add(rows: 10, at: start + .milliseconds(500))
        #expect(pace.rowsPerSecond == nil, "less than a second says nothing yet")
        for second in 1...30 { pace.add(rows: second * 100, at: start + .seconds(second)) }
        #expect(pace.rowsPerSecond == 100)
        #expect(pace.estimatedEnd(remaining: 1000, nowMilliseconds: 5_000) == 15_000)
        // The pace follows a change within the window: ten seconds at 1,000 rows/s.
        for second in 31...45 { pace.add(rows: 3000 + (second - 30) * 1000, at: start + .seconds(second)) }
        #expect(pace.rowsPerSecond == 1000)
        pace.reset()
        #expect(pace.rowsPerSecond == nil)
        pace.add(rows: 5, at: start)
        pace.add(rows: 5, at: start + .seconds(2))
        #expect(pace.rowsPerSecond == 0 && pace.estimatedEnd(remaining: 10, nowMilliseconds: 0) == nil, "no pace, no end")
    }
}
