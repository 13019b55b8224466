import Foundation
import JobstreamMessages
import SQLKit

/// Fills a store with deterministic sample billing data: the same counts give the same records on
/// every machine and in both databases (a fixed-seed generator, no clock, no randomness from outside).
///
/// Rate plan charges are `RPC-00000001`…; about 40 % have no booking date, which is what
/// `booking-date-from-created` fills. Invoice items are `II-00000001`…, each billing a charge.
public struct StoreSeeder: Sendable {
    public let charges: Int
    public let invoiceItems: Int
    /// Rows per INSERT statement.
    let batchSize = 500

    public init(charges: Int, invoiceItems: Int) {
        self.charges = charges
        self.invoiceItems = invoiceItems
    }

    /// The id of the n-th (1-based) rate plan charge.
    public static func chargeID(_ n: Int) -> String { "RPC-" + zeroPadded(n, width: 8) }
    /// The id of the n-th (1-based) invoice item.
    public static func invoiceItemID(_ n: Int) -> String { "II-" + zeroPadded(n, width: 8) }

    static let accountingCodes = ["4000-Subscription", "4100-Usage", "4200-Services", "4300-Hardware", "4900-Other"]
    static let recognitionRules = ["Recognize upon invoicing", "Recognize daily over time", "Recognize at event"]

    /// Replaces every rate plan charge and invoice item with the sample data.
    public func seed(_ store: Store) async throws {
        var random = SplitMix64(seed: 20_261_122)
        try await store.transaction { database in
            try await database.raw("DELETE FROM invoice_items").run()
            try await database.raw("DELETE FROM rate_plan_charges").run()
            var start = 1
            while start <= charges {
                let end = min(start + batchSize - 1, charges)
                var query: SQLQueryString = """
                    INSERT INTO rate_plan_charges (id, charge_number, subscription_number, created_on, booking_date,
                    accounting_code, revenue_recognition_rule, amount, service_start_date, service_end_date) VALUES
                    """
                for n in start...end {
                    let created = Self.baseDay + Int(random.next() % 1460)
                    let booking: String? = random.next() % 10 < 4 ? nil : Self.isoDate(created + Int(random.next() % 30))
                    let values: [any Encodable & Sendable] = [
                        Self.chargeID(n), "C-" + Self.zeroPadded(n, width: 8), "A-S" + Self.zeroPadded((n + 2) / 3, width: 8),
                        Self.isoDate(created), booking,
                        Self.accountingCodes[Int(random.next() % UInt64(Self.accountingCodes.count))],
                        Self.recognitionRules[Int(random.next() % UInt64(Self.recognitionRules.count))],
                        Self.amount(random.next()), Self.isoDate(created), Self.isoDate(created + 365),
                    ]
                    query += n == start ? "(\(binds: values))" : ", (\(binds: values))"
                }
                try await database.raw(query).run()
                start = end + 1
            }
            start = 1
            while start <= invoiceItems, charges > 0 {
                let end = min(start + batchSize - 1, invoiceItems)
                var query: SQLQueryString = """
                    INSERT INTO invoice_items (id, charge_id, accounting_code, revenue_start_date, revenue_end_date, amount) VALUES
                    """
                for n in start...end {
                    let day = Self.baseDay + Int(random.next() % 1460)
                    let values: [any Encodable & Sendable] = [
                        Self.invoiceItemID(n), Self.chargeID((n - 1) % charges + 1),
                        Self.accountingCodes[Int(random.next() % UInt64(Self.accountingCodes.count))],
                        Self.isoDate(day), Self.isoDate(day + 30), Self.amount(random.next()),
                    ]
                    query += n == start ? "(\(binds: values))" : ", (\(binds: values))"
                }
                try await database.raw(query).run()
                start = end + 1
            }
        }
    }

    /// 2021-01-01 as days since 1970-01-01.
    static let baseDay = 18_628

    /// An amount between 1.00 and 9,999.99 as exact decimal text.
    static func amount(_ value: UInt64) -> String {
        let cents = Int(value % 999_900) + 100
        return "\(cents / 100)." + zeroPadded(cents % 100, width: 2)
    }

    static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// `YYYY-MM-DD` for a day counted from 1970-01-01.
    static func isoDate(_ daysSinceEpoch: Int) -> String {
        CalendarDate(daysSinceEpoch: daysSinceEpoch)!.description
    }
}

/// A small, fast, seedable pseudo-random generator (SplitMix64), so sample data and simulations are
/// reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// How many records a store holds.
public struct RecordCounts: Sendable, Hashable {
    public var charges: Int
    public var chargesWithoutBookingDate: Int
    public var invoiceItems: Int

    public static func read(_ store: Store) async throws -> RecordCounts {
        try await store.withDatabase { database in
            func count(_ query: SQLQueryString) async throws -> Int {
                try await database.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
            }
            return RecordCounts(
                charges: try await count("SELECT COUNT(*) AS n FROM rate_plan_charges"),
                chargesWithoutBookingDate: try await count(
                    "SELECT COUNT(*) AS n FROM rate_plan_charges WHERE booking_date IS NULL"),
                invoiceItems: try await count("SELECT COUNT(*) AS n FROM invoice_items"))
        }
    }
}
