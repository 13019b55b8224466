import Foundation

/// Encodes and decodes jobstream's JSON envelopes.
///
/// Unknown fields are ignored. A message whose type this build does not know, whose major version is
/// newer than ``SchemaVersion/current``, or whose payload does not fit its type is refused with a
/// ``MessageDecodingError`` that says which.
public enum MessageCodec {
    /// Encodes a message as its JSON envelope.
    public static func encode<Payload: JobstreamMessage>(_ envelope: Envelope<Payload>) throws -> [UInt8] {
        if let chunk = envelope as? Envelope<BackfillChunk>, let bytes = PlainEnvelopeWriter.chunk(chunk) { return bytes }
        return try encodeWithJSONEncoder(envelope)
    }

    /// ``encode(_:)`` without its fast path (``PlainEnvelopeWriter``): the bytes that path must write.
    static func encodeWithJSONEncoder<Payload: JobstreamMessage>(_ envelope: Envelope<Payload>) throws -> [UInt8] {
        let frame = Frame(
            type: Payload.messageType, version: envelope.version, jobId: envelope.jobId,
            time: envelope.time, payload: envelope.payload)
        return Array(try makeEncoder().encode(frame))
    }

    /// Encodes `payload` for job `jobId`, stamped now.
    public static func encode<Payload: JobstreamMessage>(_ payload: Payload, jobId: String, time: Date = Date()) throws -> [UInt8]
    {
        try encode(Envelope(jobId: jobId, time: time, payload: payload))
    }

    /// Decodes an envelope of any known type, parsing the JSON once.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(MessageDecodingError) -> AnyEnvelope {
        if let envelope = PlainEnvelopeReader.envelope(bytes) { return envelope }
        return try decodeWithJSONDecoder(bytes)
    }

    /// ``decode(_:)-(ArraySlice<UInt8>)`` of a whole array.
    public static func decode(_ bytes: [UInt8]) throws(MessageDecodingError) -> AnyEnvelope {
        try decode(bytes[...])
    }

    /// ``decode(_:)`` without its fast paths (``PlainEnvelopeReader``): what the fuzzers hold them to.
    public static func decodeWithJSONDecoder(_ bytes: ArraySlice<UInt8>) throws(MessageDecodingError) -> AnyEnvelope {
        do {
            return try makeDecoder().decode(AnyFrame.self, from: Data(bytes)).envelope
        } catch let refusal as Refusal {
            throw refusal.error
        } catch let failure as PayloadFailure {
            throw MessageDecodingError.describe(failure.underlying, in: failure.type)
        } catch {
            throw MessageDecodingError.describe(error, in: nil)
        }
    }

    /// Decodes an envelope that must be of `Payload`'s type.
    public static func decode<Payload: JobstreamMessage>(
        _ bytes: [UInt8], as: Payload.Type
    ) throws(MessageDecodingError)
        -> Envelope<Payload>
    {
        let any = try decode(bytes)
        guard let envelope = any.envelope(of: Payload.self) else {
            throw .unexpectedType(expected: Payload.messageType, found: any.type)
        }
        return envelope
    }

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\(Quoted(text)) is not an RFC 3339 time such as 2026-11-22T10:00:00.000Z")
            }
            return date
        }
        return decoder
    }

    private struct Frame<Payload: JobstreamMessage>: Encodable {
        let type: MessageType
        let version: SchemaVersion
        let jobId: String
        let time: Date
        let payload: Payload
    }

    /// An envelope of any type, decoded in one pass: the envelope fields first (a fault there is an
    /// invalid envelope), then the type and version checks, then the payload as its type says.
    private struct AnyFrame: Decodable {
        let envelope: AnyEnvelope

        enum CodingKeys: String, CodingKey {
            case type, version, jobId, time, payload
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let typeName = try container.decode(String.self, forKey: .type)
            let versionText = try container.decode(String.self, forKey: .version)
            let jobId = try container.decode(String.self, forKey: .jobId)
            let time = try container.decode(Date.self, forKey: .time)
            guard let type = MessageType(rawValue: typeName) else { throw Refusal(error: .unknownType(typeName)) }
            guard let version = SchemaVersion(versionText) else {
                throw Refusal(error: .invalidEnvelope("version \(Quoted(versionText)) is not MAJOR.MINOR"))
            }
            if let problem = type.jobIdProblem(jobId) { throw Refusal(error: .invalidEnvelope("jobId: \(problem)")) }
            guard version.major <= SchemaVersion.current.major else {
                throw Refusal(error: .unsupportedVersion(type: type, version: version, newestSupported: .current))
            }
            func payload<T: JobstreamMessage>(_ payloadType: T.Type) throws -> any JobstreamMessage {
                try container.decode(payloadType, forKey: .payload)
            }
            let decoded: any JobstreamMessage
            do {
                decoded = try payload(type.payloadType)
            } catch {
                throw PayloadFailure(type: type, underlying: error)
            }
            if let problem = decoded.boundsProblem { throw Refusal(error: .invalidPayload(type: type, detail: problem)) }
            envelope = AnyEnvelope(type: type, version: version, jobId: jobId, time: time, payload: decoded)
        }
    }

    /// A message refused for what its envelope says (unknown type, unreadable or newer version).
    private struct Refusal: Error {
        let error: MessageDecodingError
    }

    /// A payload that does not fit its type.
    private struct PayloadFailure: Error {
        let type: MessageType
        let underlying: any Error
    }
}
