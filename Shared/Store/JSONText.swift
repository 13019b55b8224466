import SQLKit

/// Writes JSON string literals quickly, for rows bound as one JSON parameter.
public enum JSONText {
    /// Appends `value` as a quoted JSON string, escaping quotes, backslashes and control characters.
    public static func append(_ value: String, to json: inout String) {
        json += "\""
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            json += value
        } else {
            for scalar in value.unicodeScalars {
                switch scalar {
                case "\"": json += "\\\""
                case "\\": json += "\\\\"
                case "\n": json += "\\n"
                case "\r": json += "\\r"
                case "\t": json += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: json.unicodeScalars.append(scalar)
                }
            }
        }
        json += "\""
    }
}

/// Rows bound as one JSON array parameter (`[[…], […]]`) and unpacked by the database: one statement
/// per batch whatever its size, where binding each value cost more than the work itself.
public enum JSONRows {
    /// A row source yielding each element of the array as `e`, to read with `e ->> 0`, `e -> 1`…
    public static func source(_ json: String, flavor: SQLFlavor) -> SQLQueryString {
        switch flavor {
        case .sqlite: "(SELECT value AS e FROM json_each(\(bind: json)))"
        case .postgres: "json_array_elements(CAST(\(bind: json) AS json)) AS e"
        }
    }

    /// A subquery of the strings `values`, bound as one parameter, for `column IN …`.
    public static func list(_ values: [String], flavor: SQLFlavor) -> SQLQueryString {
        var rows = JSONRowsBuilder(reservingBytes: values.count * 24)
        for value in values {
            rows.startRow()
            rows.add(value)
        }
        return "(SELECT e ->> 0 FROM \(source(rows.text, flavor: flavor)))"
    }
}

/// Builds the JSON array of rows that ``JSONRows`` unpacks: `[[value, …], …]`.
public struct JSONRowsBuilder: Sendable {
    public private(set) var json = "["
    public private(set) var rowCount = 0
    private var rowIsEmpty = true

    public init(reservingBytes: Int = 0) {
        json.reserveCapacity(reservingBytes)
    }

    /// Starts the next row; the values added until the next call belong to it.
    public mutating func startRow() {
        if rowCount > 0 { json += "]," }
        json += "["
        rowCount += 1
        rowIsEmpty = true
    }

    public mutating func add(_ value: String?) {
        separate()
        if let value { JSONText.append(value, to: &json) } else { json += "null" }
    }

    public mutating func add(_ value: Int?) {
        separate()
        json += value.map(String.init) ?? "null"
    }

    public mutating func add(_ value: Int64?) {
        add(value.map(Int.init))
    }

    public mutating func add(_ value: Bool) {
        add(value ? 1 : 0)
    }

    /// The finished array.
    public var text: String {
        rowCount == 0 ? "[]" : json + "]]"
    }

    private mutating func separate() {
        if !rowIsEmpty { json += "," }
        rowIsEmpty = false
    }
}
