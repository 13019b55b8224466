import Foundation

/// One record of a CSV file: its fields and the line it starts on (1-based; the header is on line 1).
public struct CSVRecord: Sendable, Hashable {
    public var fields: [String]
    public var line: Int
}

/// A file that is not valid CSV, with where: the line and, when known, the field.
public struct CSVFormatError: Error, CustomStringConvertible, Equatable {
    public let line: Int
    public let field: Int?
    public let reason: String

    public var description: String {
        "line \(line)\(field.map { ", field \($0)" } ?? ""): \(reason)"
    }
}

/// Reads an RFC 4180 CSV file record by record, in constant memory whatever the file's size.
///
/// Accepts UTF-8 with or without a byte-order mark, LF or CRLF line ends, and quoted fields holding
/// commas, doubled quotes and line breaks. Blank lines are skipped. Refuses, naming the line: bytes
/// that are not UTF-8, a quote inside an unquoted field, text after a closing quote, a quoted field
/// never closed, and a field, a record or a number of fields beyond its ``Limits`` — so no file,
/// however made, makes the reader hold more than a record's limit in memory.
///
/// Written here rather than taken from a CSV package: the packages available to us read whole
/// files into memory or accept malformed quoting silently and report no line numbers.
public final class CSVReader {
    /// The most a record may hold. A file past one is refused at the record that passes it.
    public struct Limits: Sendable, Hashable {
        /// Bytes of one field.
        public var fieldBytes: Int
        /// Fields of one record.
        public var fieldsPerRecord: Int
        /// Bytes of one record (its fields and separators; a record spans several lines when a quoted
        /// field holds line breaks).
        public var recordBytes: Int

        public init(fieldBytes: Int = 65_536, fieldsPerRecord: Int = 1_000, recordBytes: Int = 1_048_576) {
            self.fieldBytes = fieldBytes
            self.fieldsPerRecord = fieldsPerRecord
            self.recordBytes = recordBytes
        }

        /// The limits used when none are given.
        public static let standard = Limits()
    }

    private let source: Source
    private let bufferSize: Int
    private let limits: Limits
    private var buffer: [UInt8] = []
    private var position = 0
    private var atEndOfFile = false
    private var line = 1
    private var startOfFile = true

    /// Where the bytes come from: a file, or bytes already in memory (tests and fuzzing).
    private enum Source {
        case file(FileHandle)
        case bytes([UInt8])
    }

    public init(url: URL, bufferSize: Int = 1 << 20, limits: Limits = .standard) throws {
        source = .file(try FileHandle(forReadingFrom: url))
        self.bufferSize = max(1, bufferSize)
        self.limits = limits
    }

    /// A reader of `bytes`, handed out `bufferSize` at a time as a file would be.
    public init(bytes: [UInt8], bufferSize: Int = 1 << 20, limits: Limits = .standard) {
        source = .bytes(bytes)
        self.bufferSize = max(1, bufferSize)
        self.limits = limits
    }

    deinit {
        if case .file(let handle) = source { try? handle.close() }
    }

    /// How many bytes of the source have been read so far (a buffer at a time): how far a scan is.
    public private(set) var bytesRead = 0

