import Foundation
import JobstreamTestSupport
import Testing

@testable import JobstreamBackfill
@testable import JobstreamCSV

@Suite("CSV reading and writing")
struct CSVReaderTests {
    /// Every record of `bytes`, read with a small buffer so that records cross buffer boundaries.
    func records(_ bytes: [UInt8], bufferSize: Int = 3) throws -> [CSVRecord] {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let reader = try CSVReader(url: try folder.file("f.csv", bytes), bufferSize: bufferSize)
        var result: [CSVRecord] = []
        while let record = try reader.next() { result.append(record) }
        return result
    }

    func records(_ text: String, bufferSize: Int = 3) throws -> [CSVRecord] {
        try records(Array(text.utf8), bufferSize: bufferSize)
    }

    @Test("RFC 4180 quoting: commas, doubled quotes and line breaks inside quoted fields")
    func quoting() throws {
        let read = try records("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nplain,,end\n")
        #expect(read.map(\.fields) == [["a", "b", "c"], ["x, y", "say \"hi\"", "two\nlines"], ["plain", "", "end"]])
        #expect(read.map(\.line) == [1, 2, 4])
    }

    @Test(
        "CRLF and LF line ends, a byte-order mark, blank lines and a missing final line end", arguments: [1, 2, 3, 64, 1 << 20])
    func lineEnds(bufferSize: Int) throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("id,v\r\n1,\"a\r\nb\"\r\n\r\n2,c\n3,d".utf8)
        let read = try records(bytes, bufferSize: bufferSize)
        #expect(read.map(\.fields) == [["id", "v"], ["1", "a\r\nb"], ["2", "c"], ["3", "d"]])
        #expect(read.map(\.line) == [1, 2, 5, 6])
    }

    @Test("a quote inside an unquoted field is refused with its line and field")
    func strayQuote() throws {
        #expect(
            throws: CSVFormatError(
                line: 2, field: 2, reason: "a quote inside an unquoted field; quote the whole field and double the quote (\"\")")
        ) {
            try records("a,b\nx,y\"z\n")
        }
    }

    @Test("text after a closing quote is refused")
    func textAfterQuote() throws {
        let error = try #require(throws: CSVFormatError.self) { try records("a,b\n\"x\"y,z\n") }
        #expect(error.line == 2 && error.field == 1)
    }

    @Test("a quoted field that is never closed is refused, naming the line it starts on")
    func unclosedQuote() throws {
        let error = try #require(throws: CSVFormatError.self) { try records("a,b\n1,2\n3,\"open\nmore\nlines\n") }
        #expect(error.line == 3)
        #expect(error.reason.contains("never closed"))
    }

    @Test("bytes that are not UTF-8 are refused, naming the line")
    func notUTF8() throws {
        let latin1: [UInt8] = Array("id,name\n1,ok\n2,caf".utf8) + [0xE9] + Array("\n".utf8)
        let error = try #require(throws: CSVFormatError.self) { try records(latin1) }
        #expect(error.line == 3 && error.field == 2)
        #expect(error.reason.contains("UTF-8"))
    }

    @Test("the writer quotes what needs quoting, and the reader reads it back unchanged")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let rows = [
            ["id", "note"], ["1", "plain"], ["2", "comma, inside"], ["3", "quote \" inside"], ["4", "line\nbreak"], ["5", ""],
        ]
        let url = folder.url.appendingPathComponent("out.csv")
        let writer = try CSVWriter(url: url)
        for row in rows { try writer.write(row) }
        try writer.close()
        let reader = try CSVReader(url: url)
        var read: [[String]] = []
        while let record = try reader.next() { read.append(record.fields) }
        #expect(read == rows)
        #expect(try String(contentsOf: url, encoding: .utf8).hasPrefix("id,note\r\n1,plain\r\n2,\"comma, inside\"\r\n"))
    }
}
