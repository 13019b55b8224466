import Foundation
import Testing

@testable import JobstreamMessages

@Suite("Message codec")
struct MessageCodecTests {
    @Test("there is an example of every message type", arguments: MessageType.allCases)
    func exampleExists(type: MessageType) throws {
        #expect(try MessageExamples.all()[type] != nil)
    }

    @Test("every message type survives encode → decode → encode unchanged", arguments: MessageType.allCases)
    func roundTrip(type: MessageType) throws {
        let bytes = try #require(try MessageExamples.all()[type])
        let decoded = try MessageCodec.decode(bytes)
        #expect(decoded.type == type)
        #expect(decoded.version == .current)
        #expect(String(describing: Swift.type(of: decoded.payload)) == String(describing: type.payloadType))
        let reencoded = try decoded.encoded()
        #expect(String(decoding: reencoded, as: UTF8.self) == String(decoding: bytes, as: UTF8.self))
    }

    @Test(
        "a message inside a larger buffer, as the consumer hands out small values, decodes as it does alone",
        arguments: MessageType.allCases)
    func sliceDecodes(type: MessageType) throws {
        let bytes = try #require(try MessageExamples.all()[type])
        // Bytes on both sides that would break the JSON if they were read: `}` before, `x` after.
        let buffer = Array("}}}".utf8) + bytes + Array("xx".utf8)
        let slice = buffer[3..<(3 + bytes.count)]
        #expect(try MessageCodec.decode(slice).encoded() == MessageCodec.decode(bytes).encoded())
        #expect(try MessageCodec.decodeWithJSONDecoder(slice).encoded() == MessageCodec.decode(bytes).encoded())
        // Cut one byte short, it is refused rather than read on into its neighbours.
        #expect(throws: MessageDecodingError.self) { try MessageCodec.decode(buffer[3..<(2 + bytes.count)]) }
    }

    @Test("a decoded message is its own type's typed envelope and no other's", arguments: MessageType.allCases)
    func typedView(type: MessageType) throws {
        let decoded = try MessageCodec.decode(try #require(try MessageExamples.all()[type]))
        #expect(type.payloadType.messageType == type)
        func view<T: JobstreamMessage>(as payloadType: T.Type) -> Bool { decoded.envelope(of: payloadType) != nil }
        let viewable = MessageType.allCases.filter { view(as: $0.payloadType) }
        #expect(viewable == [type])
    }

    @Test("a typed decode returns the payload's values")
    func typedDecode() throws {
        let request = BackfillRequest(
            action: "update-invoice-item",
            file: FileReference(path: "uploads/x/items.csv", name: "items.csv"),
            md5: nil, generatedBy: "ops")
        let time = Date(timeIntervalSince1970: 1_800_000_000.5)
        let bytes = try MessageCodec.encode(request, jobId: "bf-1", time: time)
        let envelope = try MessageCodec.decode(bytes, as: BackfillRequest.self)
        #expect(envelope.payload == request)
        #expect(envelope.jobId == "bf-1")
        #expect(abs(envelope.time.timeIntervalSince(time)) < 0.001)
    }

    @Test("a typed decode of another type names both")
    func typedDecodeOfWrongType() throws {
        let bytes = try MessageCodec.encode(
            MigrationRequest(cutoverDate: CalendarDate("2024-01-01")!, generatedBy: "ops"), jobId: "bf-1")
        #expect(throws: MessageDecodingError.unexpectedType(expected: .backfillRequest, found: .migrationRequest)) {
            try MessageCodec.decode(bytes, as: BackfillRequest.self)
        }
    }

    @Test("unknown fields in the envelope and the payload are ignored")
    func unknownFieldsIgnored() throws {
        let json = """
            {"type":"migration.request","version":"1.3","jobId":"m-1","time":"2026-11-22T10:00:00Z",
             "traceId":"abc","payload":{"cutoverDate":"2026-01-01","generatedBy":"ops","priority":"high","tags":[1,2]}}
            """
        let envelope = try MessageCodec.decode(Array(json.utf8), as: MigrationRequest.self)
        #expect(envelope.payload == MigrationRequest(cutoverDate: CalendarDate("2026-01-01")!, generatedBy: "ops"))
        #expect(envelope.version == SchemaVersion(major: 1, minor: 3))
    }

    @Test("an unknown type is refused, naming the type")
    func unknownType() throws {
        let json = #"{"type":"backfill.explode","version":"1.0","jobId":"x","time":"2026-11-22T10:00:00Z","payload":{}}"#
        #expect(throws: MessageDecodingError.unknownType("backfill.explode")) { try MessageCodec.decode(Array(json.utf8)) }
        let error = try #require(throws: MessageDecodingError.self) { try MessageCodec.decode(Array(json.utf8)) }
        #expect(error.description.contains("backfill.explode"))
    }

