import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import Synchronization
import Testing

/// The backfill job's state machine, without a broker: statuses, cancels, fencing, takeovers and
/// failures, each in milliseconds (``BackfillJobHarness``). The end-to-end tests in Tests/python run
/// the same jobs through Kafka and real processes.
@Suite("Backfill job logic")
struct BackfillJobTests {
    /// Five rows: three apply, one names a charge that does not exist (the processor fails it), one
    /// has an amount that is not a number (the validator refuses it).
    static let csv = """
        Charge Id,Amount
        RPC-00000001,10.00
        RPC-00000002,11.50
        RPC-09999999,12.00
        RPC-00000004,abc
        RPC-00000005,13.00

        """

    @Test("a job goes Accepted → Pending → Processing → Completed, counting every row, its result file in place")
    func completes() async throws {
        try await BackfillJobHarness.with { harness in
            let supervisor = BackfillJobSupervisor(environment: harness.environment)
            let id = UUID().uuidString
            try await supervisor.accept(try harness.request(csv: Self.csv), jobId: id, logger: harness.environment.logger)
            try await eventually("the job to end") { harness.messenger.statuses.last?.isTerminal == true }
            #expect(harness.messenger.statuses.first == .accepted)
            #expect(harness.messenger.statuses.contains(.pending))
            #expect(harness.messenger.statuses.last == .completed)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .completed)
            #expect(job.recordsTotal == 5 && job.recordsProcessed == 5 && job.recordsFailed == 2)
            #expect(harness.messenger.chunks.count == 2, "four valid rows in chunks of two")
            let result = try #require(job.resultPath)
            let text = try String(contentsOf: harness.files.resolve(result), encoding: .utf8)
            #expect(text.split(whereSeparator: \.isNewline).count == 6, "the header and one line per row: \(text)")
            try await eventually("the runner to end") { supervisor.runningJobs.isEmpty }
        }
    }

