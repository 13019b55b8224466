import Foundation

/// Reads an envelope in the plain shape the services write, without `JSONDecoder`, for the message
/// types that come by the hundred thousand: sync history entries (three fifths of a dashboard's
/// start-up went to `JSONDecoder`), record outcomes (as much of a sync recorder's time as SQLite's
/// inserts) and backfill chunks (a thousand rows each).
///
/// The plain shape is one object of known keys, no whitespace, strings without escapes, integers
/// without fraction or exponent. For anything else — another type, an unknown or repeated key, an
/// escape, a number it does not read, a value that breaks a check — it returns nil and
/// ``MessageCodec/decode(_:)`` decodes the message with `JSONDecoder` as before. So it never accepts a
/// message that decoder refuses, and what it accepts it reads as that decoder would.
enum PlainEnvelopeReader {
    /// A reader of one payload type's object, or nil where it does not read it.
    typealias PayloadReader<T> = (inout FlatJSONScanner) -> T?

    /// The envelope of a sync history entry, a record outcome or a backfill chunk, or nil. The envelope
    /// is scanned once; its payload is tried as each type in turn, each reader giving up at the first
    /// key it does not know (no two of the payloads share a key), and the `type` read must be the payload's.
    static func envelope(_ bytes: ArraySlice<UInt8>) -> AnyEnvelope? {
        envelope(bytes) { scanner in
            var attempt = scanner
            if let outcome = SyncRecordOutcomeReader.payload(&attempt) {
                scanner = attempt
                return outcome
            }
            attempt = scanner
            if let entry = SyncHistoryEntryReader.payload(&attempt) {
                scanner = attempt
                return entry
            }
            return BackfillChunkReader.payload(&scanner)
        }
    }

    /// The envelope of a `T`, read by `payload`, or nil.
    static func envelope<T: JobstreamMessage>(
        _ bytes: ArraySlice<UInt8>, of: T.Type, payload readPayload: PayloadReader<T>
    ) -> AnyEnvelope? {
        envelope(bytes) { scanner in readPayload(&scanner) }
    }

    /// The envelope whose payload `readPayload` reads, or nil; its `type` must be the payload's.
    private static func envelope(
        _ bytes: ArraySlice<UInt8>, payload readPayload: PayloadReader<any JobstreamMessage>
    ) -> AnyEnvelope? {
        var scanner = FlatJSONScanner(bytes: bytes)
        var typeName: String?
        var versionText: String?
        var jobId: String?
        var timeText: String?
        var payload: (any JobstreamMessage)?
        guard
            scanner.object(
                keyedBy: EnvelopeKey.self,
                { key, scanner in
                    // A value that does not read, or a key seen before, ends the reading.
                    switch key {
                    case .type where typeName == nil: typeName = scanner.string()
                    case .version where versionText == nil: versionText = scanner.string()
                    case .jobId where jobId == nil: jobId = scanner.string()
                    case .time where timeText == nil: timeText = scanner.string()
                    case .payload where payload == nil: payload = readPayload(&scanner)
                    default: return false
                    }
                    switch key {
                    case .type: return typeName != nil
                    case .version: return versionText != nil
                    case .jobId: return jobId != nil
                    case .time: return timeText != nil
                    case .payload: return payload != nil
                    }
                }), scanner.isAtEnd,
            let payload, let typeName, case let type = Swift.type(of: payload).messageType, typeName == type.rawValue,
            let versionText, let jobId, let timeText, let version = SchemaVersion(versionText),
            version.major <= SchemaVersion.current.major,
            let time = Timestamp.parse(timeText),
            type.jobIdProblem(jobId) == nil, payload.boundsProblem == nil
        else { return nil }
        return AnyEnvelope(type: type, version: version, jobId: jobId, time: time, payload: payload)
    }

    /// The envelope's keys.
    enum EnvelopeKey: String {
        case type, version, jobId, time, payload
    }
}
