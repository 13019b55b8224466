import Foundation
import JobstreamMessages
import Testing

@Suite("Times written as text")
struct TimestampTextTests {
    @Test("any instant of 1970–9999 is written as Foundation's UTC calendar reads it, and reads back")
    func againstTheCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        var random = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let milliseconds = Int.random(in: 0..<253_402_300_800_000, using: &random)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(
                format: "%04d-%02d-%02d %02d:%02d:%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!,
                parts.second!)
            #expect(Timestamp.logText(date) == expected)
            let text = Timestamp.format(date)
            #expect(text == expected.replacingOccurrences(of: " ", with: "T") + String(format: ".%03dZ", milliseconds % 1000))
            #expect(Timestamp.parse(text)?.epochMilliseconds == milliseconds)
        }
        #expect(Timestamp.logText(Date(timeIntervalSince1970: 1_795_000_000.080)) == "2026-11-18 11:06:40")
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_000_000.080)) == "2026-11-18T11:06:40.080Z")
    }
}
