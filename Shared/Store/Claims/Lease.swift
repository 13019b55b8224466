import Foundation

/// A claim on a job in the database: the instance holding it renews it before it lapses, and any
/// instance may take over a job whose claim lapsed (its owner died or let go). Lapsing is reckoned
/// by the database's clock (``JobClaims``).
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
