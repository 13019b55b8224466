import Foundation

/// Reads a sync history envelope (`syncHistory`, the dashboard's most frequent message by far) without
/// `JSONDecoder`, which was three fifths of a dashboard's start-up.
///
/// It reads only the plain shape the services write: one object of known keys, no whitespace, strings
/// without escapes, integers without fraction or exponent. For anything else — another type, an
/// unknown or repeated key, an escape, a number it does not read, a value that breaks a check — it
/// returns nil and ``MessageCodec/decode(_:)`` decodes the message with `JSONDecoder` as before. So it
/// never accepts a message that decoder refuses, and what it accepts it reads as that decoder would.
enum SyncHistoryEntryReader {
    static func envelope(_ bytes: [UInt8]) -> AnyEnvelope? {
        var scanner = FlatJSONScanner(bytes: bytes)
        var typeName: String?
        var versionText: String?
        var jobId: String?
        var timeText: String?
        var entry: SyncHistoryEntry?
        guard
            scanner.object({ key, scanner in
                // A value that does not read, or a key seen before, ends the reading.
                switch key {
                case .type where typeName == nil: typeName = scanner.string()
                case .version where versionText == nil: versionText = scanner.string()
                case .jobId where jobId == nil: jobId = scanner.string()
                case .time where timeText == nil: timeText = scanner.string()
                case .payload where entry == nil: entry = payload(&scanner)
                default: return false
                }
                switch key {
                case .type: return typeName != nil
                case .version: return versionText != nil
                case .jobId: return jobId != nil
                case .time: return timeText != nil
                case .payload: return entry != nil
                }
            }), scanner.isAtEnd,
            typeName == MessageType.syncHistory.rawValue, let versionText, let jobId, let timeText, let entry,
            let version = SchemaVersion(versionText), version.major <= SchemaVersion.current.major,
            let time = Timestamp.parse(timeText),
            MessageType.syncHistory.jobIdProblem(jobId) == nil, entry.boundsProblem == nil
        else { return nil }
        return AnyEnvelope(type: .syncHistory, version: version, jobId: jobId, time: time, payload: entry)
    }

    /// The payload object, or nil where a key is unknown, repeated or missing, or a value is not as the
    /// entry's `Decodable` conformance takes it (an optional may be null or absent).
    private static func payload(_ scanner: inout FlatJSONScanner) -> SyncHistoryEntry? {
        var operation: SyncOperation?
        var status: SyncSessionStatus?
        var startedAt: Date??
        var finishedAt: Date??
        var recordsExpected: Int??
        var counts: [PayloadKey: Int] = [:]
        var failure: SyncSystemFailure??
        var failureReason: String??
        let read = scanner.payloadObject { key, scanner in
            switch key {
            case .operation where operation == nil:
                operation = scanner.string().flatMap(SyncOperation.init(rawValue:))
                return operation != nil
            case .status where status == nil:
                status = scanner.string().flatMap(SyncSessionStatus.init(rawValue:))
                return status != nil
            case .startedAt where startedAt == nil:
                startedAt = scanner.nullOr { $0.string().flatMap(Timestamp.parse) }
                return startedAt != nil
            case .finishedAt where finishedAt == nil:
                finishedAt = scanner.nullOr { $0.string().flatMap(Timestamp.parse) }
                return finishedAt != nil
            case .recordsExpected where recordsExpected == nil:
                recordsExpected = scanner.nullOr { $0.integer() }
                return recordsExpected != nil
            case .failure where failure == nil:
                failure = scanner.nullOr { $0.string().flatMap(SyncSystemFailure.init(rawValue:)) }
                return failure != nil
            case .failureReason where failureReason == nil:
                failureReason = scanner.nullOr { $0.string() }
                return failureReason != nil
            case .recordsSynced, .recordsFailed, .recordsToRetry, .recordsNeedingFix, .crmIdChanges:
                guard counts[key] == nil, let count = scanner.integer() else { return false }
                counts[key] = count
                return true
            default:
                return false
            }
        }
        guard read, let operation, let status, let synced = counts[.recordsSynced], let failed = counts[.recordsFailed],
            let toRetry = counts[.recordsToRetry], let needingFix = counts[.recordsNeedingFix],
            let crmIdChanges = counts[.crmIdChanges]
        else { return nil }
        return SyncHistoryEntry(
            operation: operation, status: status, startedAt: startedAt ?? nil, finishedAt: finishedAt ?? nil,
            recordsExpected: recordsExpected ?? nil, recordsSynced: synced, recordsFailed: failed, recordsToRetry: toRetry,
            recordsNeedingFix: needingFix, crmIdChanges: crmIdChanges, failure: failure ?? nil,
            failureReason: failureReason ?? nil)
    }

    /// The envelope's keys.
    enum EnvelopeKey: String, CaseIterable {
        case type, version, jobId, time, payload
    }

    /// The payload's keys.
    enum PayloadKey: String, CaseIterable {
        case operation, status, startedAt, finishedAt, recordsExpected, recordsSynced, recordsFailed, recordsToRetry
        case recordsNeedingFix, crmIdChanges, failure, failureReason
    }
}

/// A cursor over JSON text that reads objects of known keys and plain values only; every read returns
/// nil (or false) at the first thing it does not read.
struct FlatJSONScanner {
    let bytes: [UInt8]
    private(set) var index = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }

    /// An object of envelope keys; `member` reads each value and says whether it could.
    mutating func object(
        _ member: (SyncHistoryEntryReader.EnvelopeKey, inout FlatJSONScanner) -> Bool
    ) -> Bool {
        members { key, scanner in
            guard let key = SyncHistoryEntryReader.EnvelopeKey(rawValue: key) else { return false }
            return member(key, &scanner)
        }
    }

    /// An object of payload keys.
    mutating func payloadObject(
        _ member: (SyncHistoryEntryReader.PayloadKey, inout FlatJSONScanner) -> Bool
    ) -> Bool {
        members { key, scanner in
            guard let key = SyncHistoryEntryReader.PayloadKey(rawValue: key) else { return false }
            return member(key, &scanner)
        }
    }

    private mutating func members(_ member: (String, inout FlatJSONScanner) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// A string without escapes or control characters, of valid UTF-8.
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                // ASCII is valid UTF-8 as it stands; only other text needs the (slower) validation.
                return ascii
                    ? String(decoding: bytes[start..<index], as: UTF8.self)
                    : String(validating: bytes[start..<index], as: UTF8.self)
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { return nil }
            ascii = ascii && byte < 0x80
            index += 1
        }
        return nil
    }

    /// An integer as JSON writes one (no leading zero, no "-0"), of at most 18 digits.
    mutating func integer() -> Int? {
        let negative = take(UInt8(ascii: "-"))
        let start = index
        var value = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            // Eighteen digits always fit in an Int; a longer run is refused before it could overflow.
            guard index - start < 18 else { return nil }
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        let digits = index - start
        guard digits >= 1, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
        guard index == bytes.count || [UInt8(ascii: ","), UInt8(ascii: "}")].contains(bytes[index]) else { return nil }
        if negative && value == 0 { return nil }
        return negative ? -value : value
    }

    /// `null` (as `.some(nil)`), else what `value` reads; nil when neither reads.
    mutating func nullOr<T>(_ value: (inout FlatJSONScanner) -> T?) -> T?? {
        if bytes[index...].starts(with: [UInt8(ascii: "n"), UInt8(ascii: "u"), UInt8(ascii: "l"), UInt8(ascii: "l")]) {
            index += 4
            return .some(nil)
        }
        return value(&self).map { .some($0) }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }
}
