import Foundation
import JobstreamMessages
import JobstreamStore
import Synchronization

/// A job clock for unit tests: every wait advances the clock by what was asked and takes a
/// millisecond of real time, so a state machine that renews each second and gives up after two
/// minutes runs through its steps in milliseconds. Time only moves forward.
public final class FastJobClock: JobClock {
    private let skipped = Mutex(Duration.zero)

    public init() {}

    public func now() -> ContinuousClock.Instant { .now + skipped.withLock { $0 } }

    public func epochMilliseconds() -> Int {
        Date().epochMilliseconds + Int(skipped.withLock { $0 }.components.seconds * 1000)
    }

    public func sleep(for duration: Duration) async throws {
        skipped.withLock { $0 += duration }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// Waits until `condition` holds, checking every millisecond, for at most `limit` (a generous upper
/// bound: the order of a test is made by the states it waits on, never by this limit).
public func eventually(
    within limit: Duration = .seconds(30), _ what: String,
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(1))
    }
}

/// ``eventually(within:_:_:)`` waited past its limit.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public var description: String { "timed out waiting for \(what)" }
}

/// Waits for `task` to end, for at most `limit`; past it, cancels the task, waits for it, and throws
/// ``TimedOut`` (so a broken rule fails its test instead of hanging the run).
public func ended(_ task: Task<Void, Never>, within limit: Duration = .seconds(60), _ what: String) async throws {
    let done = Atomic<Bool>(false)
    let watcher = Task {
        await task.value
        done.store(true, ordering: .sequentiallyConsistent)
    }
    do {
        try await eventually(within: limit, what) { done.load(ordering: .sequentiallyConsistent) }
    } catch {
        task.cancel()
        await watcher.value
        throw error
    }
}
