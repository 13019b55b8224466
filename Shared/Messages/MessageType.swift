/// Every message type on jobstream's topics, by its name in the envelope's `type` field.
public enum MessageType: String, CaseIterable, Codable, Sendable {
    case backfillRequest = "backfill.request"
    case backfillStatus = "backfill.status"
    case backfillChunk = "backfill.chunk"
    case migrationRequest = "migration.request"
    case migrationStatus = "migration.status"
    case migrationSlice = "migration.slice"
    case syncSessionStarted = "sync.session-started"
    case syncRecordOutcome = "sync.record-outcome"
    case syncSessionFinished = "sync.session-finished"
    case syncSessionFailed = "sync.session-failed"
    case syncHistory = "sync.history"
    case syncRetry = "sync.retry"

    /// The payload type carried by messages of this type.
    public var payloadType: any JobstreamMessage.Type {
        switch self {
        case .backfillRequest: BackfillRequest.self
        case .backfillStatus: BackfillStatusEvent.self
        case .backfillChunk: BackfillChunk.self
        case .migrationRequest: MigrationRequest.self
        case .migrationStatus: MigrationStatusEvent.self
        case .migrationSlice: MigrationSlice.self
        case .syncSessionStarted: SyncSessionStarted.self
        case .syncRecordOutcome: SyncRecordOutcome.self
        case .syncSessionFinished: SyncSessionFinished.self
        case .syncSessionFailed: SyncSessionFailed.self
        case .syncHistory: SyncHistoryEntry.self
        case .syncRetry: SyncRetryRequest.self
        }
    }
}

/// A payload that travels in an ``Envelope``.
public protocol JobstreamMessage: Codable, Sendable, Equatable {
    /// The envelope `type` of this payload.
    static var messageType: MessageType { get }

    /// Why the payload breaks a bound of ``InputLimits`` (a field too long, a control character in a
    /// name), or nil. The codec refuses such a message as it decodes it.
    var boundsProblem: String? { get }
}

extension JobstreamMessage {
    public var boundsProblem: String? { nil }
}

/// A schema version, `major.minor`. Readers accept any minor version of a major they know
/// (new fields are ignored) and refuse a newer major version.
public struct SchemaVersion: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    /// The version this build writes, and the newest major it reads.
    public static let current = SchemaVersion(major: 1, minor: 0)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses "1.0"; nil for anything else.
    public init?(_ text: String) {
        // Around the first dot, without splitting into an array (every message carries a version): a
        // second dot leaves the minor part unreadable as an integer.
        guard let dot = text.firstIndex(of: "."), let major = Int(text[..<dot]),
            let minor = Int(text[text.index(after: dot)...]), major >= 0, minor >= 0
        else { return nil }
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: SchemaVersion, rhs: SchemaVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let version = SchemaVersion(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "\"\(text)\" is not a MAJOR.MINOR version"))
        }
        self = version
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
