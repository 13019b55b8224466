import Foundation
import JobstreamMessages
import SQLKit

/// The webhooks a job's end owes, kept in the database so that none is lost and none holds up a job:
/// a job only ends; a sweep turns ended jobs into deliveries (one per job, event and address), and
/// deliverers claim the due ones, send them and record each attempt. Any instance may sweep and
/// deliver; a claim lasts `claimMilliseconds`, so a deliverer that died leaves its deliveries to
/// another. A delivery is sent at least once (a receiver tells repeats apart by its event id).
public struct WebhookOutbox: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// One delivery owed, or its record once delivered or given up.
    public struct Delivery: Sendable, Equatable, Codable {
        public var jobId: String
        /// Which event of the job: its final status (`Completed`), or `paused-N` for a pause at its brake.
        public var eventKey: String
        public var url: String
        /// The JSON sent.
        public var payload: String
        public var createdAt: Int
        public var attempts: Int
        public var nextAttemptAt: Int
        public var lastStatus: Int?
        public var lastError: String?
        public var deliveredAt: Int?
        public var gaveUpAt: Int?

        /// How it stands, in words: delivered, given up, waiting, or when it is tried next (`date`
        /// writes a time, in epoch milliseconds, the way the caller shows times).
        public func state(date: (Int) -> String) -> String {
            if let at = deliveredAt { return "delivered \(date(at))" }
            if gaveUpAt != nil { return "given up" }
            return attempts == 0 ? "waiting" : "next attempt \(date(nextAttemptAt))"
        }
    }

    /// The most addresses one job may add, and the longest address.
    public static let maximumSubscriptions = 5
    public static let maximumURLBytes = 2048

    /// Adds addresses a job's end is sent to (besides the deployment's); repeats are ignored.
    public func subscribe(jobId: String, urls: [String]) async throws {
        guard !urls.isEmpty else { return }
        try await store.withDatabase { database in
            for url in urls.prefix(Self.maximumSubscriptions) {
                try await database.raw(
                    """
                    INSERT INTO webhook_subscriptions (job_id, url) VALUES (\(bind: jobId), \(bind: url))
                    ON CONFLICT (job_id, url) DO NOTHING
                    """
                ).run()
            }
        }
    }

    /// The addresses a job added.
    public func subscriptions(of jobId: String) async throws -> [String] {
        try await store.withDatabase { database in
            try await database.raw(
                "SELECT url FROM webhook_subscriptions WHERE job_id = \(bind: jobId) ORDER BY url"
            ).all().map { try $0.decode(column: "url", as: String.self) }
        }
    }

    /// Owes `payload` for the job's event to each address, once: an event already owed is left as it is.
    /// `refused` addresses are recorded as given up at once, with the reason, so the job's details
    /// say why nothing was sent there.
    public func owe(
        jobId: String, eventKey: String, payload: String, urls: [String], refused: [(url: String, reason: String)] = [],
        now: Int = Date().epochMilliseconds, in database: any SQLDatabase
    ) async throws {
        for url in urls {
            try await database.raw(
                """
                INSERT INTO webhook_deliveries (job_id, event_key, url, payload, created_at, next_attempt_at)
                VALUES (\(bind: jobId), \(bind: eventKey), \(bind: url), \(bind: payload), \(bind: now), \(bind: now))
                ON CONFLICT (job_id, event_key, url) DO NOTHING
                """
            ).run()
        }
        for (url, reason) in refused {
            try await database.raw(
                """
                INSERT INTO webhook_deliveries (job_id, event_key, url, payload, created_at, next_attempt_at, last_error, gave_up_at)
                VALUES (\(bind: jobId), \(bind: eventKey), \(bind: url), \(bind: payload), \(bind: now), \(bind: now),
                    \(bind: reason), \(bind: now))
                ON CONFLICT (job_id, event_key, url) DO NOTHING
                """
            ).run()
        }
    }

    /// Claims up to `limit` deliveries that are due at `now`, for `claimMilliseconds`.
    public func claimDue(limit: Int, claimMilliseconds: Int, now: Int = Date().epochMilliseconds) async throws -> [Delivery] {
        return try await store.transaction { database in
            let due = try await database.raw(
                """
                SELECT job_id, event_key, url FROM webhook_deliveries
                WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= \(bind: now)
                    AND claimed_until <= \(bind: now)
                ORDER BY next_attempt_at LIMIT \(bind: limit)
                """
            ).all()
            var claimed: [Delivery] = []
            for row in due {
                let (job, key, url) = (
                    try row.decode(column: "job_id", as: String.self), try row.decode(column: "event_key", as: String.self),
                    try row.decode(column: "url", as: String.self)
                )
                if let delivery = try await database.raw(
                    """
                    UPDATE webhook_deliveries SET claimed_until = \(bind: now + claimMilliseconds)
                    WHERE job_id = \(bind: job) AND event_key = \(bind: key) AND url = \(bind: url)
                        AND claimed_until <= \(bind: now) AND delivered_at IS NULL AND gave_up_at IS NULL
                    RETURNING \(unsafeRaw: Self.columns)
                    """
                ).first(decoding: Delivery.self, keyDecodingStrategy: .convertFromSnakeCase) {
                    claimed.append(delivery)
                }
            }
            return claimed
        }
    }

    /// Records an attempt: delivered (a 2xx), or to be tried again at `retryAt`, or given up (nil `retryAt`).
    public func recordAttempt(
        _ delivery: Delivery, status: Int?, error: String?, delivered: Bool, retryAt: Int?,
        now: Int = Date().epochMilliseconds
    ) async throws {
        let error = error.map { $0.count <= 300 ? $0 : String($0.prefix(300)) + "…" }
        try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = \(bind: status),
                    last_error = \(bind: error), claimed_until = 0,
                    delivered_at = \(bind: delivered ? now : nil),
                    next_attempt_at = \(bind: retryAt ?? now),
                    gave_up_at = \(bind: !delivered && retryAt == nil ? now : nil)
                WHERE job_id = \(bind: delivery.jobId) AND event_key = \(bind: delivery.eventKey) AND url = \(bind: delivery.url)
                """
            ).run()
        }
    }

    /// Every delivery of a job, oldest first.
    public func deliveries(of jobId: String) async throws -> [Delivery] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT \(unsafeRaw: Self.columns) FROM webhook_deliveries WHERE job_id = \(bind: jobId)
                ORDER BY created_at, event_key, url
                """
            ).all(decoding: Delivery.self, keyDecodingStrategy: .convertFromSnakeCase)
        }
    }

    /// An address as logs and pages show it: scheme and host only (a path or query can be its secret).
    public static func redacted(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else {
            return "(an address)"
        }
        return "\(scheme)://\(host)\(components.port.map { ":\($0)" } ?? "")/…"
    }

    static let columns = """
        job_id, event_key, url, payload, created_at, attempts, next_attempt_at, last_status, last_error, delivered_at,
        gave_up_at
        """
}
