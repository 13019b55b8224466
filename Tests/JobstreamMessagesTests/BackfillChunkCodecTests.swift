import Foundation
import Testing

@testable import JobstreamMessages

@Suite("Backfill chunks written and read without JSONEncoder and JSONDecoder")
struct BackfillChunkCodecTests {
    typealias Seeded = SyncHistoryEntryReaderTests.Seeded

    /// Column names and values: plain, non-ASCII, and ones that need an escape.
    static let columns = ["Charge Id", "Booking Date", "Accounting Code", "Nöte", "a/b", "Say \"x\""]
    static let values = ["RPC-00000001", "2025-01-15", "", "ümlaut – dash", "path/to/x", "line\u{2028}sep"]
    /// Refused by the bounds of a message read (control characters): the writer still writes them as
    /// JSONEncoder does, raw (DEL) or escaped (the rest: it gives up).
    static let unreadable = ["del\u{7F}", "tab\there", "two\nlines", "nul\u{0}"]
    static let escaped = ["a \"quoted\" word", "back\\slash"]

    static func randomChunk(_ random: inout Seeded, escapes: Bool, extra: [String] = []) -> Envelope<BackfillChunk> {
        let names = Array(columns.shuffled(using: &random).prefix(Int.random(in: 0...4, using: &random)))
            .filter { escapes || !$0.contains("\"") }
        let pool = (escapes ? values + escaped : values) + extra
        let rows = (0..<Int.random(in: 0...40, using: &random)).map { offset in
            var fields: [String: String] = [:]
            for name in names where Int.random(in: 0..<4, using: &random) > 0 {
                fields[name] = pool.randomElement(using: &random)!
            }
            return BackfillRow(rowNumber: 1 + offset * Int.random(in: 1...1_000_000, using: &random), fields: fields)
        }
        let chunk = BackfillChunk(
            chunkIndex: Int.random(in: 0...1_000_000, using: &random),
            action: ["update-rate-plan-charge", "cleanup-stale-invoice-items", "ünïcode/action"].randomElement(using: &random)!,
            rows: rows)
        let time = Date(timeIntervalSince1970: 1_795_000_000 + Double(Int.random(in: 0...86_400_000, using: &random)) / 1000)
        return Envelope(jobId: "job-\(Int.random(in: 0..<1_000_000, using: &random))", time: time, payload: chunk)
    }

