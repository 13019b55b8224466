import Foundation

extension Date {
    /// Milliseconds since 1970, the unit of every instant in the store and in messages.
    public var epochMilliseconds: Int {
        Int((timeIntervalSince1970 * 1000).rounded())
    }

    /// The instant `milliseconds` after 1970.
    public init(epochMilliseconds milliseconds: Int) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
