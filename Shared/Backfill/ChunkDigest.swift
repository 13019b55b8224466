import Crypto
import JobstreamMessages

/// A chunk's fingerprint: SHA-256 over its action, index and rows in one canonical form (each row's
/// number, then its columns in name order with their values). The validator records it in the
/// job's chunk plan before it sends the chunk; a processor applies a chunk only if its fingerprint is
/// the one planned, so a chunk published by anyone else — other rows under a real job's id — is
/// refused, not applied in place of the real one.
public enum ChunkDigest {
    public static func of(_ chunk: BackfillChunk) -> String {
        // The canonical form is written into one buffer and hashed at once: hashing value by value
        // copied each value into an array of its own first.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chunk.rows.count * 64)
        func add(_ text: String) {
            bytes.append(contentsOf: text.utf8)
            bytes.append(0)
        }
        add(chunk.action)
        add(String(chunk.chunkIndex))
        // A validator's rows share their few columns (a row leaves out the ones it does not set), so
        // the names are put in order once rather than each row's sorted again; a chunk of many names
        // (not the validator's, to be refused) has each row's sorted, so its cost stays its size.
        var names = Set<String>()
        for row in chunk.rows { names.formUnion(row.fields.keys) }
        let columns = names.count <= 64 ? names.sorted() : nil
        for row in chunk.rows {
            add(String(row.rowNumber))
            if let columns {
                for column in columns {
                    guard let value = row.fields[column] else { continue }
                    add(column)
                    add(value)
                }
            } else {
                for (column, value) in row.fields.sorted(by: { $0.key < $1.key }) {
                    add(column)
                    add(value)
                }
            }
            bytes.append(1)
        }
        return SHA256.hash(data: bytes).map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }
}
