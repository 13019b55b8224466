import Foundation

/// Writes an envelope in the very bytes `JSONEncoder` writes for it (``MessageCodec``'s encoder: keys
/// sorted, slashes not escaped, no whitespace), without `JSONEncoder`, for backfill chunks: the
/// validator sends one per thousand rows, and encoding them took a quarter of its time.
///
/// It writes only strings that need no escape. At a quote, a backslash or a control character it
/// gives up (nil) and ``MessageCodec/encode(_:)`` has `JSONEncoder` write the message, so the bytes
/// on the wire are the same either way.
enum PlainEnvelopeWriter {
    /// `envelope` as `JSONEncoder` writes it, or nil where a string needs an escape.
    static func chunk(_ envelope: Envelope<BackfillChunk>) -> [UInt8]? {
        let chunk = envelope.payload
        let columns = chunk.wireColumns
        var json = PlainJSONBytes(reserving: 160 + chunk.rows.count * (8 + columns.count * 24))
        json.append(#"{"jobId":"#)
        guard json.string(envelope.jobId) else { return nil }
        json.append(#","payload":{"action":"#)
        guard json.string(chunk.action) else { return nil }
        json.append(#","chunkIndex":"#)
        json.integer(chunk.chunkIndex)
        json.append(#","columns":["#)
        for (position, column) in columns.enumerated() {
            if position > 0 { json.append(",") }
            guard json.string(column) else { return nil }
        }
        json.append(#"],"rows":["#)
        for (position, row) in chunk.rows.enumerated() {
            json.append(position == 0 ? "[" : ",[")
            json.integer(row.rowNumber)
            for column in columns {
                json.append(",")
                if let value = row.fields[column] {
                    guard json.string(value) else { return nil }
                } else {
                    json.append("null")
                }
            }
            json.append("]")
        }
        json.append(#"]},"time":"#)
        guard json.string(Timestamp.format(envelope.time)) else { return nil }
        json.append(#","type":"#)
        guard json.string(BackfillChunk.messageType.rawValue) else { return nil }
        json.append(#","version":"#)
        guard json.string(envelope.version.description) else { return nil }
        json.append("}")
        return json.bytes
    }
}

/// JSON text being written as UTF-8 bytes: plain strings, integers and literal punctuation.
struct PlainJSONBytes {
    private(set) var bytes: [UInt8] = []

    init(reserving capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends text as it stands (punctuation, keys, `null`).
    mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` quoted, as `JSONEncoder` writes a string needing no escape; false (and nothing
    /// appended) when it needs one: a quote, a backslash or a control character.
    mutating func string(_ value: String) -> Bool {
        guard !value.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            return false
        }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: value.utf8)
        bytes.append(UInt8(ascii: "\""))
        return true
    }

    /// Appends `value` in decimal, as `JSONEncoder` writes an integer.
    mutating func integer(_ value: Int) {
        bytes.append(contentsOf: String(value).utf8)
    }
}
