import Foundation

/// RFC 3339 times in UTC with milliseconds, as every envelope and status event carries them.
public enum Timestamp {
    /// "2026-11-22T10:00:00.123Z": the instant rounded to the millisecond, written from its own
    /// digits (Foundation's formatter truncates a fraction such as .080, stored as .07999…, to .079,
    /// so a time did not read back as written; found by the envelope fuzzer). Instants outside years
    /// 1970 to 9999 go through Foundation's formatter.
    public static func format(_ date: Date) -> String {
        write(date, dateTimeSeparator: UInt8(ascii: "T"), withMilliseconds: true) ?? date.formatted(withFraction)
    }

    /// An instant as the logs show it, in the CLI and the dashboard: UTC to the second, with a space,
    /// `2026-11-22 10:00:00`.
    public static func logText(_ date: Date) -> String {
        if let text = write(date, dateTimeSeparator: UInt8(ascii: " "), withMilliseconds: false) { return text }
        var text = Array(format(date).utf8.prefix(19))
        if text.count == 19 { text[10] = UInt8(ascii: " ") }
        return String(decoding: text, as: UTF8.self)
    }

    /// `2026-11-22T10:00:00.000Z` (or `2026-11-22 10:00:00`) written digit by digit; nil outside the
    /// years 1970–9999. A page of 500 sessions writes a thousand times: string interpolation and
    /// padding took a sixth of the page's time.
    private static func write(_ date: Date, dateTimeSeparator: UInt8, withMilliseconds: Bool) -> String? {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded())
        guard milliseconds >= 0, milliseconds < 253_402_300_800_000,
            let day = CalendarDate(daysSinceEpoch: milliseconds / 86_400_000)
        else { return nil }
        let ofDay = milliseconds % 86_400_000
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(day.year, 4)
        text.append(UInt8(ascii: "-"))
        digits(day.month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day.day, 2)
        text.append(dateTimeSeparator)
        digits(ofDay / 3_600_000, 2)
        text.append(UInt8(ascii: ":"))
        digits(ofDay / 60_000 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(ofDay / 1000 % 60, 2)
        if withMilliseconds {
            text.append(UInt8(ascii: "."))
            digits(ofDay % 1000, 3)
            text.append(UInt8(ascii: "Z"))
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Accepts times with or without fractional seconds, with `Z` or an offset. An impossible time in
    /// jobstream's own shape (hour 24, February 30) is refused, where the general parser would roll it over.
    /// So is a time before 1970 or after 9999: before 1582 the general formatter writes Julian dates,
    /// so such a time would not read back as the same instant (found by the envelope fuzzer).
    /// Any other shape must follow RFC 3339 exactly (the general parser alone takes some junk), and
    /// the instant is kept to the millisecond, as it is written.
    public static func parse(_ text: String) -> Date? {
        let parsed =
            hasCommonShape(text)
            ? utcMilliseconds(text)
            : isRFC3339(text) ? (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) : nil
        guard let parsed, parsed.timeIntervalSince1970 >= 0, parsed.timeIntervalSince1970 < 253_402_300_800 else { return nil }
        return Date(timeIntervalSince1970: (parsed.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    /// `YYYY-MM-DDTHH:MM:SS`, optional fraction of 1 to 9 digits, then `Z` or `±HH:MM`.
    static func isRFC3339(_ text: String) -> Bool {
        let bytes = Array(text.utf8.prefix(40))
        func digits(_ range: Range<Int>) -> Bool {
            range.upperBound <= bytes.count && bytes[range].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        }
        func byte(_ index: Int, _ ascii: Unicode.Scalar) -> Bool { index < bytes.count && bytes[index] == UInt8(ascii: ascii) }
        guard text.utf8.count <= 40, digits(0..<4), byte(4, "-"), digits(5..<7), byte(7, "-"), digits(8..<10),
            byte(10, "T") || byte(10, "t"), digits(11..<13), byte(13, ":"), digits(14..<16), byte(16, ":"),
            digits(17..<19)
        else { return false }
        var index = 19
        if byte(index, ".") {
            let start = index + 1
            index = start
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            guard (1...9).contains(index - start) else { return false }
        }
        if (byte(index, "Z") || byte(index, "z")) && index + 1 == bytes.count { return true }
        return (byte(index, "+") || byte(index, "-")) && digits((index + 1)..<(index + 3)) && byte(index + 3, ":")
            && digits((index + 4)..<(index + 6)) && index + 6 == bytes.count
    }

    private static func hasCommonShape(_ text: String) -> Bool {
        let bytes = Array(text.utf8.prefix(25))
        return bytes.count == 24 && bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-")
            && bytes[10] == UInt8(ascii: "T") && bytes[19] == UInt8(ascii: ".") && bytes[23] == UInt8(ascii: "Z")
    }

    /// The common shape every jobstream writer uses, `YYYY-MM-DDTHH:MM:SS.mmmZ`, read directly: the
    /// general parser cost more than the rest of decoding a small message. Nil for any other shape.
    static func utcMilliseconds(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { bytes -> Date? in
            guard bytes.count == 24, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
                bytes[16] == UInt8(ascii: ":"), bytes[19] == UInt8(ascii: "."), bytes[23] == UInt8(ascii: "Z"),
                let date = CalendarDate(isoBytes: UnsafeBufferPointer(rebasing: bytes[0..<10])),
                let hour = decimal(bytes, 11..<13), let minute = decimal(bytes, 14..<16),
                let second = decimal(bytes, 17..<19), let millisecond = decimal(bytes, 20..<23),
                hour < 24, minute < 60, second < 60
            else { return nil }
            let seconds = ((date.daysSinceEpoch * 24 + hour) * 60 + minute) * 60 + second
            return Date(timeIntervalSince1970: Double(seconds * 1000 + millisecond) / 1000)
        }
    }

    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}

/// A calendar date written `YYYY-MM-DD`, such as a migration's cutover date or a booking date.
public struct CalendarDate: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// A valid date; nil for impossible ones such as 2026-02-30.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Parses exactly `YYYY-MM-DD`; nil for any other form or an impossible date.
    public init?(_ text: String) {
        var text = text
        guard let date = text.withUTF8({ CalendarDate(isoBytes: $0) }) else { return nil }
        self = date
    }

    /// Reads exactly `YYYY-MM-DD` from UTF-8 bytes; nil for any other form or an impossible date.
    init?(isoBytes bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = decimal(bytes, 0..<4), let month = decimal(bytes, 5..<7), let day = decimal(bytes, 8..<10)
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\"\(text)\" is not a date written YYYY-MM-DD")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The number written in `bytes[range]`; nil unless every byte there is an ASCII digit.
private func decimal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
    var value = 0
    for byte in bytes[range] {
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value
}
