import Foundation

/// The frame of every message on jobstream's topics:
/// `{"type": "...", "version": "1.0", "jobId": "...", "time": "2026-11-22T10:00:00.000Z", "payload": {...}}`.
///
/// `jobId` is the job (backfill or migration id, or sync session id) the message belongs to; it is
/// also the Kafka key, so every message of one job stays in order on one partition.
public struct Envelope<Payload: JobstreamMessage>: Sendable, Equatable {
    public var version: SchemaVersion
    public var jobId: String
    public var time: Date
    public var payload: Payload

    public init(jobId: String, time: Date = Date(), payload: Payload, version: SchemaVersion = .current) {
        self.version = version
        self.jobId = jobId
        self.time = time
        self.payload = payload
    }

    public var type: MessageType { Payload.messageType }
}

/// A decoded message of any type, for consumers whose topic carries several.
public struct AnyEnvelope: Sendable {
    public let type: MessageType
    public let version: SchemaVersion
    public let jobId: String
    public let time: Date
    public let payload: any JobstreamMessage

    init(type: MessageType, version: SchemaVersion, jobId: String, time: Date, payload: any JobstreamMessage) {
        self.type = type
        self.version = version
        self.jobId = jobId
        self.time = time
        self.payload = payload
    }

    /// A typed envelope as one of any type.
    public init<T: JobstreamMessage>(_ envelope: Envelope<T>) {
        self.init(
            type: T.messageType, version: envelope.version, jobId: envelope.jobId, time: envelope.time,
            payload: envelope.payload)
    }

    /// The payload as `T`, or nil if the message is of another type.
    ///
    /// Each message type has one payload type, so the type is compared first: a consumer trying
    /// several types in turn pays for a dynamic cast only on the one that matches.
    public func payload<T: JobstreamMessage>(as: T.Type) -> T? {
        guard type == T.messageType else { return nil }
        return payload as? T
    }

    /// The message as a typed envelope, or nil if it is of another type.
    public func envelope<T: JobstreamMessage>(of: T.Type) -> Envelope<T>? {
        guard let payload = payload(as: T.self) else { return nil }
        return Envelope(jobId: jobId, time: time, payload: payload, version: version)
    }
}

extension AnyEnvelope {
    /// The message encoded again, as ``MessageCodec/encode(_:)`` writes it.
    public func encoded() throws -> [UInt8] {
        let value: any JobstreamMessage = self.payload
        return try encodePayload(value)
    }

    private func encodePayload<T: JobstreamMessage>(_ payload: T) throws -> [UInt8] {
        try MessageCodec.encode(Envelope(jobId: jobId, time: time, payload: payload, version: version))
    }
}
