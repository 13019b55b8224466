import JobstreamMessages
import Testing

@testable import JobstreamMigration

@Suite("Exact amounts and calendar days")
struct AmountAndDayTests {
    @Test("amounts parse exactly and print with their own scale")
    func amounts() throws {
        for text in ["0", "7", "1200.50", "-0.05", "0.125", "999999999999999.999999", "-12.000001"] {
            #expect(try #require(ExactAmount(text)).description == text)
        }
        #expect(ExactAmount("1200.50") == ExactAmount(units: 120_050, scale: 2))
        for bad in ["", "-", ".5", "5.", "1,5", "1e3", "+1", " 1", "1.1234567", "1234567890123456", "1.2.3", "12a", "--1"] {
            #expect(ExactAmount(bad) == nil, "\"\(bad)\" should not parse")
        }
    }

    @Test("days since 1970 and back, across leap years and centuries")
    func days() throws {
        #expect(CalendarDate("1970-01-01")!.daysSinceEpoch == 0)
        #expect(CalendarDate("2000-03-01")!.daysSinceEpoch == 11_017)
        #expect(CalendarDate("1969-12-31")!.daysSinceEpoch == -1)
        for day in stride(from: -719_000, through: 2_900_000, by: 997) {
            let date = try #require(CalendarDate(daysSinceEpoch: day))
            #expect(date.daysSinceEpoch == day)
            #expect(CalendarDate(date.description) == date)
        }
        #expect(CalendarDate("2024-02-10")!.endOfMonth.description == "2024-02-29")
        #expect(CalendarDate("2100-02-10")!.endOfMonth.description == "2100-02-28")
        #expect(CalendarDate("2025-12-31")!.adding(days: 1)?.description == "2026-01-01")
        #expect(CalendarDate(daysSinceEpoch: 3_000_000) == nil, "beyond year 9999")
    }
}

@Suite("Revenue schedules as of a cutover date")
struct RevenueScheduleTests {
    let builder = RevenueScheduleBuilder(cutover: CalendarDate("2025-01-01")!)

    func charge(
        _ rule: String? = RecognitionRule.dailyOverTime.rawValue, amount: String = "1200.00", start: String? = "2024-07-01",
        end: String? = "2025-06-30", booking: String? = "2024-06-15", code: String? = "4000-Subscription"
    ) -> MigrationCharge {
        MigrationCharge(
            id: "RPC-1", bookingDate: booking, accountingCode: code, recognitionRule: rule, amount: amount,
            serviceStart: start, serviceEnd: end)
    }

    func schedule(_ charge: MigrationCharge) throws -> RevenueSchedule {
        guard case .schedule(let schedule) = builder.build(charge) else {
            Issue.record("expected a schedule for \(charge), got \(builder.build(charge))")
            throw CancellationError()
        }
        return schedule
    }

    func warning(_ charge: MigrationCharge) -> String? {
        if case .warning(let warning) = builder.build(charge) { return warning.reason }
        return nil
    }

    @Test("ratable: one line per month, the months before the cutover recognized, the lines adding up exactly")
    func ratableAcrossCutover() throws {
        let schedule = try schedule(charge())
        #expect(schedule.lines.count == 12)
        #expect(schedule.lines.first?.start.description == "2024-07-01" && schedule.lines.first?.end.description == "2024-07-31")
        #expect(schedule.lines.last?.end.description == "2025-06-30")
        #expect(schedule.lines.map(\.recognized) == Array(repeating: true, count: 6) + Array(repeating: false, count: 6))
        #expect(schedule.lines.reduce(Int128(0)) { $0 + $1.amount.units } == 120_000)
        // 184 of 365 days fall before 2025-01-01.
        #expect(schedule.recognizedAmount.description == "604.93")
        #expect(schedule.openAmount.description == "595.07")
        #expect(schedule.lines[0].amount.description == "101.91", "31 of 365 days, rounded down")
    }

    @Test("a month holding the cutover date is split at it")
    func splitAtCutover() throws {
        let builder = RevenueScheduleBuilder(cutover: CalendarDate("2025-01-16")!)
        guard case .schedule(let schedule) = builder.build(charge(amount: "31.00", start: "2025-01-01", end: "2025-01-31")) else {
            Issue.record("expected a schedule")
            return
        }
        #expect(
            schedule.lines.map { "\($0.start)..\($0.end) \($0.amount) \($0.recognized)" } == [
                "2025-01-01..2025-01-15 15.00 true", "2025-01-16..2025-01-31 16.00 false",
            ])
        #expect(schedule.linesJSON == #"[["2025-01-01","2025-01-15","15.00",true],["2025-01-16","2025-01-31","16.00",false]]"#)
    }

    @Test("shares add up for awkward amounts: negative, more decimals, one day, a leap February")
    func awkwardAmounts() throws {
        for (amount, start, end) in [
            ("-100.00", "2024-01-15", "2024-03-14"), ("0.01", "2024-01-01", "2024-12-31"),
            ("1000000.123456", "2024-02-01", "2024-02-29"), ("5", "2025-01-01", "2025-01-01"),
            ("999999999999999.999999", "2020-01-01", "2029-12-31"),
        ] {
            let schedule = try schedule(charge(amount: amount, start: start, end: end))
            let total = schedule.lines.reduce(Int128(0)) { $0 + $1.amount.units }
            #expect(total == ExactAmount(amount)!.units, "\(amount) over \(start)..\(end)")
            #expect(schedule.lines.allSatisfy { $0.amount.scale == ExactAmount(amount)!.scale })
        }
        #expect(try schedule(charge(amount: "5", start: "2025-01-01", end: "2025-01-01")).lines.count == 1)
    }

    @Test("point-in-time rules: all on the booking date, or all on the service start")
    func pointInTime() throws {
        let invoicing = try schedule(charge(RecognitionRule.uponInvoicing.rawValue, booking: "2024-12-31"))
        #expect(invoicing.lines.map { "\($0.start) \($0.amount) \($0.recognized)" } == ["2024-12-31 1200.00 true"])
        let event = try schedule(charge(RecognitionRule.atEvent.rawValue, start: "2025-01-01", end: "2025-02-01"))
        #expect(event.lines.map { "\($0.start) \($0.amount) \($0.recognized)" } == ["2025-01-01 1200.00 false"])
        #expect(event.openAmount.description == "1200.00" && event.recognizedAmount.description == "0.00")
    }

    @Test("a charge that cannot be migrated becomes a warning naming every problem")
    func warnings() {
        #expect(warning(charge(booking: nil)) == "no booking date")
        #expect(warning(charge(booking: "2024-13-01")) == "booking date \"2024-13-01\" is not a date written YYYY-MM-DD")
        #expect(warning(charge(code: " ")) == "no accounting code")
        #expect(warning(charge(nil)) == "no revenue recognition rule")
        #expect(warning(charge("Recognize sometimes")) == "unknown revenue recognition rule \"Recognize sometimes\"")
        #expect(warning(charge(start: nil)) == "no service start date")
        #expect(warning(charge(end: "")) == "no service end date")
        #expect(
            warning(charge(start: "2025-02-01", end: "2025-01-31"))
                == "service end date 2025-01-31 is before its start date 2025-02-01")
        #expect(warning(charge(amount: "12,50")) == "amount \"12,50\" is not a decimal number")
        #expect(
            warning(charge(amount: "x", booking: nil, code: nil))
                == "no booking date; no accounting code; amount \"x\" is not a decimal number")
    }
}
