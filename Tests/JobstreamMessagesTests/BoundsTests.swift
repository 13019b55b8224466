import Foundation
import Testing

@testable import JobstreamMessages

@Suite("Bounds of messages")
struct BoundsTests {
    func decode(_ type: String, jobId: String, payload: String, time: String = "2026-11-22T10:00:00.000Z") throws -> AnyEnvelope {
        try MessageCodec.decode(
            Array(#"{"type":"\#(type)","version":"1.0","jobId":"\#(jobId)","time":"\#(time)","payload":\#(payload)}"#.utf8))
    }

    @Test(
        "job ids follow one rule: no way to write a slash, a dot first, a control character or a combining mark",
        arguments: ["../x", "a/b", ".hidden", "", String(repeating: "a", count: 101), "a\\u0000b", "e\\u0301", "-lead"])
    func badJobIds(id: String) throws {
        let error = #expect(throws: MessageDecodingError.self) {
            try decode("migration.request", jobId: id, payload: #"{"cutoverDate":"2024-01-01","generatedBy":"ops"}"#)
        }
        #expect(error?.description.hasPrefix("invalid envelope: jobId: the job id") == true, "\(String(describing: error))")
    }

    @Test(
        "good job ids pass",
        arguments: ["bf-7f3c2a", "2b8f0c6e-1d2a-4f3b-9c1e-7a6b5c4d3e2f", "mig:2026.11_01", String(repeating: "a", count: 100)])
    func goodJobIds(id: String) throws {
        #expect(
            try decode("migration.request", jobId: id, payload: #"{"cutoverDate":"2024-01-01","generatedBy":"ops"}"#).jobId == id)
    }

    @Test("a sync session id may be any text of 200 bytes without control characters")
    func sessionIds() throws {
        #expect(
            try decode(
                "sync.session-started", jobId: "sess/2026-11-22#4 é",
                payload: #"{"operation":"Manual","startedAt":"2026-11-22T10:00:00.000Z"}"#
            ).jobId == "sess/2026-11-22#4 é")
        #expect(throws: MessageDecodingError.self) {
            try decode(
                "sync.session-started", jobId: String(repeating: "é", count: 101),
                payload: #"{"operation":"Manual","startedAt":"2026-11-22T10:00:00.000Z"}"#)
        }
    }

    @Test("names, paths and free texts are bounded; a NUL is refused")
    func fields() throws {
        let long = String(repeating: "n", count: 201)
        #expect(
            (#expect(throws: MessageDecodingError.self) {
                try decode("migration.request", jobId: "j", payload: #"{"cutoverDate":"2024-01-01","generatedBy":"\#(long)"}"#)
            })?.description.contains("generatedBy is 201 bytes long; at most 200") == true)
        #expect(
            (#expect(throws: MessageDecodingError.self) {
                try decode(
                    "backfill.request", jobId: "j",
                    payload: #"{"action":"a","generatedBy":"x","file":{"path":"p\u0001","name":"n"}}"#)
            })?.description.contains("file.path") == true)
        #expect(
            (#expect(throws: MessageDecodingError.self) {
                try decode(
                    "sync.session-failed", jobId: "s",
                    payload: #"{"failedAt":"2026-11-22T10:00:00.000Z","failure":"Storage","reason":"a\u0000b"}"#)
            })?.description.contains("NUL") == true)
        #expect(
            try decode(
                "sync.session-failed", jobId: "s",
                payload: #"{"failedAt":"2026-11-22T10:00:00.000Z","failure":"Storage","reason":"line\nbreak"}"#
            ).type == .syncSessionFailed)
    }

    @Test("a chunk's column names and values are bounded on every row, a name first seen on a later row too")
    func chunkFields() {
        func chunk(_ rows: [[String: String]]) -> BackfillChunk {
            BackfillChunk(
                chunkIndex: 0, action: "update-rate-plan-charge",
                rows: rows.enumerated().map { BackfillRow(rowNumber: $0.offset + 1, fields: $0.element) })
        }
        let plain = ["Charge Id": "RPC-1", "Booking Date": "2025-01-15"]
        #expect(chunk([plain, plain]).boundsProblem == nil)
        #expect(
            chunk([plain, plain, plain.merging(["Bad\u{1}Name": "x"]) { $1 }]).boundsProblem?.contains("a column name") == true)
        let longName = String(repeating: "n", count: InputLimits.fileNameBytes + 1)
        #expect(chunk([plain, [longName: "x"]]).boundsProblem?.contains("a column name is") == true)
        #expect(
            chunk([plain, plain, ["Charge Id": "RPC-3", "Booking Date": "2025\u{0}"]]).boundsProblem?
                .contains("row 3 Booking Date") == true)
        let manyNames = (0..<100).map { ["Column \($0)": "x", "Charge Id": "RPC-\($0)"] }
        #expect(chunk(manyNames).boundsProblem == nil)
        #expect(chunk(manyNames + [["Column 99": "bad\u{7F}"]]).boundsProblem?.contains("row 101 Column 99") == true)
        #expect(chunk(manyNames + [["Column\u{1} 99": "x"]]).boundsProblem?.contains("a column name") == true)
    }

    @Test(
        "times outside 1970 to 9999, or not RFC 3339, are refused; times read back as written",
        arguments: [
            "1013-11-22T10:04:31.250Z", "1969-12-31T23:59:59.999Z", "2026-11-22T10:00:00.6-11-22T10:00:00.000Z",
            "2026-11-22 10:00:00Z",
        ])
    func badTimes(time: String) {
        #expect(Timestamp.parse(time) == nil)
    }

    @Test(
        "a time is written from its own digits, to the millisecond",
        arguments: [
            "2026-09-22T10:00:00.080Z", "1970-01-01T00:00:00.001Z", "2024-02-29T23:59:59.999Z", "9999-12-31T23:59:59.999Z",
        ])
    func timesReadBack(time: String) throws {
        #expect(Timestamp.format(try #require(Timestamp.parse(time))) == time)
        #expect(Timestamp.format(try #require(Timestamp.parse(time.replacingOccurrences(of: "Z", with: "+00:00")))) == time)
    }

    @Test("a quoted value shows at most 60 characters, its length, and control characters as escapes")
    func quoting() {
        #expect("\(Quoted("short"))" == #""short""#)
        #expect("\(Quoted("a\nb\u{0}"))" == #""a\nb\u{0}""#)
        let long = String(repeating: "x", count: 600_000)
        #expect("\(Quoted(long))" == "\"\(String(repeating: "x", count: 60))…\" (600000 bytes)")
        #expect(TextRule.cut(long, toBytes: 100).utf8.count <= 100)
        #expect(TextRule.cut("é" + long, toBytes: 100).hasPrefix("é"))
    }
}
