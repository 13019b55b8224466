import JobstreamMessages
import Testing

@Suite("Status enums")
struct JobStatusTests {
    @Test("display names are the documentation's, exactly")
    func displayNames() {
        #expect(
            BackfillStatus.allCases.map(\.displayName) == [
                "Accepted", "Pending", "Processing", "Paused", "Failed", "Completed", "Canceled",
            ])
        #expect(
            MigrationStatus.allCases.map(\.displayName) == ["Accepted", "In progress", "Error", "Completed", "Completed-Warning"])
        #expect(SyncSessionStatus.allCases.map(\.displayName) == ["Running", "Finished", "Finished with Errors", "Failure"])
        #expect(SyncOperation.allCases.map(\.rawValue) == ["Manual", "Scheduled", "Real-time", "On-demand", "Clean-up"])
    }

    /// The complete transition table: every (from, to) pair not listed is illegal.
    @Test("backfill transitions are exactly the table")
    func backfillTable() {
        let legal: Set<[BackfillStatus]> = [
            [.accepted, .pending], [.accepted, .processing], [.accepted, .failed],
            [.pending, .processing], [.pending, .failed], [.pending, .canceled],
            [.processing, .completed], [.processing, .failed], [.processing, .canceled], [.processing, .paused],
            [.paused, .processing], [.paused, .canceled], [.paused, .failed], [.paused, .completed],
        ]
        checkTable(legal)
        #expect(BackfillStatus.allCases.filter(\.isCancelable) == [.pending, .processing, .paused])
    }

    @Test("migration transitions are exactly the table")
    func migrationTable() {
        checkTable(
            [
                [.accepted, .inProgress], [.accepted, .error],
                [.inProgress, .error], [.inProgress, .completed], [.inProgress, .completedWarning],
            ] as Set<[MigrationStatus]>)
    }

    @Test("sync session transitions are exactly the table")
    func syncTable() {
        checkTable([[.running, .finished], [.running, .finishedWithErrors], [.running, .failure]] as Set<[SyncSessionStatus]>)
    }

    @Test("an illegal transition is refused with a readable reason, and nothing moves")
    func illegalTransitionRefused() throws {
        let status = BackfillStatus.completed
        let error = #expect(throws: IllegalTransition.self) { try status.transition(to: .processing) }
        #expect(error?.description == "a backfill job cannot move from Completed to Processing (it is final)")
        #expect(status == .completed)
        #expect(try BackfillStatus.pending.transition(to: .processing) == .processing)
        let canceling = #expect(throws: IllegalTransition.self) { try BackfillStatus.accepted.transition(to: .canceled) }
        #expect(
            canceling?.description
                == "a backfill job cannot move from Accepted to Canceled (allowed: Failed, Pending, Processing)")
    }

    @Test("statuses encode as their display names")
    func encoding() throws {
        let event = MigrationStatusEvent(
            generatedBy: "a", cutoverDate: CalendarDate("2026-01-01")!, progress: 100,
            status: .completedWarning)
        let text = String(decoding: try MessageCodec.encode(event, jobId: "m"), as: UTF8.self)
        #expect(text.contains(#""status":"Completed-Warning""#))
    }

    private func checkTable<S: JobStatus>(_ legal: Set<[S]>) {
        for from in S.allCases {
            for to in S.allCases {
                #expect(from.canTransition(to: to) == legal.contains([from, to]), "\(from.displayName) → \(to.displayName)")
            }
            #expect(from.isTerminal == !legal.contains { $0[0] == from })
        }
    }
}
