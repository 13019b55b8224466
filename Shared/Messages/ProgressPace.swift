/// How fast a job has lately been getting through its work, from counts read about each second (by
/// a backfill's keeper, or a CLI `wait`): units per second over the last ten seconds, and when the job
/// should end at that pace.
public struct ProgressPace: Sendable {
    private var samples: [(at: ContinuousClock.Instant, rows: Int)] = []
    public static let window = Duration.seconds(10)

    public init() {}

    /// Notes that `rows` rows had an outcome at `instant`.
    public mutating func add(rows: Int, at instant: ContinuousClock.Instant) {
        samples.append((instant, rows))
        // Keep the newest sample older than the window too, so the rate always spans about ten seconds.
        while samples.count > 2, instant - samples[1].at >= Self.window { samples.removeFirst() }
    }

    /// Forgets the samples (a pause: the pace after it is measured afresh).
    public mutating func reset() {
        samples.removeAll()
    }

    /// Rows per second over the samples, once they span a second or more.
    public var rowsPerSecond: Int? {
        guard let first = samples.first, let last = samples.last else { return nil }
        let span = last.at - first.at
        guard span >= .seconds(1) else { return nil }
        let seconds = Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
        return Int((Double(last.rows - first.rows) / seconds).rounded())
    }

    /// When `remaining` rows will have an outcome at the current pace (epoch ms), if it can be told.
    public func estimatedEnd(remaining: Int, nowMilliseconds: Int) -> Int? {
        guard let rate = rowsPerSecond, rate > 0, remaining >= 0 else { return nil }
        return nowMilliseconds + Int((Double(remaining) / Double(rate) * 1000).rounded())
    }
}
