import JobstreamMessages
import JobstreamStore
import SQLKit

/// Splits the charges in scope of a migration — those created on or before the cutover date — into
/// slices of `sliceSize` consecutive charge ids. The last slice is open-ended, so a charge added
/// after planning with a later id is still migrated.
public struct SlicePlanner: Sendable {
    public let store: Store
    public let sliceSize: Int

    public init(store: Store, sliceSize: Int) {
        precondition(sliceSize > 0, "a slice holds at least one charge")
        self.store = store
        self.sliceSize = sliceSize
    }

    /// The plan: at least one slice, even when no charge is in scope.
    public func plan(cutover: CalendarDate) async throws -> [SlicePlan] {
        try await store.withDatabase { database in
            var slices: [SlicePlan] = []
            var after: String?
            // Each boundary is found by skipping `sliceSize` ids along the primary key's index.
            while true {
                var query: SQLQueryString = "SELECT id FROM rate_plan_charges WHERE created_on <= \(bind: cutover.description)"
                if let after { query += " AND id > \(bind: after)" }
                query += " ORDER BY id LIMIT 1 OFFSET \(literal: sliceSize - 1)"
                guard let through = try await database.raw(query).first()?.decode(column: "id", as: String.self) else { break }
                slices.append(
                    SlicePlan(index: slices.count, afterCharge: after, throughCharge: through, plannedCharges: sliceSize))
                after = through
            }
            var rest: SQLQueryString =
                "SELECT COUNT(*) AS n FROM rate_plan_charges WHERE created_on <= \(bind: cutover.description)"
            if let after { rest += " AND id > \(bind: after)" }
            let remaining = try await database.raw(rest).first()?.decode(column: "n", as: Int.self) ?? 0
            if remaining > 0 || slices.isEmpty {
                slices.append(SlicePlan(index: slices.count, afterCharge: after, throughCharge: nil, plannedCharges: remaining))
            } else {
                slices[slices.count - 1].throughCharge = nil
            }
            return slices
        }
    }
}
