import JobstreamMessages

/// How a charge's revenue is recognized, by the rule names billing records carry.
public enum RecognitionRule: String, Sendable, CaseIterable {
    /// All of it at once, on the booking date (when the charge was booked and invoiced).
    case uponInvoicing = "Recognize upon invoicing"
    /// Ratably by day over the service period, in one line per calendar month.
    case dailyOverTime = "Recognize daily over time"
    /// All of it at once, on the service start date (the event the charge is for).
    case atEvent = "Recognize at event"
}

/// One period of a revenue schedule: an amount recognized (before the cutover date) or open.
public struct RevenueScheduleLine: Sendable, Hashable {
    public var start: CalendarDate
    /// Inclusive.
    public var end: CalendarDate
    public var amount: ExactAmount
    /// True when the whole period lies before the cutover date.
    public var recognized: Bool
}

/// A charge's revenue spread over its service period as of a cutover date: the part before the
/// cutover is already recognized, the rest is open. The lines add up to the charge's amount exactly.
public struct RevenueSchedule: Sendable, Hashable {
    public var chargeId: String
    public var rule: RecognitionRule
    public var accountingCode: String
    public var amount: ExactAmount
    public var serviceStart: CalendarDate
    public var serviceEnd: CalendarDate
    public var lines: [RevenueScheduleLine]

    public var recognizedAmount: ExactAmount {
        lines.reduce(ExactAmount(units: 0, scale: amount.scale)) { $1.recognized ? $0 + $1.amount : $0 }
    }

    public var openAmount: ExactAmount { amount - recognizedAmount }

    /// The lines as compact JSON, as the store keeps them: `[["2025-01-01","2025-01-31","83.33",true],…]`
    /// (start, inclusive end, amount, recognized).
    public var linesJSON: String {
        var json = "["
        json.reserveCapacity(lines.count * 44)
        for (index, line) in lines.enumerated() {
            json += index == 0 ? "[\"" : ",[\""
            json += line.start.description
            json += "\",\""
            json += line.end.description
            json += "\",\""
            json += line.amount.description
            json += line.recognized ? "\",true]" : "\",false]"
        }
        return json + "]"
    }
}

/// A rate plan charge as a migration reads it: the billing fields revenue is generated from, as text.
public struct MigrationCharge: Sendable, Hashable {
    public var id: String
    public var bookingDate: String?
    public var accountingCode: String?
    public var recognitionRule: String?
    public var amount: String
    public var serviceStart: String?
    public var serviceEnd: String?

    public init(
        id: String, bookingDate: String?, accountingCode: String?, recognitionRule: String?, amount: String,
        serviceStart: String?, serviceEnd: String?
    ) {
        self.id = id
        self.bookingDate = bookingDate
        self.accountingCode = accountingCode
        self.recognitionRule = recognitionRule
        self.amount = amount
        self.serviceStart = serviceStart
        self.serviceEnd = serviceEnd
    }
}