    @Test("Records Processed never falls, and statuses never move backwards")
    func progressNeverFalls() async throws {
        let rows = (1...20).map { "RPC-\(String(format: "%08d", $0)),\($0).00" }.joined(separator: "\n")
        try await BackfillJobHarness.with(chunkSize: 1) { harness in
            let id = try await harness.insert(try harness.request(csv: "Charge Id,Amount\n\(rows)\n"))
            try await harness.run(id)
            let events = harness.messenger.events
            #expect(events.last?.status == .completed && events.last?.recordsProcessed == 20)
            for (before, after) in zip(events, events.dropFirst()) {
                #expect(after.recordsProcessed >= before.recordsProcessed, "\(before) then \(after)")
                #expect(
                    before.status == after.status || before.status.canTransition(to: after.status),
                    "\(before.status) then \(after.status)")
            }
        }
    }

    @Test("a progress update saved just before the end is never announced after it")
    func noProgressAfterTheEnd() async throws {
        let id = UUID().uuidString
        let holding = Atomic<Bool>(false)
        try await BackfillJobHarness.with(onAnnounce: { harness, event in
            // The keeper's first progress update (one chunk applied) is held until the job is Completed
            // in the log, or for a second: the end must wait for it, not overtake it.
            guard event.status == .processing, event.recordsProcessed > 1,
                !holding.exchange(true, ordering: .sequentiallyConsistent)
            else {
                return
            }
            try? await eventually(within: .seconds(1), "the job to be Completed") {
                try await harness.job(id)?.status == .completed
            }
        }) { harness in
            harness.messenger.state.withLock { $0.applies = false }
            _ = try await harness.insert(try harness.request(csv: Self.csv), id: id)
            let runner = Task { try await harness.run(id) }
            try await eventually("the chunks to go out") { harness.messenger.chunks.count == 2 }
            let chunks = harness.messenger.chunks
            _ = try await harness.messenger.applier.apply(chunks[0], jobId: id)
            try await eventually("the keeper to announce progress") { holding.load(ordering: .sequentiallyConsistent) }
            _ = try await harness.messenger.applier.apply(chunks[1], jobId: id)
            try await runner.value
            #expect(harness.messenger.statuses.last == .completed, "announced in this order: \(harness.messenger.statuses)")
        }
    }

    @Test(
        "a cancel requested before the fan-out ends the job Canceled, whatever status it was found in, with no chunk sent",
        arguments: [BackfillStatus.accepted, .pending, .processing])
    func cancelBeforeFanOut(status: BackfillStatus) async throws {
        try await BackfillJobHarness.with { harness in
            let id = try await harness.insert(try harness.request(csv: Self.csv), status: status)
            _ = try await harness.log.requestCancel(id, by: "ops@example.com")
            try await harness.run(id)
            #expect(try await harness.job(id)?.status == .canceled)
            #expect(harness.messenger.statuses.last == .canceled)
            #expect(harness.messenger.chunks.isEmpty)
        }
    }

    @Test("a cancel while Processing ends the job Canceled with the rows applied so far")
    func cancelWhileProcessing() async throws {
        try await BackfillJobHarness.with { harness in
            harness.messenger.state.withLock { $0.applies = false }
            let id = try await harness.insert(try harness.request(csv: Self.csv))
            async let run: Void = harness.run(id)
            try await eventually("the chunks to go out") { harness.messenger.chunks.count == 2 }
            _ = try await harness.log.requestCancel(id, by: "ops@example.com")
            try await run
            let job = try #require(try await harness.job(id))
            #expect(job.status == .canceled)
            #expect(job.recordsProcessed == 1 && job.recordsFailed == 1, "only the refused row was dealt with")
            #expect(job.resultPath != nil, "a canceled job has a result file too")
        }
    }

    @Test("a cancel for a job that is not in the log, or ended, is refused saying so")
    func cancelOfEndedJob() async throws {
        try await BackfillJobHarness.with { harness in
            #expect(try await harness.log.cancel("nope", by: "ops") == .notFound)
            let id = try await harness.insert(try harness.request(csv: Self.csv))
            #expect(try await harness.log.cancel(id, by: "ops") == .requested(.accepted))
            try await harness.run(id)
            #expect(try await harness.log.cancel(id, by: "ops") == .ended(.canceled))
            #expect(try await harness.job(id)?.cancelRequestedBy == "ops", "the first request is the one kept")
        }
    }

    @Test("a validator that lost its claim mid-job saves nothing, announces nothing more and leaves no result file")
    func fencedAfterTakeover() async throws {
        let id = UUID().uuidString
        try await BackfillJobHarness.with(onChunks: { harness, chunks in
            // The moment the first chunks go out, another validator takes the job over.
            if chunks.first?.chunkIndex == 0 { try await harness.takeOver(id, by: "validator-b") }
        }) { harness in
            _ = try await harness.insert(try harness.request(csv: Self.csv), id: id)
            try await harness.run(id)
            let job = try #require(try await harness.job(id))
            #expect(job.owner == "validator-b")
            #expect(job.status == .processing, "the old owner must not end the job it lost")
            #expect(job.resultPath == nil)
            #expect(!harness.messenger.statuses.contains(.completed))
            let result = try harness.files.resultFile(jobId: id, uploadedName: job.uploadedFile)
            #expect(!FileManager.default.fileExists(atPath: result.url.path), "no result file may be moved into place")
        }
    }

    @Test("with the file store in an object store, a job reads its upload there and its result goes up under its run's key")
    func objectStore() async throws {
        let objects = InMemoryObjectStorage()
        try await BackfillJobHarness.with(objects: objects) { harness in
            let id = try await harness.insert(try harness.request(csv: Self.csv))
            try await harness.run(id)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .completed && job.recordsProcessed == 5)
            let path = try #require(job.resultPath)
            #expect(path.hasPrefix("results/\(id)/run-") && path.hasSuffix("/charges-result.csv"))
            let result = String(decoding: try #require(objects.bytes(path)), as: UTF8.self)
            #expect(result.hasPrefix("Charge Id,Amount,Success,Error Message") && result.contains("RPC-00000005,"))
        }
    }

    @Test("a validator that lost its claim after uploading its result removes it, and the job keeps no result of it")
    func fencedAtTheEndInAnObjectStore() async throws {
        let objects = InMemoryObjectStorage()
        let id = UUID().uuidString
        try await BackfillJobHarness.with(objects: objects) { harness in
            // Between the upload and the transaction that would end the job, another validator takes it over.
            objects.onUpload { key in
                if key.hasPrefix("results/") { try await harness.takeOver(id, by: "validator-b") }
            }
            _ = try await harness.insert(try harness.request(csv: Self.csv), id: id)
            try await harness.run(id)
            let job = try #require(try await harness.job(id))
            #expect(job.owner == "validator-b" && job.status == .processing, "the old owner must not end the job it lost")
            #expect(job.resultPath == nil)
            #expect(!objects.keys.contains { $0.hasPrefix("results/") }, "the lost run's upload is removed")
            #expect(!harness.messenger.statuses.contains(.completed))
        }
    }

    @Test("a job whose owner stopped renewing is taken over by the orphan loop and completed")
    func takeover() async throws {
        try await BackfillJobHarness.with { harness in
            let id = try await harness.insert(try harness.request(csv: Self.csv), status: .pending, owner: "dead-validator")
            try await harness.store.withDatabase { try await $0.raw("UPDATE backfill_jobs SET lease_until = 0").run() }
            let supervisor = BackfillJobSupervisor(environment: harness.environment)
            let loop = Task { await supervisor.run() }
            try await eventually("the job to complete") { try await harness.job(id)?.status == .completed }
            loop.cancel()
            await loop.value
            let job = try #require(try await harness.job(id))
            #expect(job.owner == BackfillJobHarness.instance && job.recordsProcessed == 5)
        }
    }

    @Test("chunks that cannot reach the broker fail the job, saying why")
    func brokerAway() async throws {
        struct BrokerAway: Error, CustomStringConvertible { var description: String { "the broker is away" } }
        try await BackfillJobHarness.with { harness in
            harness.messenger.state.withLock { $0.failSending = BrokerAway() }
            let id = try await harness.insert(try harness.request(csv: Self.csv))
            try await harness.run(id)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .failed)
            #expect(job.error?.contains("the broker is away") == true, "\(job.error ?? "no reason")")
        }
    }

    @Test("a file that is not a CSV for the action fails the job with the reason, before any chunk")
    func wrongFile() async throws {
        try await BackfillJobHarness.with { harness in
            let id = try await harness.insert(try harness.request(csv: "Invoice Item Id,Amount\nII-1,2.00\n"))
            try await harness.run(id)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .failed)
            #expect(job.error?.isEmpty == false)
            #expect(harness.messenger.chunks.isEmpty)
        }
    }

    @Test("a file whose size is not the one its request gives fails the job, saying both, before any chunk")
    func sizeMismatch() async throws {
        try await BackfillJobHarness.with { harness in
            var request = try harness.request(csv: "Charge Id,Booking Date\nRPC-00000001,2025-01-15\n")
            request.file?.sizeBytes = 9999
            let id = try await harness.insert(request)
            try await harness.run(id)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .failed)
            #expect(
                job.error?.contains("is 47 bytes in the file store, not 9999 as the request says") == true, "\(job.error ?? "")")
            #expect(harness.messenger.chunks.isEmpty)
        }
    }

    @Test("a job the dashboard logged runs as a preview on a validator that requires approval: its rule is checked on taking it")
    func approvalRuleOnTakeover() async throws {
        try await BackfillJobHarness.with(requireApproval: true) { harness in
            let id = UUID().uuidString
            let job = BackfillJobRecord.accepted(
                try harness.request(csv: "Charge Id,Booking Date\nRPC-00000001,2025-01-15\n"), jobId: id,
                submittedAt: harness.environment.clock.epochMilliseconds(), chunkSize: 2, owner: BackfillJobHarness.instance,
                requireApproval: false, previewed: nil)
            #expect(job.preview == 0, "logged as the dashboard logs it, without the validator's rule")
            #expect(try await harness.log.insert(job, leaseMilliseconds: 15_000))
            try await harness.run(id)
            let ended = try #require(try await harness.job(id))
            #expect(ended.status == .completed && ended.preview == 1)
            #expect(ended.wouldChange == 1)
        }
    }

    @Test("a chunk the store refuses every time is tried three times, then recorded with every row failed and the reason")
    func refusedChunk() async throws {
        try await BackfillJobHarness.with { harness in
            harness.messenger.state.withLock { $0.applies = false }
            let id = try await harness.insert(try harness.request(csv: Self.csv))
            let runner = Task { try await harness.run(id) }
            try await eventually("the chunks to go out") { harness.messenger.chunks.count == 2 }
            try await harness.store.withDatabase { database in
                try await database.raw(
                    """
                    CREATE TRIGGER refuse_charges BEFORE UPDATE ON rate_plan_charges BEGIN SELECT RAISE(ABORT, 'refused by a rule'); END
                    """
                ).run()
            }
            let applier = ChunkApplier(store: harness.store)
            for chunk in harness.messenger.chunks {
                let outcome = try await applier.applyOrRecordRefusal(
                    chunk, jobId: id, logger: harness.environment.logger,
                    clock: FastJobClock())
                guard case .applied(let entry) = outcome else {
                    Issue.record("chunk \(chunk.chunkIndex): \(outcome)")
                    continue
                }
                #expect(entry.failures.count == chunk.rows.count)
                #expect(entry.failures.values.allSatisfy { $0.contains("refused by a rule") })
            }
            try await runner.value
            let job = try #require(try await harness.job(id))
            #expect(
                job.status == .completed && job.recordsFailed == 5,
                "every row failed: one refused by the validator, four by the store")
        }
    }
}
