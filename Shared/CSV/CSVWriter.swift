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
        Self.append(fields, to: &pending)
        if pending.count >= flushAt { try flush() }
    }

    /// Appends one record, CRLF-terminated, to `bytes`: for CSV sent somewhere other than a file.
    public static func append(_ fields: [String], to bytes: inout [UInt8]) {
        for (index, field) in fields.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            let utf8 = field.utf8
            if utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }) {
                bytes.append(UInt8(ascii: "\""))
                for byte in utf8 {
                    if byte == UInt8(ascii: "\"") { bytes.append(byte) }
                    bytes.append(byte)
                }
                bytes.append(UInt8(ascii: "\""))
            } else {
                bytes.append(contentsOf: utf8)
            }
        }
        bytes.append(contentsOf: [13, 10])
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
