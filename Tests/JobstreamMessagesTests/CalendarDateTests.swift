import JobstreamMessages
import Testing

@Suite("Calendar dates")
struct CalendarDateTests {
    @Test("YYYY-MM-DD parses and prints back", arguments: ["2026-01-01", "2024-02-29", "0001-12-31", "9999-12-31"])
    func valid(text: String) throws {
        #expect(try #require(CalendarDate(text)).description == text)
    }

    @Test(
        "anything else is refused",
        arguments: [
            "2026-1-01", "2026/01/01", "01-01-2026", "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10",
            "2026-01-00", "", "2026-01-01T00:00:00Z", " 2026-01-01", "２０２６-01-01", "+026-01-01",
        ])
    func invalid(text: String) {
        #expect(CalendarDate(text) == nil)
    }

    @Test("dates order by calendar")
    func ordering() {
        #expect(CalendarDate("2025-12-31")! < CalendarDate("2026-01-01")!)
        #expect(CalendarDate("2026-02-01")! > CalendarDate("2026-01-31")!)
    }
}
