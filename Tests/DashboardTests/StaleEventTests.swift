import Foundation
import JobstreamMessages
import Testing

@testable import JobstreamDashboard

@Suite("The board keeps each job's newest state")
struct StaleEventTests {
    func event(_ status: BackfillStatus, sequence: Int?) -> AnyEnvelope {
        AnyEnvelope(
            Envelope(
                jobId: "job-1",
                payload: BackfillStatusEvent(
                    action: "update-rate-plan-charge", generatedBy: "x",
                    status: status, sequence: sequence)))
    }

    @Test("an event numbered lower than the one held (a stale owner's, arriving late) is ignored")
    func staleIgnored() async {
        let board = StatusBoard()
        #expect(await board.apply(event(.processing, sequence: 7)) == .backfills)
        #expect(await board.apply(event(.completed, sequence: 9)) == .backfills)
        #expect(await board.apply(event(.processing, sequence: 8)) == nil)
        #expect(await board.backfill("job-1")?.status == .completed)
        #expect(await board.apply(event(.completed, sequence: 9)) == .backfills, "the same state again is taken")
        #expect(await board.apply(event(.failed, sequence: nil)) == .backfills, "an event without a number is taken in order")
    }

    @Test("a batch is taken in order, its ignored events returned, and each changed log announced once")
    func batch() async {
        let board = StatusBoard()
        let changes = await board.changes()
        let session = AnyEnvelope(
            Envelope(
                jobId: "session-1",
                payload: SyncHistoryEntry(
                    operation: .manual, status: .running, startedAt: Date(timeIntervalSince1970: 1_800_000_000),
                    recordsSynced: 0, recordsFailed: 0)))
        let ignored = await board.apply([
            .event(event(.processing, sequence: 7)), .event(event(.completed, sequence: 9)),
            .event(event(.processing, sequence: 8)), .event(session), .syncSessionRemoved("session-1"),
            .syncSessionRemoved("never-seen"),
        ])
        #expect(ignored == [2], "only the stale event changed nothing")
        #expect(await board.backfill("job-1")?.status == .completed)
        #expect(await board.syncHistory(SyncFilter(), limit: 10).matching == 0, "the session was removed after it came")
        await board.close()
        var announced: [StatusBoard.Log] = []
        for await log in changes { announced.append(log) }
        #expect(announced == [.backfills, .sync])
    }
}
