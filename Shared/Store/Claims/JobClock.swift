import Foundation
import JobstreamMessages

/// The clock a job's logic reads: the time written into its records, and the waits between its
/// checks. Services use ``SystemJobClock``; unit tests pass a clock whose waits are short, so a
/// state machine that renews every second runs through its steps in milliseconds.
public protocol JobClock: Sendable {
    /// Now, in milliseconds since 1970 (the records' dates).
    func epochMilliseconds() -> Int
    /// Now, for measuring how long something took (stalls, announcement spacing).
    func now() -> ContinuousClock.Instant
    /// Waits `duration` (or throws when the task is cancelled).
    func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemJobClock: JobClock {
    public init() {}

    public func epochMilliseconds() -> Int { Date().epochMilliseconds }
    public func now() -> ContinuousClock.Instant { .now }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
