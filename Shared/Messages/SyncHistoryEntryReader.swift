import Foundation

/// Reads a sync history entry's payload in the plain shape (``PlainEnvelopeReader``).
enum SyncHistoryEntryReader {
    /// The envelope of a sync history entry, or nil (``PlainEnvelopeReader/envelope(_:of:payload:)``).
    static func envelope(_ bytes: ArraySlice<UInt8>) -> AnyEnvelope? {
        PlainEnvelopeReader.envelope(bytes, of: SyncHistoryEntry.self, payload: payload)
    }

    /// The payload object, or nil where a key is unknown, repeated or missing, or a value is not as the
    /// entry's `Decodable` conformance takes it (an optional may be null or absent).
    static func payload(_ scanner: inout FlatJSONScanner) -> SyncHistoryEntry? {
        var operation: SyncOperation?
        var status: SyncSessionStatus?
        var startedAt: Date??
        var finishedAt: Date??
        var recordsExpected: Int??
        var synced, failed, toRetry, needingFix, crmIdChanges: Int?
        var failure: SyncSystemFailure??
        var failureReason: String??
        let read = scanner.object(keyedBy: PayloadKey.self) { key, scanner in
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
            case .recordsSynced where synced == nil:
                synced = scanner.integer()
                return synced != nil
            case .recordsFailed where failed == nil:
                failed = scanner.integer()
                return failed != nil
            case .recordsToRetry where toRetry == nil:
                toRetry = scanner.integer()
                return toRetry != nil
            case .recordsNeedingFix where needingFix == nil:
                needingFix = scanner.integer()
                return needingFix != nil
            case .crmIdChanges where crmIdChanges == nil:
                crmIdChanges = scanner.integer()
                return crmIdChanges != nil
            default:
                return false
            }
        }
        guard read, let operation, let status, let synced, let failed, let toRetry, let needingFix, let crmIdChanges
        else { return nil }
        return SyncHistoryEntry(
            operation: operation, status: status, startedAt: startedAt ?? nil, finishedAt: finishedAt ?? nil,
            recordsExpected: recordsExpected ?? nil, recordsSynced: synced, recordsFailed: failed, recordsToRetry: toRetry,
            recordsNeedingFix: needingFix, crmIdChanges: crmIdChanges, failure: failure ?? nil,
            failureReason: failureReason ?? nil)
    }

    /// The payload's keys.
    enum PayloadKey: String {
        case operation, status, startedAt, finishedAt, recordsExpected, recordsSynced, recordsFailed, recordsToRetry
        case recordsNeedingFix, crmIdChanges, failure, failureReason
    }
}