    @Test("a newer major version is refused; a newer minor version is read")
    func versions() throws {
        func message(_ version: String) -> [UInt8] {
            Array(
                #"{"type":"migration.request","version":"\#(version)","jobId":"x","time":"2026-11-22T10:00:00Z","payload":{"cutoverDate":"2024-01-01","generatedBy":"a"}}"#
                    .utf8)
        }
        #expect(
            throws: MessageDecodingError.unsupportedVersion(
                type: .migrationRequest, version: SchemaVersion(major: 2, minor: 0),
                newestSupported: .current)
        ) {
            try MessageCodec.decode(message("2.0"))
        }
        #expect(try MessageCodec.decode(message("1.9")).payload(as: MigrationRequest.self)?.generatedBy == "a")
        #expect(throws: MessageDecodingError.invalidEnvelope(#"version "one" is not MAJOR.MINOR"#)) {
            try MessageCodec.decode(message("one"))
        }
    }

    @Test("bytes that are not JSON are refused as such")
    func notJSON() {
        let error = #expect(throws: MessageDecodingError.self) { try MessageCodec.decode(Array("hello".utf8)) }
        guard case .notJSON? = error else {
            Issue.record("expected notJSON, got \(String(describing: error))")
            return
        }
    }

    @Test("a missing envelope field is named")
    func missingEnvelopeField() {
        let json = #"{"type":"backfill.cancel","version":"1.0","time":"2026-11-22T10:00:00Z","payload":{"requestedBy":"a"}}"#
        #expect(throws: MessageDecodingError.invalidEnvelope(#"missing field "jobId""#)) {
            try MessageCodec.decode(Array(json.utf8))
        }
    }

    @Test("a chunk's rows travel as arrays under one list of columns, and come back the same")
    func compactChunk() throws {
        let chunk = BackfillChunk(
            chunkIndex: 2, action: "update-rate-plan-charge",
            rows: [
                BackfillRow(rowNumber: 1, fields: ["Charge Id": "RPC-1", "Amount": "1.00"]),
                BackfillRow(rowNumber: 3, fields: ["Charge Id": "RPC-3", "Booking Date": "2025-01-01"]),
            ])
        let bytes = try MessageCodec.encode(Envelope(jobId: "j", payload: chunk))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains(#""columns":["Amount","Booking Date","Charge Id"]"#))
        #expect(text.contains(#"[1,"1.00",null,"RPC-1"]"#))
        #expect(try MessageCodec.decode(bytes).payload(as: BackfillChunk.self) == chunk)
    }

    @Test("a payload field of the wrong kind or value is named with its path")
    func invalidPayloadField() {
        let wrongKind =
            #"{"type":"backfill.chunk","version":"1.0","jobId":"x","time":"2026-11-22T10:00:00Z","payload":{"chunkIndex":"four","action":"a","rows":[]}}"#
        #expect(
            throws: MessageDecodingError.invalidPayload(
                type: .backfillChunk, detail: #"field "payload.chunkIndex" should be an integer"#)
        ) {
            try MessageCodec.decode(Array(wrongKind.utf8))
        }
        let nested =
            #"{"type":"backfill.chunk","version":"1.0","jobId":"x","time":"2026-11-22T10:00:00Z","payload":{"chunkIndex":1,"action":"a","columns":["Charge Id"],"rows":[[1,"RPC-1"],["two","RPC-2"]]}}"#
        #expect(
            throws: MessageDecodingError.invalidPayload(
                type: .backfillChunk, detail: #"field "payload.rows[1][0]" should be an integer"#)
        ) {
            try MessageCodec.decode(Array(nested.utf8))
        }
        let badStatus =
            #"{"type":"migration.status","version":"1.0","jobId":"x","time":"2026-11-22T10:00:00Z","payload":{"generatedBy":"a","cutoverDate":"2026-13-01","progress":0,"status":"Accepted"}}"#
        let error = #expect(throws: MessageDecodingError.self) { try MessageCodec.decode(Array(badStatus.utf8)) }
        #expect(error?.description.contains("payload.cutoverDate") == true)
        #expect(error?.description.contains("YYYY-MM-DD") == true)
    }

    @Test("times carry milliseconds in UTC")
    func timeFormat() throws {
        let bytes = try MessageCodec.encode(
            MigrationRequest(cutoverDate: CalendarDate("2024-01-01")!, generatedBy: "a"), jobId: "x",
            time: Date(timeIntervalSince1970: 1_800_000_000.25))
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""time":"2027-01-15T08:00:00.250Z""#))
    }

    @Test("the direct reading of YYYY-MM-DDTHH:MM:SS.mmmZ agrees with the general parser, and refuses what it refuses")
    func fastTimes() throws {
        let general = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for text in [
            "2026-11-22T10:00:00.000Z", "1970-01-01T00:00:00.001Z", "2024-02-29T23:59:59.999Z", "2099-12-31T12:34:56.789Z",
        ] {
            let direct = try #require(Timestamp.utcMilliseconds(text) as Date?, "\(text)")
            #expect(abs(direct.timeIntervalSince1970 - (try general.parse(text)).timeIntervalSince1970) < 0.0005, "\(text)")
            #expect(Timestamp.format(direct) == text)
        }
        for text in [
            "2026-11-22T24:00:00.000Z", "2026-02-30T10:00:00.000Z", "2026-11-22 10:00:00.000Z", "2026-11-22T10:00:00.00AZ",
        ] {
            #expect(Timestamp.utcMilliseconds(text) == nil, "\(text)")
            #expect(Timestamp.parse(text) == nil, "\(text)")
        }
        #expect(Timestamp.utcMilliseconds("2026-11-22T10:00:00+01:00") == nil)
        #expect(
            Timestamp.parse("2026-11-22T10:00:00+01:00") == Timestamp.parse("2026-11-22T09:00:00.000Z"),
            "other shapes still parse")
    }

    @Test("a schema version is two non-negative integers around one dot")
    func schemaVersionText() {
        #expect(SchemaVersion("1.0") == SchemaVersion(major: 1, minor: 0))
        #expect(SchemaVersion("2.13") == SchemaVersion(major: 2, minor: 13))
        for text in ["", "1", "1.", ".1", "1.0.0", "1..0", "-1.0", "1.-1", "a.b", "1.0 ", "١.٠"] {
            #expect(SchemaVersion(text) == nil, "\(text)")
        }
    }
}
