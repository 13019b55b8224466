import Foundation
import JobstreamMessages
import JobstreamStore
import Testing

@testable import JobstreamSync

@Suite("Sync session facts and status")
struct SyncSessionFactsTests {
    let start = SyncSessionStarted(operation: .scheduled, startedAt: Date(timeIntervalSince1970: 1_000))
    let finish = SyncSessionFinished(finishedAt: Date(timeIntervalSince1970: 2_000), recordCount: 2)
    let failed = SyncSessionFailed(failedAt: Date(timeIntervalSince1970: 1_500), failure: .storage, reason: "disk full")

    func facts(_ events: [any JobstreamMessage], synced: Int = 0, failed: Int = 0) -> SyncSessionFacts {
        var batch = SyncEventBatch()
        for event in events { batch.add(event, sessionId: "s") }
        var facts = batch.facts["s"] ?? SyncSessionFacts()
        facts.recordsSynced = synced
        facts.recordsFailed = failed
        return facts
    }

    @Test("Finished once the finish and every announced outcome arrived")
    func finished() {
        #expect(facts([start, finish], synced: 2).status == .finished)
        #expect(facts([start, finish], synced: 2).finishedAt == finish.finishedAt)
        #expect(facts([start, finish], synced: 1).status == .running, "one outcome still to come")
        #expect(facts([start], synced: 2).status == .running, "no finish yet")
        #expect(facts([finish], synced: 2).status == .running, "the start (and operation) not known yet")
    }

    @Test("Finished with Errors when a record failed")
    func finishedWithErrors() {
        #expect(facts([start, finish], synced: 1, failed: 1).status == .finishedWithErrors)
    }

    @Test("Failure wins over a finish, and needs the start too")
    func failure() {
        #expect(facts([start, failed], synced: 1).status == .failure)
        #expect(facts([start, failed], synced: 1).finishedAt == failed.failedAt)
        #expect(facts([finish, start, failed], synced: 2).status == .failure)
        #expect(facts([failed]).status == .running)
    }

    @Test("Every order and any duplicate of the same events gives the same facts")
    func orderIndependent() {
        let events: [any JobstreamMessage] = [start, finish, failed, start, finish]
        let expected = facts(Array(events.prefix(3)))
        var generator = SplitMix64(seed: 7)
        for _ in 0..<50 {
            #expect(facts(events.shuffled(using: &generator)) == expected)
        }
    }

    @Test("Only a status that asks for one publishes a retry")
    func retries() {
        #expect(SyncSessionStatus.failure.needsRetry(recordsToRetry: 0))
        #expect(SyncSessionStatus.finishedWithErrors.needsRetry(recordsToRetry: 1))
        #expect(
            !SyncSessionStatus.finishedWithErrors.needsRetry(recordsToRetry: 0), "manual fixes only: nothing to retry by itself")
        #expect(!SyncSessionStatus.finished.needsRetry(recordsToRetry: 0))
    }

    @Test("A batch keeps one outcome per record")
    func batchDeduplicates() {
        var batch = SyncEventBatch()
        let outcome = SyncRecordOutcome(objectType: "Account", objectId: "A-1", success: true)
        batch.add(outcome, sessionId: "s")
        batch.add(outcome, sessionId: "s")
        batch.add(outcome, sessionId: "t")
        #expect(batch.outcomes.count == 2)
        #expect(Set(batch.facts.keys) == ["s", "t"])
    }

    @Test("Events the recorder cannot record are refused with the reason")
    func checks() throws {
        /// Why an event is refused: by the codec as it decodes (bounds), or by the recorder's check.
        func problem(_ payload: some JobstreamMessage, session: String = "s-1") -> String? {
            do {
                let decoded = try MessageCodec.decode(try MessageCodec.encode(Envelope(jobId: session, payload: payload)))
                return SyncEventCheck.problem(in: decoded)
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(start) == nil)
        #expect(problem(start, session: " ")?.contains("session id") == true)
        #expect(problem(start, session: String(repeating: "x", count: 201))?.contains("201 bytes long; at most 200") == true)
        #expect(problem(start, session: "s\u{0}1")?.contains("control character") == true)
        #expect(
            problem(SyncRecordOutcome(objectType: "Account", objectId: "", success: true))?.contains("objectId is empty") == true)
        #expect(
            problem(
                SyncRecordOutcome(
                    objectType: "Account", objectId: "A-1", success: false, errorCode: "X",
                    errorMessage: "a\u{0}b"))?.contains("NUL") == true)
        #expect(problem(SyncRecordOutcome(objectType: "Account", objectId: "A-1", success: false))?.contains("errorCode") == true)
        #expect(problem(SyncSessionFinished(finishedAt: Date(), recordCount: -1))?.contains("negative") == true)
    }

    @Test("The simulator's plan is repeatable and adds up")
    func simulation() {
        var settings = SyncSimulation.Settings()
        settings.sessions = 20
        settings.recordsPerSession = 50
        settings.failureRate = 0.02
        settings.systemFailureRate = 0.2
        settings.duplicateRate = 0.1
        settings.shuffle = true
        let first = SyncSimulation(settings).sessions()
        let second = SyncSimulation(settings).sessions()
        #expect(first.map(\.sessionId) == second.map(\.sessionId))
        #expect(first.map(\.expectedStatus) == second.map(\.expectedStatus))
        #expect(Set(first.map(\.expectedStatus)).count == 3, "this seed plans all three statuses")
        for session in first {
            var batch = SyncEventBatch()
            for event in session.events { batch.add(event.payload, sessionId: session.sessionId) }
            let failed = batch.outcomes.count { !$0.outcome.success }
            var facts = batch.facts[session.sessionId]!
            facts.recordsSynced = batch.outcomes.count - failed
            facts.recordsFailed = failed
            #expect(facts.status == session.expectedStatus, "\(session.sessionId)")
            #expect(facts.recordsSynced == session.recordsSynced && facts.recordsFailed == session.recordsFailed)
        }
    }
}
