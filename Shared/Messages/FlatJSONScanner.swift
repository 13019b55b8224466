/// A cursor over JSON text that reads objects of known keys and plain values only; every read returns
/// nil (or false) at the first thing it does not read. The readers of the services' plain shape
/// (``PlainEnvelopeReader``) are built on it.
struct FlatJSONScanner {
    let bytes: ArraySlice<UInt8>
    private(set) var index: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    var isAtEnd: Bool { index == bytes.endIndex }

    /// An object whose keys are all `Key`s; `member` reads each value and says whether it could.
    mutating func object<Key: RawRepresentable<String>>(
        keyedBy: Key.Type, _ member: (Key, inout FlatJSONScanner) -> Bool
    ) -> Bool {
        members { key, scanner in
            guard let key = Key(rawValue: key) else { return false }
            return member(key, &scanner)
        }
    }

    private mutating func members(_ member: (String, inout FlatJSONScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// A string without escapes or control characters, of valid UTF-8.
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var ascii = true
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                // ASCII is valid UTF-8 as it stands; only other text needs the (slower) validation.
                return ascii
                    ? String(decoding: bytes[start..<index], as: UTF8.self)
                    : String(validating: bytes[start..<index], as: UTF8.self)
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            ascii = ascii && byte < 0x80
            index += 1
        }
        return nil
    }

    /// An integer as JSON writes one (no leading zero, no "-0"), of at most 18 digits.
    mutating func integer() -> Int? {
        let negative = take(UInt8(ascii: "-"))
        let start = index
        var value = 0
        while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            // Eighteen digits always fit in an Int; a longer run is refused before it could overflow.
            guard index - start < 18 else { return nil }
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        let digits = index - start
        guard digits >= 1, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        guard index == bytes.endIndex || [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains(bytes[index])
        else { return nil }
        if negative && value == 0 { return nil }
        return negative ? -value : value
    }

    /// An array without whitespace; `element` reads each element and says whether it could.
    mutating func array(_ element: (inout FlatJSONScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "[")) else { return false }
        if take(UInt8(ascii: "]")) { return true }
        repeat {
            guard element(&self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]"))
    }

    /// `true` or `false`.
    mutating func bool() -> Bool? {
        for (word, value) in [("true", true), ("false", false)] where bytes[index...].starts(with: word.utf8) {
            index += word.utf8.count
            return value
        }
        return nil
    }

    /// `null` (as `.some(nil)`), else what `value` reads; nil when neither reads.
    mutating func nullOr<T>(_ value: (inout FlatJSONScanner) -> T?) -> T?? {
        if null() { return .some(nil) }
        return value(&self).map { .some($0) }
    }

    /// `null`: whether it is next (and then read).
    mutating func null() -> Bool {
        guard bytes.endIndex - index >= 4, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
            bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    /// An array of strings and nulls, with any JSON whitespace between its parts.
    mutating func stringsOrNulls() -> [String?]? {
        skipWhitespace()
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [String?] = []
        skipWhitespace()
        if !take(UInt8(ascii: "]")) {
            repeat {
                skipWhitespace()
                guard let value = nullOr({ $0.string() }) else { return nil }
                values.append(value)
                skipWhitespace()
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "]")) else { return nil }
        }
        skipWhitespace()
        return values
    }

    private mutating func skipWhitespace() {
        while index < bytes.endIndex, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.endIndex, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
