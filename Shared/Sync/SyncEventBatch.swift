import Foundation
import JobstreamMessages

/// A record outcome with the session it belongs to.
public struct SessionRecordOutcome: Sendable, Equatable {
    public let sessionId: String
    public let outcome: SyncRecordOutcome

    /// A record is synced once per session: session, object type and object id identify its outcome.
    public var key: RecordKey { RecordKey(sessionId: sessionId, objectType: outcome.objectType, objectId: outcome.objectId) }

    public struct RecordKey: Hashable, Sendable {
        public let sessionId: String
        public let objectType: String
        public let objectId: String
    }
}

/// The sync events of one consumed batch, folded by session: the session facts they carry and the
/// record outcomes, each outcome once (the first of any duplicates in the batch).
public struct SyncEventBatch: Sendable {
    /// Facts by session id, for every session the batch mentions (an outcome alone creates an entry).
    public private(set) var facts: [String: SyncSessionFacts] = [:]
    public private(set) var outcomes: [SessionRecordOutcome] = []
    private var seenOutcomes: Set<SessionRecordOutcome.RecordKey> = []

    public init() {}

    /// Adds one event; `sessionId` is its envelope's job id. Events this batch does not record are ignored.
    public mutating func add(_ payload: any JobstreamMessage, sessionId: String) {
        switch payload {
        case let started as SyncSessionStarted: facts[sessionId, default: .init()].add(started)
        case let finished as SyncSessionFinished: facts[sessionId, default: .init()].add(finished)
        case let failed as SyncSessionFailed: facts[sessionId, default: .init()].add(failed)
        case var outcome as SyncRecordOutcome:
            if facts[sessionId] == nil { facts[sessionId] = .init() }
            outcome.errorMessage = outcome.errorMessage.map { TextRule.cut($0, toBytes: InputLimits.messageTextBytes) }
            let entry = SessionRecordOutcome(sessionId: sessionId, outcome: outcome)
            if seenOutcomes.insert(entry.key).inserted { outcomes.append(entry) }
        default: break
        }
    }

    public var isEmpty: Bool { facts.isEmpty }
}

/// Checks a sync event before it is recorded; a message that fails goes to the dead-letter topic
/// with the reason, and the rest of its batch is recorded. (Its fields' bounds are checked by the
/// codec, ``InputLimits``.)
public enum SyncEventCheck {
    /// Why the recorder cannot record `envelope`, or nil if it can.
    public static func problem(in envelope: AnyEnvelope) -> String? {
        switch envelope.payload {
        case let outcome as SyncRecordOutcome:
            if !outcome.success, (outcome.errorCode ?? "").trimmingSpaces.isEmpty {
                return "a failed record outcome needs an errorCode (\(Quoted(outcome.objectType)) \(Quoted(outcome.objectId)))"
            }
        case let finished as SyncSessionFinished where finished.recordCount < 0:
            return "recordCount \(finished.recordCount) is negative"
        default: break
        }
        return nil
    }
}
