/// A money amount kept exactly: an integer count of units of 10^-scale, as written ("1200.50" is
/// 120050 at scale 2). Revenue is split in these units, so the parts of an amount always add up to it.
public struct ExactAmount: Sendable, Hashable, CustomStringConvertible {
    /// The amount in units of 10^-scale.
    public let units: Int128
    /// Digits after the decimal point, 0 to 6.
    public let scale: Int

    public init(units: Int128, scale: Int) {
        self.units = units
        self.scale = scale
    }

    /// The largest scale accepted, as the backfill's decimal columns accept.
    public static let maximumScale = 6
    /// The most digits accepted before the point.
    public static let maximumIntegerDigits = 15

    /// Parses `-1200.50`, `7`, `0.125`: an optional minus, 1 to 15 digits, optionally a point and
    /// 1 to 6 digits. Nil for anything else (exponents, commas, spaces, `+`).
    public init?(_ text: String) {
        var units: Int128 = 0
        var negative = false
        var integerDigits = 0
        var fractionDigits = 0
        var sawPoint = false
        for (position, byte) in text.utf8.enumerated() {
            switch byte {
            case UInt8(ascii: "-") where position == 0:
                negative = true
            case UInt8(ascii: "."):
                guard !sawPoint, integerDigits > 0 else { return nil }
                sawPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if sawPoint { fractionDigits += 1 } else { integerDigits += 1 }
                guard integerDigits <= Self.maximumIntegerDigits, fractionDigits <= Self.maximumScale else { return nil }
                units = units * 10 + Int128(byte - UInt8(ascii: "0"))
            default:
                return nil
            }
        }
        guard integerDigits > 0, !sawPoint || fractionDigits > 0 else { return nil }
        self.init(units: negative ? -units : units, scale: fractionDigits)
    }

    /// Written with exactly `scale` digits after the point: "1200.50", "-0.05", "7".
    public var description: String {
        let digits = String(units.magnitude)
        let sign = units < 0 ? "-" : ""
        guard scale > 0 else { return sign + digits }
        let padded = digits.count > scale ? digits : String(repeating: "0", count: scale + 1 - digits.count) + digits
        return sign + padded.dropLast(scale) + "." + padded.suffix(scale)
    }

    /// This amount's share `part / whole` of itself, rounded towards zero, in the same units.
    func share(_ part: Int, of whole: Int) -> ExactAmount {
        ExactAmount(units: units * Int128(part) / Int128(whole), scale: scale)
    }

    public static func + (lhs: ExactAmount, rhs: ExactAmount) -> ExactAmount {
        ExactAmount(units: lhs.units + rhs.units, scale: lhs.scale)
    }

    public static func - (lhs: ExactAmount, rhs: ExactAmount) -> ExactAmount {
        ExactAmount(units: lhs.units - rhs.units, scale: lhs.scale)
    }
}
