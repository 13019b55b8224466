import Foundation
import JobstreamMessages

/// A backfill's failure brake: how many failed rows (or what share of the rows with an outcome) the
/// job may have before it stops applying and goes Paused for a person to decide. Written `512` (rows)
/// or `2.5%` (percent of the rows with an outcome so far, checked from the first chunk on).
public struct FailureBrake: Sendable, Hashable, CustomStringConvertible {
    public enum Limit: Sendable, Hashable {
        case rows(Int)
        case percent(Double)
    }

    public let limit: Limit

    public init(_ limit: Limit) {
        self.limit = limit
    }

    /// Reads `512` or `2.5%`; nil with why for anything else.
    public static func parse(_ text: String) -> Result<FailureBrake, BrakeProblem> {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasSuffix("%") {
            guard let percent = Double(trimmed.dropLast()), percent.isFinite, percent >= 0, percent < 100,
                trimmed.dropLast().allSatisfy({ $0.isNumber || $0 == "." })
            else {
                return .failure(BrakeProblem(text: text))
            }
            return .success(FailureBrake(.percent(percent)))
        }
        guard trimmed.count <= 12, let rows = Int(trimmed), rows >= 0 else { return .failure(BrakeProblem(text: text)) }
        return .success(FailureBrake(.rows(rows)))
    }

    /// Whether `failed` of the first `rows` rows with an outcome is more than the brake allows.
    public func isExceeded(failed: Int, of rows: Int) -> Bool {
        switch limit {
        case .rows(let most): failed > most
        case .percent(let percent): rows > 0 && Double(failed) * 100 > percent * Double(rows)
        }
    }

    /// Why the job stopped, for the log: "stopped for a person to decide: too many rows failed — 512 of
    /// the first 2,000 (the limit is 500)".
    public func reason(failed: Int, of rows: Int) -> String {
        "stopped for a person to decide: too many rows failed — \(Self.grouped(failed)) of the first \(Self.grouped(rows)) (the limit is \(self))"
    }

    /// As written: `500` or `2.5%`.
    public var description: String {
        switch limit {
        case .rows(let rows): String(rows)
        case .percent(let percent):
            (percent == percent.rounded() ? String(Int(percent)) : String(percent)) + "%"
        }
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value)
        var text = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { text += "," }
            text.append(digit)
        }
        return text
    }
}

/// A failure brake that does not read as rows or a percentage.
public struct BrakeProblem: Error, CustomStringConvertible {
    public let text: String

    public var description: String {
        "\(Quoted(text)) is not a failure limit: give a number of rows (500) or a percentage below 100 (2.5%)"
    }
}
