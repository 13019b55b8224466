import Foundation
import SQLKit
import Synchronization

/// The audit trail: who asked the dashboard or its API to do what, when, from where, and what became
/// of it. Refusals are kept as well as actions taken. Entries are never changed or removed; like the
/// job log, the trail is kept for good.
public struct AuditTrail: Sendable {
    public let store: Store
    static let counter = Atomic<Int>(0)

    public init(store: Store) {
        self.store = store
    }

    /// One entry of the trail.
    public struct Event: Sendable, Equatable, Codable {
        public var eventId: String
        /// When, in epoch milliseconds.
        public var at: Int
        /// The token's name, or for a shared token the name it gave.
        public var actor: String
        /// The role the request had: anonymous, viewer, operator or approver.
        public var role: String
        /// What was asked: `backfill.submit`, `backfill.apply`, `migration.start`, `sign-in`, …
        public var action: String
        /// What it was asked of: `backfill`, `migration` or `dashboard`, and the job's id.
        public var targetKind: String
        public var targetId: String?
        /// `accepted`, or `refused (STATUS)`.
        public var outcome: String
        /// The request's particulars or the refusal's reason.
        public var detail: String?
        /// Where the request came from: the peer's address, and a proxy's `X-Forwarded-For`.
        public var source: String?

        public init(
            eventId: String? = nil, at: Int, actor: String, role: String, action: String,
            targetKind: String, targetId: String?, outcome: String, detail: String?, source: String?
        ) {
            self.eventId = eventId ?? Self.nextId(at: at)
            self.at = at
            self.actor = Self.cut(actor, 200)
            self.role = role
            self.action = action
            self.targetKind = targetKind
            self.targetId = targetId.map { Self.cut($0, 200) }
            self.outcome = Self.cut(outcome, 200)
            self.detail = detail.map { Self.cut($0, 2000) }
            self.source = source.map { Self.cut($0, 300) }
        }

        /// An id that sorts as the entries were made: the instant, then a count of this process's
        /// entries (so two in one millisecond keep their order), then random digits (so two
        /// processes' never clash).
        static func nextId(at: Int) -> String {
            let count = AuditTrail.counter.add(1, ordering: .relaxed).newValue
            let random = String(UInt32.random(in: .min ... .max), radix: 16)
            return
                "\(String(repeating: "0", count: max(0, 13 - String(at).count)))\(at)-\(String(format: "%09d", count % 1_000_000_000))-\(random)"
        }

        /// Every value quoted from a request is cut short.
        static func cut(_ text: String, _ limit: Int) -> String {
            text.count <= limit ? text : String(text.prefix(limit)) + "…"
        }
    }

    /// Adds `event` to the trail.
    public func record(_ event: Event) async throws {
        let values: [any Encodable & Sendable] = [
            event.eventId, event.at, event.actor, event.role, event.action, event.targetKind, event.targetId,
            event.outcome, event.detail, event.source,
        ]
        try await store.withDatabase { database in
            try await database.raw(
                """
                INSERT INTO audit_events (event_id, at, actor, role, action, target_kind, target_id, outcome, detail, source)
                VALUES (\(binds: values))
                """
            ).run()
        }
    }

    /// The newest entries first, at most `limit`, of one job (`targetId`) or actor when given, older
    /// than `before` (an entry's `at` and `eventId`, for paging) when given.
    public func events(
        targetId: String? = nil, actor: String? = nil, before: (at: Int, eventId: String)? = nil, limit: Int
    ) async throws -> [Event] {
        var conditions: [SQLQueryString] = []
        if let targetId { conditions.append("target_id = \(bind: targetId)") }
        if let actor { conditions.append("actor = \(bind: actor)") }
        if let before {
            conditions.append("(at < \(bind: before.at) OR (at = \(bind: before.at) AND event_id < \(bind: before.eventId)))")
        }
        var filter: SQLQueryString = ""
        if !conditions.isEmpty {
            filter = "WHERE " + conditions.dropFirst().reduce(conditions[0]) { $0 + " AND " + $1 }
        }
        return try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT event_id, at, actor, role, action, target_kind, target_id, outcome, detail, source FROM audit_events
                \(filter) ORDER BY at DESC, event_id DESC LIMIT \(bind: limit)
                """
            ).all().map { row in
                Event(
                    eventId: try row.decode(column: "event_id", as: String.self), at: try row.decode(column: "at", as: Int.self),
                    actor: try row.decode(column: "actor", as: String.self),
                    role: try row.decode(column: "role", as: String.self),
                    action: try row.decode(column: "action", as: String.self),
                    targetKind: try row.decode(column: "target_kind", as: String.self),
                    targetId: try row.decode(column: "target_id", as: String?.self),
                    outcome: try row.decode(column: "outcome", as: String.self),
                    detail: try row.decode(column: "detail", as: String?.self),
                    source: try row.decode(column: "source", as: String?.self))
            }
        }
    }
}
