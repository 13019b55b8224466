import Foundation

/// Writes RFC 4180 CSV: fields quoted when they hold a comma, quote or line break, CRLF line ends.
public final class CSVWriter {
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private let flushAt = 1 << 20

    /// Creates (or truncates) the file at `url`.
    public init(url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
        handle = try FileHandle(forWritingTo: url)
    }

    public func write(_ fields: [String]) throws {
        for (index, field) in fields.enumerated() {
            if index > 0 { pending.append(UInt8(ascii: ",")) }
            let bytes = Array(field.utf8)
            if bytes.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
                pending.append(UInt8(ascii: "\""))
                for byte in bytes {
                    if byte == UInt8(ascii: "\"") { pending.append(byte) }
                    pending.append(byte)
                }
                pending.append(UInt8(ascii: "\""))
            } else {
                pending.append(contentsOf: bytes)
            }
        }
        pending.append(contentsOf: [13, 10])
        if pending.count >= flushAt { try flush() }
    }

    /// Writes what is buffered and closes the file; its contents are on disk when this returns.
    public func close() throws {
        try flush()
        try handle.synchronize()
        try handle.close()
    }

    private func flush() throws {
        guard !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }
}
