import Foundation

/// Encodes and decodes jobstream's JSON envelopes.
///
/// Unknown fields are ignored. A message whose type this build does not know, whose major version is
/// newer than ``SchemaVersion/current``, or whose payload does not fit its type is refused with a
/// ``MessageDecodingError`` that says which.
public enum MessageCodec {
    /// Encodes a message as its JSON envelope.
    public static func encode<Payload: JobstreamMessage>(_ envelope: Envelope<Payload>) throws -> [UInt8] {
        let frame = Frame(type: Payload.messageType, version: envelope.version, jobId: envelope.jobId,
                          time: envelope.time, payload: envelope.payload)
        return Array(try makeEncoder().encode(frame))
    }

    /// Encodes `payload` for job `jobId`, stamped now.
    public static func encode<Payload: JobstreamMessage>(_ payload: Payload, jobId: String, time: Date = Date()) throws -> [UInt8] {
        try encode(Envelope(jobId: jobId, time: time, payload: payload))
    }

    /// Decodes an envelope of any known type.
    public static func decode(_ bytes: [UInt8]) throws(MessageDecodingError) -> AnyEnvelope {
        let data = Data(bytes)
        let decoder = makeDecoder()
        let header: Header
        do {
            header = try decoder.decode(Header.self, from: data)
        } catch {
            throw MessageDecodingError.describe(error, in: nil)
        }
        guard let type = MessageType(rawValue: header.type) else {
            throw .unknownType(header.type)
        }
        guard let version = SchemaVersion(header.version) else {
            throw .invalidEnvelope("version \"\(header.version)\" is not MAJOR.MINOR")
        }
        guard version.major <= SchemaVersion.current.major else {
            throw .unsupportedVersion(type: type, version: version, newestSupported: .current)
        }
        let payload: any JobstreamMessage
        do {
            payload = try decodePayload(type.payloadType, from: data, decoder: decoder)
        } catch {
            throw MessageDecodingError.describe(error, in: type)
        }
        return AnyEnvelope(type: type, version: version, jobId: header.jobId, time: header.time, payload: payload)
    }

    /// Decodes an envelope that must be of `Payload`'s type.
    public static func decode<Payload: JobstreamMessage>(_ bytes: [UInt8], as: Payload.Type) throws(MessageDecodingError)
        -> Envelope<Payload> {
        let any = try decode(bytes)
        guard let envelope = any.envelope(of: Payload.self) else {
            throw .unexpectedType(expected: Payload.messageType, found: any.type)
        }
        return envelope
    }

    private static func decodePayload<Payload: JobstreamMessage>(_ type: Payload.Type, from data: Data,
                                                                 decoder: JSONDecoder) throws -> Payload {
        try decoder.decode(PayloadOnly<Payload>.self, from: data).payload
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
                    in: container, debugDescription: "\"\(text)\" is not an RFC 3339 time such as 2026-11-22T10:00:00.000Z")
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

    /// The envelope fields every reader needs before it knows the payload type.
    private struct Header: Decodable {
        let type: String
        let version: String
        let jobId: String
        let time: Date
    }

    private struct PayloadOnly<Payload: JobstreamMessage>: Decodable {
        let payload: Payload
    }
}
