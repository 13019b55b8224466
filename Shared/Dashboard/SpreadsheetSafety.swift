/// Defuses CSV cells that a spreadsheet would run as a formula (CSV injection): a cell starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, which spreadsheets show as text.
///
/// A plain number such as `-12.50` or `+3` is left alone: spreadsheets read it as a number, never as
/// a formula, and an Amount column of a backfill file must stay a number.
public enum SpreadsheetSafety {
    public static func defuse(_ cell: String) -> String {
        guard let first = cell.utf8.first, triggers.contains(first) else { return cell }
        if isPlainNumber(cell) { return cell }
        return "'" + cell
    }

    public static func defuse(_ cells: [String]) -> [String] {
        cells.map(defuse)
    }

    private static let triggers: Set<UInt8> = [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13]

    /// An optional sign, digits, and an optional fraction: `-12.50`, `+3`, `-0.5`.
    static func isPlainNumber(_ cell: String) -> Bool {
        var bytes = Substring(cell).utf8[...]
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let whole = bytes.prefix(while: isDigit)
        guard !whole.isEmpty else { return false }
        bytes = bytes.dropFirst(whole.count)
        if bytes.isEmpty { return true }
        guard bytes.first == UInt8(ascii: ".") else { return false }
        let fraction = bytes.dropFirst()
        return !fraction.isEmpty && fraction.allSatisfy(isDigit)
    }
}
