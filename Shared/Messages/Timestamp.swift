import Foundation

/// RFC 3339 times in UTC with milliseconds, as every envelope and status event carries them.
public enum Timestamp {
    /// "2026-11-22T10:00:00.123Z".
    public static func format(_ date: Date) -> String {
        date.formatted(withFraction)
    }

    /// An instant as the logs show it, in the CLI and the dashboard: UTC to the second, with a space,
    /// `2026-11-22 10:00:00`.
    public static func logText(_ date: Date) -> String {
        var text = Array(format(date).utf8.prefix(19))
        if text.count == 19 { text[10] = UInt8(ascii: " ") }
        return String(decoding: text, as: UTF8.self)
    }

    /// Accepts times with or without fractional seconds, with `Z` or an offset. An impossible time in
    /// jobstream's own shape (hour 24, February 30) is refused, where the general parser would roll it over.
    public static func parse(_ text: String) -> Date? {
        if hasCommonShape(text) { return utcMilliseconds(text) }
        return (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
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
                  hour < 24, minute < 60, second < 60 else { return nil }
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
              (1...Self.daysIn(month: month, year: year)).contains(day) else { return nil }
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
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not a date written YYYY-MM-DD")
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
