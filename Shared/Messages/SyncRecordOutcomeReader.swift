/// Reads a record outcome's payload in the plain shape (``PlainEnvelopeReader``): the sync recorder's
/// message by the million.
enum SyncRecordOutcomeReader {
    /// The envelope of a record outcome, or nil (``PlainEnvelopeReader/envelope(_:of:payload:)``).
    static func envelope(_ bytes: ArraySlice<UInt8>) -> AnyEnvelope? {
        PlainEnvelopeReader.envelope(bytes, of: SyncRecordOutcome.self, payload: payload)
    }

    /// The payload object, or nil where a key is unknown, repeated or missing, or a value is not as the
    /// outcome's `Decodable` conformance takes it (an optional may be null or absent).
    static func payload(_ scanner: inout FlatJSONScanner) -> SyncRecordOutcome? {
        var objectType, objectId: String?
        var crmId, errorCode, errorMessage: String??
        var success, retryable: Bool?
        var crmIdChange: CrmIdChange??
        let read = scanner.object(keyedBy: PayloadKey.self) { key, scanner in
            switch key {
            case .objectType where objectType == nil:
                objectType = scanner.string()
                return objectType != nil
            case .objectId where objectId == nil:
                objectId = scanner.string()
                return objectId != nil
            case .crmId where crmId == nil:
                crmId = scanner.nullOr { $0.string() }
                return crmId != nil
            case .errorCode where errorCode == nil:
                errorCode = scanner.nullOr { $0.string() }
                return errorCode != nil
            case .errorMessage where errorMessage == nil:
                errorMessage = scanner.nullOr { $0.string() }
                return errorMessage != nil
            case .success where success == nil:
                success = scanner.bool()
                return success != nil
            case .retryable where retryable == nil:
                retryable = scanner.bool()
                return retryable != nil
            case .crmIdChange where crmIdChange == nil:
                crmIdChange = scanner.nullOr(change)
                return crmIdChange != nil
            default:
                return false
            }
        }
        guard read, let objectType, let objectId, let success, let retryable else { return nil }
        return SyncRecordOutcome(
            objectType: objectType, objectId: objectId, crmId: crmId ?? nil, success: success,
            errorCode: errorCode ?? nil, errorMessage: errorMessage ?? nil, retryable: retryable,
            crmIdChange: crmIdChange ?? nil)
    }

    /// A `crmIdChange` object: both ids, nothing else.
    private static func change(_ scanner: inout FlatJSONScanner) -> CrmIdChange? {
        var previous, new: String?
        let read = scanner.object(keyedBy: ChangeKey.self) { key, scanner in
            switch key {
            case .previousCrmId where previous == nil:
                previous = scanner.string()
                return previous != nil
            case .newCrmId where new == nil:
                new = scanner.string()
                return new != nil
            default:
                return false
            }
        }
        guard read, let previous, let new else { return nil }
        return CrmIdChange(previousCrmId: previous, newCrmId: new)
    }

    /// The payload's keys.
    enum PayloadKey: String {
        case objectType, objectId, crmId, success, errorCode, errorMessage, retryable, crmIdChange
    }

    /// The keys of a `crmIdChange`.
    enum ChangeKey: String {
        case previousCrmId, newCrmId
    }
}
