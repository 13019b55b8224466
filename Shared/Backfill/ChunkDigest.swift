import Crypto
import JobstreamMessages

/// A chunk's fingerprint: SHA-256 over its action, index and rows in one canonical form (each row's
/// number, then its columns in name order with their values). The validator records it in the
/// job's chunk plan before it sends the chunk; a processor applies a chunk only if its fingerprint is
/// the one planned, so a chunk published by anyone else — other rows under a real job's id — is
/// refused, not applied in place of the real one.
public enum ChunkDigest {
    public static func of(_ chunk: BackfillChunk) -> String {
        var hasher = SHA256()
        func add(_ text: String) {
            hasher.update(data: Array(text.utf8))
            hasher.update(data: [0])
        }
        add(chunk.action)
        add(String(chunk.chunkIndex))
        for row in chunk.rows {
            add(String(row.rowNumber))
            for (column, value) in row.fields.sorted(by: { $0.key < $1.key }) {
                add(column)
                add(value)
            }
            hasher.update(data: [1])
        }
        return hasher.finalize().map { byte in
            let hex = Array("0123456789abcdef".utf8)
            return String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }
}
