import Foundation
import JobstreamCSV
import JobstreamMessages

/// What the fuzzers check on one input; also run over every saved input by the test suite. Each
/// check stops the process (`preconditionFailure`) when a property fails, which libFuzzer reports
/// as a crash and keeps as a regression input.
public enum FuzzTargets {
    /// Small limits, so inputs of a few hundred bytes reach them.
    static let limits = CSVReader.Limits(fieldBytes: 64, fieldsPerRecord: 8, recordBytes: 256)

    /// Reads `bytes` as CSV twice, with a 1-byte and a 4 KiB buffer: the reader must neither crash nor
    /// hand out a record past its limits, and both readings must agree (records and the error).
    public static func csv(_ bytes: [UInt8]) {
        let small = read(bytes, bufferSize: 1)
        let large = read(bytes, bufferSize: 4096)
        precondition(small == large, "the reading depends on the buffer size: \(small) vs \(large)")
        var lastLine = 0
        for record in small.records {
            precondition(record.fields.count <= limits.fieldsPerRecord, "a record has \(record.fields.count) fields")
            precondition(record.fields.allSatisfy { $0.utf8.count <= limits.fieldBytes }, "a field is past its limit")
            precondition(
                record.fields.reduce(0) { $0 + $1.utf8.count + 1 } <= limits.recordBytes + 1, "a record is past its limit")
            precondition(record.line > lastLine, "line numbers go back: \(record.line) after \(lastLine)")
            lastLine = record.line
        }
    }

    struct Reading: Equatable {
        var records: [CSVRecord] = []
        var error: CSVFormatError?
    }

    static func read(_ bytes: [UInt8], bufferSize: Int) -> Reading {
        let reader = CSVReader(bytes: bytes, bufferSize: bufferSize, limits: limits)
        var reading = Reading()
        do {
            while let record = try reader.next() { reading.records.append(record) }
        } catch let error as CSVFormatError {
            reading.error = error
        } catch {
            preconditionFailure("the reader threw something other than a format error: \(error)")
        }
        return reading
    }

    /// Decodes `bytes` as an envelope: a message the codec takes must keep its bounds, and encoding it
    /// again and decoding that must give the same message; a refusal must be short enough to quote.
    /// The codec's fast paths must take only what `JSONDecoder` takes, and read it the same; a slice of a
    /// larger buffer holding the same bytes must be read the same.
    public static func envelope(_ bytes: [UInt8]) {
        // As the consumer hands out small values: a slice of a larger buffer, to be read to its end only.
        let padded = Array("{".utf8) + bytes + Array("}".utf8)
        let slice = try? MessageCodec.decode(padded[1..<(1 + bytes.count)]).encoded()
        do {
            let decoded = try MessageCodec.decode(bytes)
            let general = try? MessageCodec.decodeWithJSONDecoder(bytes[...]).encoded()
            precondition(general != nil, "the fast path took a message JSONDecoder refuses")
            let read = try decoded.encoded()
            precondition(general == read, "the fast path read a message otherwise")
            precondition(slice == read, "a message read from a slice of a larger buffer differs")
            precondition(decoded.type.jobIdProblem(decoded.jobId) == nil, "a message with a bad id was taken")
            precondition(decoded.payload.boundsProblem == nil, "a message past its bounds was taken")
            let encoded = try decoded.encoded()
            let reencoded = try MessageCodec.decode(encoded).encoded()
            precondition(reencoded == encoded, "encoding and decoding again changed the message")
        } catch let error as MessageDecodingError {
            precondition(slice == nil, "a slice of a larger buffer was taken where the message alone is refused")
            precondition(error.description.utf8.count <= 8192, "a refusal is \(error.description.utf8.count) bytes")
        } catch {
            preconditionFailure("decoding threw something other than a decoding error: \(error)")
        }
    }
}
