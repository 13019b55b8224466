import Foundation
import JobstreamStore
import Synchronization

/// A claim on a job in the database: the instance holding it renews it before it lapses, and any
/// instance may take over a job whose claim lapsed (its owner died or let go). Lapsing is reckoned
/// by the database's clock (``JobClaims``); an owner also keeps its own watch (``LeaseWatch``).
public struct Lease: Sendable {
    /// How long a claim lasts without renewal.
    public let duration: Duration
    /// How many times in a row a job may be taken over without moving on before it is given up.
    public let maxTakeovers: Int

    public init(duration: Duration, maxTakeovers: Int = 5) {
        self.duration = duration
        self.maxTakeovers = maxTakeovers
    }

    /// The lease in milliseconds, as the database adds it to its clock.
    public var milliseconds: Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// A name for this process in a job's `owner` column: host, process id and a random part, so a
    /// restarted process never mistakes an old claim for its own.
    public static func instanceName() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + UUID().uuidString.prefix(8).lowercased()
    }
}

/// An owner's own watch on its claim, by its monotonic clock: when its last successful renewal
/// started longer ago than most of a lease, the claim may have lapsed in the database (a renewal
/// stuck behind a lock, a process paused), so the owner stops acting as owner before another
/// instance can have taken the job over. Its writes are fenced by the claim's epoch besides.
public final class LeaseWatch: Sendable {
    private let safeFor: Duration
    private let renewedAt = Mutex(ContinuousClock.now)

    /// - Parameter lease: the claim's lease; the watch trusts two thirds of it.
    public init(lease: Duration) {
        safeFor = lease * 2 / 3
    }

    /// Notes a renewal that succeeded, started at `start`.
    public func renewed(startedAt start: ContinuousClock.Instant) {
        renewedAt.withLock { $0 = max($0, start) }
    }

    /// Whether the claim may have lapsed.
    public var mayHaveLapsed: Bool {
        ContinuousClock.now - renewedAt.withLock { $0 } > safeFor
    }
}
