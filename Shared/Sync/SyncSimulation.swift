import Foundation
import JobstreamMessages
import JobstreamStore

/// Plans realistic sync sessions as a sync engine would report them, for `jobstream sync simulate`:
/// demos, tests and benchmarks. It is a simulator: no CRM is involved.
///
/// The plan is deterministic for a seed. Each planned session says what the recorder should make of
/// it, worked out from the plan itself (not from the recorder's code), so a test can compare.
public struct SyncSimulation: Sendable {
    /// What to simulate.
    public struct Settings: Sendable {
        public var sessions = 3
        public var recordsPerSession = 20
        /// The share of records that fail, 0...1.
        public var failureRate = 0.0
        /// The share of failed records whose error is retryable (a row lock) rather than needing a manual fix.
        public var retryableShare = 0.5
        /// The share of sessions a system failure ends prematurely.
        public var systemFailureRate = 0.0
        /// Every session's operation; nil mixes them.
        public var operation: SyncOperation?
        /// The share of events sent twice.
        public var duplicateRate = 0.0
        /// Sends each session's events in random order (outcomes before the start, the finish before outcomes).
        public var shuffle = false
        /// When the last session starts; earlier ones start a minute apart before it.
        public var lastStart = Date()
        public var seed: UInt64 = 1
        /// Session ids are this prefix followed by a number.
        public var sessionPrefix = "sync"

        public init() {}
    }

    /// A planned session: its events in sending order and what they should add up to.
    public struct Session: Sendable {
        public var sessionId: String
        public var operation: SyncOperation
        public var expectedStatus: SyncSessionStatus
        public var recordsSynced: Int
        public var recordsFailed: Int
        public var recordsToRetry: Int
        public var crmIdChanges: Int
        public var startedAt: Date
        public var finishedAt: Date
        /// Each event with its envelope time.
        public var events: [(payload: any JobstreamMessage, time: Date)]
    }

    public let settings: Settings

    public init(_ settings: Settings) {
        self.settings = settings
    }

    static let objectTypes = [("Account", "A"), ("Subscription", "S"), ("Invoice", "INV"), ("Payment", "P"), ("Contact", "C")]
    static let manualFixErrors = [
        ("INVALID_CRM_ACCOUNT_ID", "invalid CRM account id"),
        ("REQUIRED_FIELD_MISSING", "required field missing: Billing Country"),
    ]

    /// The sessions, in sending order.
    public func sessions() -> [Session] {
        var random = SplitMix64(seed: settings.seed)
        // Delivery (duplicates, order) draws from its own generator: the same seed plans the same
        // sessions whether or not they are delivered in disorder.
        var delivery = SplitMix64(seed: settings.seed ^ 0x5EED_DE11_7E4A_0001)
        return (0..<settings.sessions).map { number in plan(number, random: &random, delivery: &delivery) }
    }

    private func plan(_ number: Int, random: inout SplitMix64, delivery: inout SplitMix64) -> Session {
        let id = "\(settings.sessionPrefix)-\(String(format: "%06d", number + 1))"
        let operation = settings.operation ?? SyncOperation.allCases[Int(random.next() % UInt64(SyncOperation.allCases.count))]
        // Whole milliseconds, as the messages carry times.
        let startMilliseconds =
            Int64((settings.lastStart.timeIntervalSince1970 * 1000).rounded(.down))
            - Int64(settings.sessions - 1 - number) * 60_000
        func at(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
        let startedAt = at(startMilliseconds)
        let failsWhole = random.chance(settings.systemFailureRate)
        // A failed session stops part-way through its records.
        let recordCount = failsWhole ? settings.recordsPerSession / 2 : settings.recordsPerSession
        var events: [(payload: any JobstreamMessage, time: Date)] = [
            (SyncSessionStarted(operation: operation, startedAt: startedAt), startedAt)
        ]
        var session = Session(
            sessionId: id, operation: operation, expectedStatus: .finished, recordsSynced: 0, recordsFailed: 0,
            recordsToRetry: 0, crmIdChanges: 0, startedAt: startedAt, finishedAt: startedAt, events: [])
        for index in 0..<recordCount {
            let (type, prefix) = Self.objectTypes[index % Self.objectTypes.count]
            let objectId = "\(prefix)-\(String(format: "%08d", (number * settings.recordsPerSession + index) % 100_000_000))"
            let crmId = "001" + String(random.next() % 1_000_000_000_000, radix: 36).uppercased()
            let time = at(startMilliseconds + Int64(index + 1) * 10)
            let outcome: SyncRecordOutcome
            if random.chance(settings.failureRate) {
                session.recordsFailed += 1
                if random.chance(settings.retryableShare) {
                    session.recordsToRetry += 1
                    outcome = SyncRecordOutcome(
                        objectType: type, objectId: objectId, crmId: crmId, success: false,
                        errorCode: "UNABLE_TO_LOCK_ROW",
                        errorMessage: "unable to obtain exclusive access to this record", retryable: true)
                } else {
                    let (code, message) = Self.manualFixErrors[index % Self.manualFixErrors.count]
                    outcome = SyncRecordOutcome(
                        objectType: type, objectId: objectId, crmId: crmId, success: false,
                        errorCode: code, errorMessage: "\(message) (\(crmId))", retryable: false)
                }
            } else {
                session.recordsSynced += 1
                let changed = random.chance(0.02)
                if changed { session.crmIdChanges += 1 }
                outcome = SyncRecordOutcome(
                    objectType: type, objectId: objectId, crmId: crmId, success: true,
                    crmIdChange: changed ? CrmIdChange(previousCrmId: crmId + "X", newCrmId: crmId) : nil)
            }
            events.append((outcome, time))
        }
        let endedAt = at(startMilliseconds + Int64(recordCount + 1) * 10)
        session.finishedAt = endedAt
        if failsWhole {
            let failure = SyncSystemFailure.allCases[Int(random.next() % UInt64(SyncSystemFailure.allCases.count))]
            events.append(
                (
                    SyncSessionFailed(
                        failedAt: endedAt, failure: failure, reason: "simulated \(failure.rawValue.lowercased()) failure"),
                    endedAt
                ))
            session.expectedStatus = .failure
        } else {
            events.append((SyncSessionFinished(finishedAt: endedAt, recordCount: recordCount), endedAt))
            session.expectedStatus = session.recordsFailed > 0 ? .finishedWithErrors : .finished
        }
        if settings.duplicateRate > 0 {
            events = events.flatMap { delivery.chance(settings.duplicateRate) ? [$0, $0] : [$0] }
        }
        if settings.shuffle {
            events.shuffle(using: &delivery)
        }
        session.events = events
        return session
    }
}

extension SplitMix64 {
    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double(next() >> 11) / Double(1 << 53) < p
    }
}
