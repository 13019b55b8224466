/// Finds keys that appear on more than one row of a file, in memory that does not grow with the file.
///
/// The first pass adds every key to a Bloom filter (at most 32 MB) and remembers only the keys the
/// filter has probably seen before: true duplicates and a few false alarms. The second pass counts
/// exactly the occurrences of those candidates. Every row of a duplicated key is refused, since
/// which of them the user meant cannot be known.
public struct DuplicateKeyFinder: Sendable {
    private var bits: [UInt64]
    private let mask: Int
    private var candidates: Set<String> = []
    private var occurrences: [String: (count: Int, rows: [Int])] = [:]

    /// - Parameter expectedKeys: roughly how many keys the file has, to size the filter.
    public init(expectedKeys: Int) {
        var bitCount = 1 << 16
        while bitCount < expectedKeys * 16 && bitCount < 1 << 28 { bitCount <<= 1 }
        bits = Array(repeating: 0, count: bitCount / 64)
        mask = bitCount - 1
    }

    /// First pass: sees one key.
    public mutating func add(_ key: String) {
        let (first, second) = Self.hashes(key)
        var seenBefore = true
        for probe in 0..<4 {
            let bit = (first &+ probe &* second) & mask
            let word = bit >> 6, flag = UInt64(1) << UInt64(bit & 63)
            if bits[word] & flag == 0 {
                seenBefore = false
                bits[word] |= flag
            }
        }
        if seenBefore { candidates.insert(key) }
    }

    /// Whether the first pass found any possible duplicate; if not, the second pass can be skipped.
    public var hasCandidates: Bool { !candidates.isEmpty }

    /// Second pass: counts one occurrence of a key on `row`.
    public mutating func count(_ key: String, row: Int) {
        guard candidates.contains(key) else { return }
        var entry = occurrences[key] ?? (0, [])
        entry.count += 1
        if entry.rows.count < 5 { entry.rows.append(row) }
        occurrences[key] = entry
    }

    /// After the second pass: why a row with `key` is refused, or nil if the key is unique.
    public func duplicateProblem(for key: String, columnName: String) -> String? {
        guard let entry = occurrences[key], entry.count > 1 else { return nil }
        let rows = entry.rows.map(String.init).joined(separator: ", ") + (entry.count > entry.rows.count ? ", …" : "")
        return "\(columnName) \(key) appears on \(entry.count) rows of the file (rows \(rows)); each record may appear once"
    }

    private static func hashes(_ key: String) -> (Int, Int) {
        // FNV-1a, 64 bits, split into two halves for double hashing: stable and cheap.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return (Int(truncatingIfNeeded: hash & 0xFFFF_FFFF), Int(truncatingIfNeeded: (hash >> 32) | 1))
    }
}