    /// The next piece of the source, empty at its end.
    private var offset = 0
    private func read() throws -> [UInt8] {
        let piece: [UInt8]
        switch source {
        case .file(let handle):
            piece = [UInt8](try handle.read(upToCount: bufferSize) ?? Data())
        case .bytes(let bytes):
            let end = min(bytes.count, offset + bufferSize)
            defer { offset = end }
            piece = Array(bytes[offset..<end])
        }
        bytesRead += piece.count
        return piece
    }

    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted
    }

    /// The next record, nil at the end of the file.
    public func next() throws -> CSVRecord? {
        var fields: [String] = []
        var field: [UInt8] = []
        var state = State.fieldStart
        var recordLine = line
        var quoteLine = line
        /// Bytes of the record's finished fields and their separators.
        var recordBytes = 0
        let limits = self.limits

        func endRecord() throws -> CSVRecord {
            try endField()
            line += 1
            return CSVRecord(fields: fields, line: recordLine)
        }

        func endField() throws {
            try checkField()
            guard fields.count < limits.fieldsPerRecord else {
                throw CSVFormatError(
                    line: recordLine, field: nil,
                    reason:
                        "the record has more than \(limits.fieldsPerRecord) fields; at most \(limits.fieldsPerRecord) are read")
            }
            guard let text = String(validating: field, as: UTF8.self) else {
                throw CSVFormatError(
                    line: line, field: fields.count + 1,
                    reason: "the text is not valid UTF-8; save the file as UTF-8 and upload it again")
            }
            recordBytes += field.count + 1
            fields.append(text)
            field.removeAll(keepingCapacity: true)
        }

        /// Refuses the field or the record once it passes its limit, before it grows any further.
        func checkField() throws {
            if field.count > limits.fieldBytes {
                throw CSVFormatError(
                    line: line, field: fields.count + 1,
                    reason: "the field is longer than \(limits.fieldBytes) bytes; at most \(limits.fieldBytes) are read")
            }
            if recordBytes + field.count > limits.recordBytes {
                throw CSVFormatError(
                    line: recordLine, field: nil,
                    reason:
                        "the record is longer than \(limits.recordBytes) bytes (a line break may be missing); at most \(limits.recordBytes) are read"
                )
            }
        }

        while true {
            if position == buffer.count {
                try refill()
                if position == buffer.count {
                    // End of file.
                    switch state {
                    case .quoted:
                        throw CSVFormatError(
                            line: quoteLine, field: fields.count + 1,
                            reason: "a quoted field starting here is never closed (a missing \")")
                    case .fieldStart where fields.isEmpty:
                        return nil
                    default:
                        try endField()
                        return CSVRecord(fields: fields, line: recordLine)
                    }
                }
            }
            if state == .unquoted || state == .quoted {
                // Take the run of ordinary bytes at once; only a special byte goes through the switch.
                let start = position
                let quoted = state == .quoted
                // The run stops one byte past the nearer limit, so a limit is met on the same byte
                // whatever the buffer's size.
                let room = max(0, min(limits.fieldBytes - field.count, limits.recordBytes - recordBytes - field.count)) + 1
                let end = min(buffer.count, position + room)
                while position < end {
                    let byte = buffer[position]
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n") { break }
                    if !quoted && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\r")) { break }
                    position += 1
                }
                if position > start {
                    field.append(contentsOf: buffer[start..<position])
                    try checkField()
                }
                if position == buffer.count || position == end { continue }
            }
            let byte = buffer[position]
            position += 1
            switch state {
            case .fieldStart:
                if byte == UInt8(ascii: "\"") {
                    state = .quoted
                    quoteLine = line
                } else if byte == UInt8(ascii: ",") {
                    try endField()
                } else if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    if try isCarriageReturnBeforeLineFeed(byte) { continue }
                    if fields.isEmpty {
                        line += 1
                        recordLine = line  // a blank line: skip it
                        continue
                    }
                    return try endRecord()
                } else {
                    field.append(byte)
                    try checkField()
                    state = .unquoted
                }
            case .unquoted:
                if byte == UInt8(ascii: ",") {
                    try endField()
                    state = .fieldStart
                } else if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    if try isCarriageReturnBeforeLineFeed(byte) { continue }
                    return try endRecord()
                } else if byte == UInt8(ascii: "\"") {
                    throw CSVFormatError(
                        line: line, field: fields.count + 1,
                        reason: "a quote inside an unquoted field; quote the whole field and double the quote (\"\")")
                } else {
                    field.append(byte)
                    try checkField()
                }
            case .quoted:
                if byte == UInt8(ascii: "\"") {
                    state = .quoteInQuoted
                } else {
                    if byte == UInt8(ascii: "\n") { line += 1 }
                    field.append(byte)
                    try checkField()
                }
            case .quoteInQuoted:
                if byte == UInt8(ascii: "\"") {
                    field.append(byte)
                    try checkField()
                    state = .quoted
                } else if byte == UInt8(ascii: ",") {
                    try endField()
                    state = .fieldStart
                } else if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    if try isCarriageReturnBeforeLineFeed(byte) { continue }
                    return try endRecord()
                } else {
                    throw CSVFormatError(
                        line: line, field: fields.count + 1,
                        reason: "text after a closing quote; a quote inside a quoted field is written \"\"")
                }
            }
        }
    }

    /// Whether `byte` is a CR followed by LF: then the LF ends the line instead.
    private func isCarriageReturnBeforeLineFeed(_ byte: UInt8) throws -> Bool {
        guard byte == UInt8(ascii: "\r") else { return false }
        if position == buffer.count { try refill() }
        return position < buffer.count && buffer[position] == UInt8(ascii: "\n")
    }

    /// How many line feeds the file has: at least its number of records, read fast, to size
    /// structures before the real reading.
    public static func countLineEnds(url: URL) throws -> Int {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var count = 0
        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
            count += data.withUnsafeBytes { bytes in bytes.reduce(0) { $0 + ($1 == 10 ? 1 : 0) } }
        }
        return count
    }

    /// Reads the next piece of the file; on return `position < buffer.count` unless the file ended.
    private func refill() throws {
        while position == buffer.count, !atEndOfFile {
            buffer = try read()
            if buffer.isEmpty { atEndOfFile = true }
            position = 0
            if startOfFile {
                // The byte-order mark may arrive over several reads when the buffer is tiny.
                while buffer.count < 3, !atEndOfFile {
                    let more = try read()
                    if more.isEmpty { atEndOfFile = true }
                    buffer += more
                }
                startOfFile = false
                if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }
            }
        }
    }
}

extension CSVReader.Limits {
    /// For files jobstream wrote itself (result files): wide enough for any upload a validator took,
    /// plus the two result columns, under whatever limits it ran with.
    public static let ownFiles = CSVReader.Limits(fieldBytes: 16 << 20, fieldsPerRecord: 100_000, recordBytes: 64 << 20)
}