    /// Whether any string of `envelope` needs an escape in JSON.
    static func needsEscape(_ envelope: Envelope<BackfillChunk>) -> Bool {
        let strings =
            [envelope.jobId, envelope.payload.action]
            + envelope.payload.rows.flatMap { Array($0.fields.keys) + Array($0.fields.values) }
        return strings.contains { $0.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") } }
    }

    @Test("the writer writes JSONEncoder's very bytes, and leaves a string needing an escape to JSONEncoder")
    func writesWhatJSONEncoderWrites() throws {
        var random = Seeded(state: 31)
        var written = 0
        for round in 0..<2_000 {
            let envelope = Self.randomChunk(&random, escapes: round % 3 == 0, extra: round % 3 == 0 ? Self.unreadable : [])
            let general = try MessageCodec.encodeWithJSONEncoder(envelope)
            if let fast = PlainEnvelopeWriter.chunk(envelope) {
                #expect(fast == general, "\(String(decoding: fast, as: UTF8.self))\n\(String(decoding: general, as: UTF8.self))")
                written += 1
            } else {
                #expect(Self.needsEscape(envelope), "not written: \(String(decoding: general, as: UTF8.self))")
            }
            #expect(try MessageCodec.encode(envelope) == general)
        }
        #expect(written > 1_000)
    }

    @Test("the reader reads what the services write as JSONDecoder does; it leaves escaped text to JSONDecoder")
    func readsWhatIsWritten() throws {
        var random = Seeded(state: 37)
        var read = 0
        for round in 0..<2_000 {
            let envelope = Self.randomChunk(&random, escapes: round % 3 == 0)
            let bytes = try MessageCodec.encode(envelope)
            let general = try MessageCodec.decodeWithJSONDecoder(bytes[...])
            #expect(general.payload(as: BackfillChunk.self) == envelope.payload)
            if let fast = BackfillChunkReader.envelope(bytes[...]) {
                #expect(try fast.encoded() == general.encoded(), "\(String(decoding: bytes, as: UTF8.self))")
                read += 1
            } else {
                #expect(bytes.contains(UInt8(ascii: "\\")), "not read: \(String(decoding: bytes, as: UTF8.self))")
            }
            #expect(try MessageCodec.decode(bytes).encoded() == general.encoded())
        }
        #expect(read > 1_000)
    }

    @Test("whatever bytes it is given, the reader reads nothing JSONDecoder refuses, and nothing otherwise")
    func mutations() throws {
        var random = Seeded(state: 41)
        let alphabet = Array(#"0123456789-.eE+"\ ,:{}[]nultrfas/"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        var accepted = 0
        for _ in 0..<600 {
            let original = try MessageCodec.encode(Self.randomChunk(&random, escapes: false))
            for _ in 0..<25 {
                let bytes = random.mutated(original, alphabet: alphabet)
                guard let fast = BackfillChunkReader.envelope(bytes[...]) else { continue }
                accepted += 1
                let general = try? MessageCodec.decodeWithJSONDecoder(bytes[...])
                #expect(try general?.encoded() == fast.encoded(), "\(String(decoding: bytes, as: UTF8.self))")
            }
        }
        #expect(accepted > 100)
    }

    @Test("rows short or long, a column named twice, rows before columns, whitespace or another type go to JSONDecoder")
    func handWritten() throws {
        let base =
            #"{"jobId":"b-1","payload":{"action":"update-rate-plan-charge","chunkIndex":3,"columns":COLUMNS,"rows":ROWS},"time":"2026-11-22T10:00:00.000Z","type":"backfill.chunk","version":"1.0"}"#
        func bytes(columns: String = #"["A","B"]"#, rows: String = #"[[1,"x",null],[2,null,"y"]]"#) -> [UInt8] {
            Array(base.replacingOccurrences(of: "COLUMNS", with: columns).replacingOccurrences(of: "ROWS", with: rows).utf8)
        }
        let plain = try #require(BackfillChunkReader.envelope(bytes()[...]))
        #expect(
            plain.payload(as: BackfillChunk.self)
                == BackfillChunk(
                    chunkIndex: 3, action: "update-rate-plan-charge",
                    rows: [BackfillRow(rowNumber: 1, fields: ["A": "x"]), BackfillRow(rowNumber: 2, fields: ["B": "y"])]))
        #expect(
            try #require(BackfillChunkReader.envelope(bytes(columns: "[]", rows: "[]")[...])).payload(as: BackfillChunk.self)?
                .rows == [])
        #expect(BackfillChunkReader.envelope(bytes(rows: "[[1]]")[...]) == nil)
        for (columns, rows) in [
            (#"["A","B"]"#, #"[[1,"x"]]"#), (#"["A","B"]"#, #"[[1,"x",null,null]]"#), (#"["A","A"]"#, #"[[1,"x","y"]]"#),
            (#"["A","B"]"#, #"[[1, "x",null]]"#), (#"["A","B"]"#, #"[["1","x",null]]"#), (#"["A","B"]"#, #"[[1.0,"x",null]]"#),
            (#"["A","B"]"#, #"[[1,"x",1]]"#), (#"["A","B"]"#, #"[[1,"x",nul]]"#), (#"["A","B"]"#, #"[[]]"#),
            (#"["A","B"]"#, #"[[1,"a\u0041",null]]"#), (#"["A",null]"#, #"[]"#), (#"["A","B"]"#, #"[[1,"x",null],]"#),
        ] {
            let message = bytes(columns: columns, rows: rows)
            #expect(BackfillChunkReader.envelope(message[...]) == nil, "\(columns) \(rows)")
        }
        // JSONDecoder reads these; the plain reader leaves them to it.
        let twice = try MessageCodec.decode(bytes(columns: #"["A","A"]"#, rows: #"[[1,"x","y"]]"#))
        #expect(twice.payload(as: BackfillChunk.self)?.rows == [BackfillRow(rowNumber: 1, fields: ["A": "y"])])
        let escaped = try MessageCodec.decode(bytes(rows: #"[[1,"a\u0041",null]]"#))
        #expect(escaped.payload(as: BackfillChunk.self)?.rows.first?.fields == ["A": "aA"])
        let rowsFirst = Array(
            #"{"jobId":"b-1","payload":{"rows":[[1,"x"]],"columns":["A"],"chunkIndex":0,"action":"a"},"time":"2026-11-22T10:00:00.000Z","type":"backfill.chunk","version":"1.0"}"#
                .utf8)
        #expect(BackfillChunkReader.envelope(rowsFirst[...]) == nil)
        #expect(try MessageCodec.decode(rowsFirst).payload(as: BackfillChunk.self)?.rows.first?.fields == ["A": "x"])
        let other = Array(base.replacingOccurrences(of: "backfill.chunk", with: "backfill.request").utf8)
        #expect(PlainEnvelopeReader.envelope(other[...]) == nil)
    }
}
