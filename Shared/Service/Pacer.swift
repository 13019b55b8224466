import Synchronization

/// Spaces out units of work (chunks, slices) to at most `perSecond` per second on this instance, so a
/// stage can run beside production traffic on the record store without crowding it out.
///
/// Each caller is given the next free slot, `1/perSecond` after the one before; a caller whose slot
/// lies in the future sleeps until then. A pacer with no rate never waits.
public final class Pacer: Sendable {
    private let interval: Duration?
    private let nextSlot = Mutex<ContinuousClock.Instant?>(nil)

    /// - Parameter perSecond: the most units per second; nil or 0 for no limit.
    public init(perSecond: Double?) {
        if let perSecond, perSecond > 0 {
            interval = .nanoseconds(Int64((1e9 / perSecond).rounded()))
        } else {
            interval = nil
        }
    }

    /// Whether this pacer limits anything.
    public var isLimited: Bool { interval != nil }

    /// Returns once this unit of work may start; throws `CancellationError` if cancelled meanwhile.
    public func waitForTurn() async throws {
        guard let interval else { return }
        let now = ContinuousClock.now
        let slot = nextSlot.withLock { next -> ContinuousClock.Instant in
            let slot = max(next ?? now, now)
            next = slot + interval
            return slot
        }
        if slot > now { try await Task.sleep(until: slot, clock: .continuous) }
    }
}
