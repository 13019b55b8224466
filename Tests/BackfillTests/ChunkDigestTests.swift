import Crypto
import Foundation
import JobstreamMessages
import JobstreamStore
import Testing

@testable import JobstreamBackfill

/// A chunk's fingerprint is computed by the validator of one release and checked by the processors
/// of maybe another (a rolling upgrade), so its canonical form must not change with how it is computed.
@Suite("Chunk fingerprints")
struct ChunkDigestTests {
    /// The canonical form as ``ChunkDigest`` documents it, hashed value by value: the action, the index,
    /// then each row's number and its columns in name order with their values, each followed by a 0
    /// byte, and a 1 byte after each row.
    static func reference(_ chunk: BackfillChunk) -> String {
        var hasher = SHA256()
        func add(_ text: String) {
            hasher.update(data: Array(text.utf8) + [0])
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
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    @Test("a known chunk has the fingerprint its canonical form gives (worked out apart, in Python's hashlib)")
    func knownChunk() {
        let chunk = BackfillChunk(
            chunkIndex: 3, action: "update-rate-plan-charge",
            rows: [
                BackfillRow(rowNumber: 5, fields: ["Charge Id": "RPC-00000005", "Booking Date": "2025-01-15"]),
                BackfillRow(rowNumber: 6, fields: ["Charge Id": "RPC-00000006", "Accounting Code": "ACC-2"]),
                BackfillRow(
                    rowNumber: 9,
                    fields: ["Charge Id": "RPC-00000009", "Booking Date": "2025-02-01", "Accounting Code": "Nöte – ü"]),
            ])
        #expect(ChunkDigest.of(chunk) == "1d95de750ecf21388fb5c03edadca52edf0a4b92afc0c079f69744a1abd84f66")
        #expect(Self.reference(chunk) == ChunkDigest.of(chunk))
    }

    @Test("random chunks: rows that set different columns, empty rows, empty chunks, non-ASCII names")
    func randomChunks() {
        var random = SplitMix64(seed: 19)
        let names = ["Charge Id", "Booking Date", "Accounting Code", "Nöte", "Amount", "ä", "Z"]
        let values = ["RPC-00000001", "2025-01-15", "", "ümlaut – dash", "12.50", "\u{0}"]
        for _ in 0..<500 {
            let rows = (0..<Int.random(in: 0...30, using: &random)).map { offset in
                var fields: [String: String] = [:]
                for name in names where Int.random(in: 0..<3, using: &random) == 0 {
                    fields[name] = values.randomElement(using: &random)!
                }
                return BackfillRow(rowNumber: offset + 1, fields: fields)
            }
            let chunk = BackfillChunk(
                chunkIndex: Int.random(in: 0...10_000, using: &random), action: "update-rate-plan-charge", rows: rows)
            #expect(ChunkDigest.of(chunk) == Self.reference(chunk))
        }
        let manyNames = (1...300).map {
            BackfillRow(rowNumber: $0, fields: ["Column \($0 % 150)": "x", "Charge Id": "RPC-\($0)"])
        }
        let chunk = BackfillChunk(chunkIndex: 1, action: "update-rate-plan-charge", rows: manyNames)
        #expect(ChunkDigest.of(chunk) == Self.reference(chunk), "a chunk of 151 column names")
    }

    @Test("a value moved to another column, or another row number, changes the fingerprint")
    func fingerprintsDiffer() {
        let row = BackfillRow(rowNumber: 1, fields: ["Charge Id": "RPC-1", "Booking Date": "2025-01-15"])
        let moved = BackfillRow(rowNumber: 1, fields: ["Charge Id": "RPC-1", "Accounting Code": "2025-01-15"])
        let renumbered = BackfillRow(rowNumber: 2, fields: row.fields)
        let digests = Set(
            [[row], [moved], [renumbered], [row, renumbered]].map {
                ChunkDigest.of(BackfillChunk(chunkIndex: 0, action: "update-rate-plan-charge", rows: $0))
            })
        #expect(digests.count == 4)
    }
}
