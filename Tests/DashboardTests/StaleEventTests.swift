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
}
