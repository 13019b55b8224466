/// Percent-encoding of text for a URL, byte by byte: ASCII letters and digits and the given marks are
/// kept, every other byte of the UTF-8 text becomes `%XX`.
///
/// Foundation's `addingPercentEncoding` built its character sets and converted the string on every
/// call: on a Sync History page of 500 rows it was two fifths of the page's time.
enum PercentEncoding {
    static func encode(_ text: String, keeping marks: String) -> String {
        let kept = { (byte: UInt8) -> Bool in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return marks.utf8.contains(byte)
            }
        }
        if text.utf8.allSatisfy(kept) { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        encoded.reserveCapacity(text.utf8.count * 3)
        for byte in text.utf8 {
            if kept(byte) {
                encoded.append(byte)
            } else {
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
