/// Reads a backfill chunk's payload in the plain shape (``PlainEnvelopeReader``): the message a
/// processor takes a thousand rows at a time, where `JSONDecoder` took a fifth of its time.
enum BackfillChunkReader {
    /// The envelope of a chunk, or nil (``PlainEnvelopeReader/envelope(_:of:payload:)``).
    static func envelope(_ bytes: ArraySlice<UInt8>) -> AnyEnvelope? {
        PlainEnvelopeReader.envelope(bytes, of: BackfillChunk.self, payload: payload)
    }

    /// The payload object, or nil where a key is unknown, repeated or missing, or a value is not as
    /// ``BackfillChunk``'s `Decodable` conformance takes it. The rows are read once the columns are
    /// known, so `columns` must come before `rows` (as the encoder's sorted keys put it); a column
    /// named twice is left to `JSONDecoder` too.
    static func payload(_ scanner: inout FlatJSONScanner) -> BackfillChunk? {
        var action: String?
        var chunkIndex: Int?
        var columns: [String]?
        var rows: [BackfillRow]?
        let read = scanner.object(keyedBy: PayloadKey.self) { key, scanner in
            switch key {
            case .action where action == nil:
                action = scanner.string()
                return action != nil
            case .chunkIndex where chunkIndex == nil:
                chunkIndex = scanner.integer()
                return chunkIndex != nil
            case .columns where columns == nil:
                columns = Self.columns(&scanner)
                return columns != nil
            case .rows where rows == nil:
                guard let columns else { return false }
                rows = Self.rows(&scanner, columns: columns)
                return rows != nil
            default:
                return false
            }
        }
        guard read, let action, let chunkIndex, columns != nil, let rows else { return nil }
        return BackfillChunk(chunkIndex: chunkIndex, action: action, rows: rows)
    }

    /// The column names, none twice.
    private static func columns(_ scanner: inout FlatJSONScanner) -> [String]? {
        var columns: [String] = []
        let read = scanner.array { scanner in
            guard let column = scanner.string() else { return false }
            columns.append(column)
            return true
        }
        guard read, Set(columns).count == columns.count else { return nil }
        return columns
    }

    /// The rows: each a row number, then one string or null per column, no more and no fewer.
    private static func rows(_ scanner: inout FlatJSONScanner, columns: [String]) -> [BackfillRow]? {
        var rows: [BackfillRow] = []
        let read = scanner.array { scanner in
            var fields: [String: String] = Dictionary(minimumCapacity: columns.count)
            var rowNumber: Int?
            var position = 0
            let read = scanner.array { scanner in
                defer { position += 1 }
                if position == 0 {
                    rowNumber = scanner.integer()
                    return rowNumber != nil
                }
                guard position <= columns.count else { return false }
                if scanner.null() { return true }
                guard let value = scanner.string() else { return false }
                fields[columns[position - 1]] = value
                return true
            }
            guard read, let rowNumber, position == columns.count + 1 else { return false }
            rows.append(BackfillRow(rowNumber: rowNumber, fields: fields))
            return true
        }
        return read ? rows : nil
    }

    /// The payload's keys.
    enum PayloadKey: String {
        case action, chunkIndex, columns, rows
    }
}
