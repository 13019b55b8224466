import Foundation
import JobstreamFiles
import JobstreamMessages

/// Checks a file's header against an action, then each row's values.
///
/// A row's problems are all reported together ("Booking Date: …; Amount: …"); a row with a problem
/// is never applied.
public struct RowValidator: Sendable {
    public let action: BackfillAction
    /// The header as written in the file.
    public let header: [String]
    /// For each field position, the action column it holds (nil: informational).
    private let columnAt: [ActionColumn?]
    private let keyPosition: Int

    /// Fails with a ``FileProblem`` naming the column when the header does not fit the action.
    public init(action: BackfillAction, header: [String]) throws(FileProblem) {
        self.action = action
        self.header = header
        var columnAt: [ActionColumn?] = []
        var seen: [String: Int] = [:]
        for (position, name) in header.enumerated() {
            let normalized = name.trimmingSpaces.lowercased()
            let column = action.columns.first { $0.name.lowercased() == normalized }
            if let column {
                if let earlier = seen[column.name] {
                    throw FileProblem(
                        "the header has the column \"\(column.name)\" twice (columns \(earlier + 1) and \(position + 1))")
                }
                seen[column.name] = position
            }
            columnAt.append(column)
        }
        guard let key = action.keyColumn else {
            throw FileProblem("\(action.name) takes no file")
        }
        guard let keyPosition = seen[key.name] else {
            let shown = header.prefix(12).map { Quoted($0).description }.joined(separator: ", ")
            let found = header.isEmpty ? "none" : header.count > 12 ? "\(shown) and \(header.count - 12) more" : shown
            throw FileProblem(
                "the required column \"\(key.name)\" is missing from the header (found: \(found)); "
                    + "`jobstream backfill template \(action.name)` prints the expected columns")
        }
        guard action.updatableColumns.contains(where: { seen[$0.name] != nil }) else {
            throw FileProblem(
                "the header has none of the columns \(action.name) can set: "
                    + action.updatableColumns.map { "\"\($0.name)\"" }.joined(separator: ", "))
        }
        self.columnAt = columnAt
        self.keyPosition = keyPosition
    }

    /// The columns the header holds that a row can set, in the action's order.
    public var settableColumns: [ActionColumn] {
        action.updatableColumns.filter { column in columnAt.contains { $0 == column } }
    }

    /// The record's key, or nil when the row has none (it fails validation anyway).
    public func key(of fields: [String]) -> String? {
        guard keyPosition < fields.count else { return nil }
        let key = fields[keyPosition].trimmingSpaces
        return key.isEmpty ? nil : key
    }

    /// The row ready for a processor, or why it cannot be applied.
    public func validate(_ fields: [String], rowNumber: Int) -> Result<BackfillRow, RowProblem> {
        var values: [String: String] = Dictionary(minimumCapacity: columnAt.count)
        if let problem = walk(fields, keeping: { values[$0.name] = $1 }) { return .failure(problem) }
        return .success(BackfillRow(rowNumber: rowNumber, fields: values))
    }

    /// Why the row cannot be applied, or nil: ``validate(_:rowNumber:)`` without building the row, for
    /// the pass over a file that only counts and records what it refuses.
    public func problem(of fields: [String]) -> RowProblem? {
        walk(fields, keeping: { _, _ in })
    }

    /// Checks every field of a row, handing each value to set to `keep`; returns the row's problems.
    private func walk(_ fields: [String], keeping keep: (ActionColumn, String) -> Void) -> RowProblem? {
        guard fields.count == header.count else {
            return RowProblem("the row has \(fields.count) fields but the header has \(header.count)")
        }
        var problems: [String] = []
        var kept = 0
        for (position, raw) in fields.enumerated() {
            guard let column = columnAt[position] else { continue }
            let value = raw.trimmingSpaces
            if value.isEmpty {
                if column.isKey { problems.append("\(column.name) is required") }
                continue
            }
            if let problem = Self.check(value, as: column.type) {
                problems.append("\(column.name): \(problem)")
                continue
            }
            keep(column, value)
            kept += 1
        }
        if problems.isEmpty && kept == 1 {
            problems.append("nothing to set: every column \(action.name) can set is empty on this row")
        }
        return problems.isEmpty ? nil : RowProblem(problems.joined(separator: "; "))
    }

    /// Why `value` is not a valid `type`, or nil.
    static func check(_ value: String, as type: ColumnType) -> String? {
        switch type {
        case .text:
            if value.utf8.count > 255, value.count > 255 { return "longer than 255 characters" }
            let ascii = value.utf8.allSatisfy { $0 < 0x80 }
            let hasControl =
                ascii
                ? value.utf8.contains { $0 < 0x20 || $0 == 0x7F }
                : value.unicodeScalars.contains { $0.properties.generalCategory == .control }
            return hasControl ? "contains a control character" : nil
        case .date:
            return CalendarDate(value) == nil ? "\(Quoted(value)) is not a date written YYYY-MM-DD" : nil
        case .decimal:
            return isDecimal(value) ? nil : "\(Quoted(value)) is not a decimal number such as 1200.50"
        }
    }

    static func isDecimal(_ value: String) -> Bool {
        var digitsBefore = 0
        var digitsAfter = 0
        var seenPoint = false
        for (index, character) in value.utf8.enumerated() {
            switch character {
            case UInt8(ascii: "-") where index == 0: continue
            case UInt8(ascii: "."):
                if seenPoint { return false }
                seenPoint = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if seenPoint { digitsAfter += 1 } else { digitsBefore += 1 }
            default: return false
            }
        }
        return digitsBefore >= 1 && digitsBefore <= 15 && digitsAfter <= 6 && (!seenPoint || digitsAfter >= 1)
    }
}

/// Why one row cannot be applied.
public struct RowProblem: Error, Equatable, CustomStringConvertible {
    public let description: String
    /// The row is refused only because its key appears on other rows too.
    public let isDuplicateKey: Bool

    public init(_ description: String, isDuplicateKey: Bool = false) {
        self.description = description
        self.isDuplicateKey = isDuplicateKey
    }
}
