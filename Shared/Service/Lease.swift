import Foundation
import JobstreamStore

/// A claim on a job in the database: the instance holding it renews it before it lapses, and any
/// instance may take over a job whose claim lapsed (its owner died or let go).
public struct Lease: Sendable {
    /// How long a claim lasts without renewal.
    public let duration: Duration

    public init(duration: Duration) {
        self.duration = duration
    }

    /// When a claim taken or renewed at `now` (epoch ms) lapses.
    public func until(from now: Int = epochMilliseconds()) -> Int {
        let (seconds, attoseconds) = duration.components
        return now + Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// A name for this process in a job's `owner` column: host, process id and a random part, so a
    /// restarted process never mistakes an old claim for its own.
    public static func instanceName() -> String {
        "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-"
            + UUID().uuidString.prefix(8).lowercased()
    }
}
