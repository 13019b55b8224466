import JobstreamMessages

/// Builds the revenue schedule of a charge as of a cutover date, or says why it cannot.
///
/// A charge cannot be migrated when it has no booking date, lacks a revenue field (accounting code,
/// recognition rule, service dates), has a service end before its start, or an amount that does not
/// parse; the warning names every problem of the charge at once.
public struct RevenueScheduleBuilder: Sendable {
    public let cutover: CalendarDate
    private let cutoverDay: Int

    /// A charge's schedule, or the warning saying why it has none.
    public enum Built: Sendable, Hashable {
        case schedule(RevenueSchedule)
        case warning(MigrationWarning)
    }

    public init(cutover: CalendarDate) {
        self.cutover = cutover
        self.cutoverDay = cutover.daysSinceEpoch
    }

    public func build(_ charge: MigrationCharge) -> Built {
        var problems: [String] = []
        let booking = date(charge.bookingDate, "booking date", &problems)
        let start = date(charge.serviceStart, "service start date", &problems)
        let end = date(charge.serviceEnd, "service end date", &problems)
        let accountingCode = charge.accountingCode?.trimmingSpaces ?? ""
        if accountingCode.isEmpty { problems.append("no accounting code") }
        let ruleName = charge.recognitionRule?.trimmingSpaces ?? ""
        let rule = RecognitionRule(rawValue: ruleName)
        if ruleName.isEmpty {
            problems.append("no revenue recognition rule")
        } else if rule == nil {
            problems.append("unknown revenue recognition rule \"\(ruleName)\"")
        }
        let amount = ExactAmount(charge.amount)
        if amount == nil { problems.append("amount \"\(charge.amount)\" is not a decimal number") }
        if let start, let end, end < start {
            problems.append("service end date \(end) is before its start date \(start)")
        }
        guard problems.isEmpty, let booking, let start, let end, let rule, let amount else {
            return .warning(MigrationWarning(chargeId: charge.id, reason: problems.joined(separator: "; ")))
        }
        let lines: [RevenueScheduleLine] =
            switch rule {
            case .dailyOverTime: ratableLines(amount, from: start, through: end)
            case .uponInvoicing: [pointLine(amount, on: booking)]
            case .atEvent: [pointLine(amount, on: start)]
            }
        return .schedule(
            RevenueSchedule(
                chargeId: charge.id, rule: rule, accountingCode: accountingCode, amount: amount,
                serviceStart: start, serviceEnd: end, lines: lines))
    }

    private func date(_ text: String?, _ name: String, _ problems: inout [String]) -> CalendarDate? {
        guard let text, !text.isEmpty else {
            problems.append("no \(name)")
            return nil
        }
        guard let date = CalendarDate(text) else {
            problems.append("\(name) \"\(text)\" is not a date written YYYY-MM-DD")
            return nil
        }
        return date
    }

    private func pointLine(_ amount: ExactAmount, on day: CalendarDate) -> RevenueScheduleLine {
        RevenueScheduleLine(start: day, end: day, amount: amount, recognized: day.daysSinceEpoch < cutoverDay)
    }

    /// One line per calendar month of the service period, and a month holding the cutover date split
    /// at it; each line gets the share of the amount its days have. Shares are cumulative
    /// (line i = share of days up to its end − share of days up to its start), so they add up exactly.
    private func ratableLines(_ amount: ExactAmount, from start: CalendarDate, through end: CalendarDate) -> [RevenueScheduleLine]
    {
        let firstDay = start.daysSinceEpoch
        let totalDays = end.daysSinceEpoch - firstDay + 1
        var lines: [RevenueScheduleLine] = []
        lines.reserveCapacity(totalDays / 28 + 2)
        var lineStart = start
        var daysBefore = 0
        var allocated = ExactAmount(units: 0, scale: amount.scale)
        while true {
            let lineStartDay = lineStart.daysSinceEpoch
            var lineEndDay = min(lineStart.endOfMonth.daysSinceEpoch, firstDay + totalDays - 1)
            if lineStartDay < cutoverDay, cutoverDay <= lineEndDay { lineEndDay = cutoverDay - 1 }
            daysBefore += lineEndDay - lineStartDay + 1
            let cumulative = amount.share(daysBefore, of: totalDays)
            let lineEnd = CalendarDate(daysSinceEpoch: lineEndDay)!
            lines.append(
                RevenueScheduleLine(
                    start: lineStart, end: lineEnd, amount: cumulative - allocated,
                    recognized: lineEndDay < cutoverDay))
            allocated = cumulative
            guard daysBefore < totalDays, let next = CalendarDate(daysSinceEpoch: lineEndDay + 1) else { break }
            lineStart = next
        }
        return lines
    }
}
