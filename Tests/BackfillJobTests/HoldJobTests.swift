import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import SQLKit
import Synchronization
import Testing

/// Pausing, resuming and the failure brake, through the validator's job logic and the processors'
/// applier on a real store (SQLite, and PostgreSQL when the run has it).
@Suite("Holds: pause, resume and the failure brake", .serialized)
struct HoldJobTests {
    static let flavors = TestStores.flavors("_holds")

    /// Charges 1–4 exist, 5–14 do not (each fails at the processor), 15–20 exist.
    static let csv =
        "Charge Id,Amount\n"
        + (1...20).map { n in "\(n <= 4 || n >= 15 ? "RPC" : "NOPE")-\(String(format: "%08d", n)),\(n).00" }.joined(
            separator: "\n")
        + "\n"

    static func versions(_ store: Store) async throws -> [String: Int] {
        try await store.withDatabase { database in
            Dictionary(
                uniqueKeysWithValues: try await database.raw("SELECT id, version FROM rate_plan_charges").all().map {
                    (try $0.decode(column: "id", as: String.self), try $0.decode(column: "version", as: Int.self))
                })
        }
    }

    @Test(
        "the failure brake pauses the job within one chunk of its limit; resumed with a higher one, it completes",
        arguments: flavors)
    func brakePausesThenResumes(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor, database: "_holds") { harness in
            let before = try await Self.versions(harness.store)
            var request = try harness.request(csv: Self.csv)
            request.maxFailed = "3"
            let id = try await harness.insert(request)
            let runner = Task { try await harness.run(id) }
            try await eventually("the brake to pause the job") { try await harness.job(id)?.status == .paused }
            let paused = try #require(try await harness.job(id))
            #expect(
                paused.pauseReason
                    == "stopped for a person to decide: too many rows failed — 4 of the first 8 (the limit is 3)")
            #expect(harness.messenger.events.last?.status == .paused)
            #expect(harness.messenger.events.last?.pauseReason == paused.pauseReason)
            let progress = try await harness.environment.ledger.progress(id)
            #expect(progress.chunks == 4 && progress.failed == 4, "the chunk that crossed the limit, and none after")

            #expect(try await harness.log.resume(id, maxFailed: "20") == .requested(.paused))
            try await runner.value
            let job = try #require(try await harness.job(id))
            #expect(job.status == .completed && job.recordsProcessed == 20 && job.recordsFailed == 10)
            #expect(job.pauseReason == nil)
            let statuses = harness.messenger.statuses
            #expect(Array(statuses.drop { $0 != .paused }.prefix(2)) == [.paused, .processing])
            let versions = try await Self.versions(harness.store)
            for n in [1, 2, 3, 4, 15, 20] {
                let key = "RPC-\(String(format: "%08d", n))"
                #expect(versions[key] == before[key].map { $0 + 1 }, "\(key) applied once")
            }
        }
    }

    @Test("rows the validator refused count against the brake: past it they pause the job before any chunk applies")
    func refusedRowsTripTheBrake() async throws {
        try await BackfillJobHarness.with { harness in
            var request = try harness.request(csv: "Charge Id,Amount\nRPC-00000001,x\nRPC-00000002,y\nRPC-00000003,1.00\n")
            request.maxFailed = "50%"
            let id = try await harness.insert(request)
            let runner = Task { try await harness.run(id) }
            try await eventually("the brake to pause the job") { try await harness.job(id)?.status == .paused }
            #expect(try await harness.environment.ledger.progress(id).chunks == 0)
            #expect(try await harness.job(id)?.pauseReason?.contains("2 of the first 2 (the limit is 50%)") == true)
            #expect(try await harness.log.cancel(id, by: "ops") == .requested(.paused))
            try await runner.value
            #expect(try await harness.job(id)?.status == .canceled, "a Paused job can be canceled")
        }
    }

    @Test(
        "an operator's pause: no chunk applies until resume, then the chunks not applied are sent again and the job completes",
        arguments: flavors)
    func pauseAndResume(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor, database: "_holds") { harness in
            harness.messenger.state.withLock { $0.applies = false }
            let id = try await harness.insert(try harness.request(csv: Self.csv))
            let runner = Task { try await harness.run(id) }
            try await eventually("the chunks to go out") { harness.messenger.chunks.count == 10 }
            let first = harness.messenger.chunks
            #expect(try await harness.messenger.applier.apply(first[0], jobId: id) != .alreadyApplied)
            #expect(try await harness.log.requestPause(id, by: "ops") == .requested(.processing))
            #expect(try await harness.messenger.applier.apply(first[1], jobId: id) == .skipped(reason: "the job is paused"))
            try await eventually("the job to be Paused") { try await harness.job(id)?.status == .paused }
            #expect(try await harness.job(id)?.pauseReason == "paused by ops")
            #expect(try await harness.messenger.applier.apply(first[2], jobId: id) == .skipped(reason: "the job is paused"))
            #expect(try await harness.environment.ledger.progress(id).chunks == 1)

            #expect(try await harness.log.resume(id, maxFailed: nil) == .requested(.paused))
            try await eventually("the chunks not applied to go out again") { harness.messenger.chunks.count == 19 }
            let again = harness.messenger.chunks.dropFirst(10)
            #expect(Set(again.map(\.chunkIndex)) == Set(1...9), "every chunk not applied, and only those")
            for chunk in again { _ = try await harness.messenger.applier.apply(chunk, jobId: id) }
            try await runner.value
            let job = try #require(try await harness.job(id))
            #expect(job.status == .completed && job.recordsProcessed == 20)
        }
    }

    @Test("a rate limit spaces the chunks by their rows over the rate, and a rate changed while the job runs takes effect")
    func rateLimit() async throws {
        let sends = Mutex<[ContinuousClock.Instant]>([])
        let id = UUID().uuidString
        try await BackfillJobHarness.with(
            chunkSize: 10,
            onChunks: { harness, chunks in
                #expect(chunks.count == 1, "a paced job sends one chunk at a time")
                let count = sends.withLock {
                    $0.append(harness.environment.clock.now())
                    return $0.count
                }
                guard count == 2 else { return }
                // One row per second from now on: chunks of ten rows ten seconds apart. Held here until
                // the keeper has renewed the claim since (a renewal reads the rate).
                #expect(try await harness.log.setRate(id, to: 1) == .requested(.processing))
                let lease = try await harness.job(id)?.leaseUntil
                try await eventually("the keeper to renew") { try await harness.job(id)?.leaseUntil != lease }
            }
        ) { harness in
            let rows = (1...60).map { "RPC-\(String(format: "%08d", $0)),1.00" }.joined(separator: "\n")
            var request = try harness.request(csv: "Charge Id,Amount\n\(rows)\n")
            request.ratePerSecond = 1000
            _ = try await harness.insert(request, id: id)
            try await harness.run(id)
            #expect(try await harness.job(id)?.status == .completed)
            let times = sends.withLock { $0 }
            #expect(times.count == 6)
            #expect(times[1] - times[0] >= .milliseconds(10), "ten rows at 1,000 rows/s")
            for index in 3..<times.count {
                #expect(times[index] - times[index - 1] >= .seconds(10), "chunk \(index): ten rows at 1 row/s")
            }
        }
    }

    @Test("status events tell how far validation has read while Pending, and the pace and the end while Processing")
    func progressInEvents() async throws {
        try await BackfillJobHarness.with(chunkSize: 1000) { harness in
            harness.messenger.state.withLock { $0.applies = false }
            let rows = (1...20_000).map { "RPC-\(String(format: "%08d", $0)),1.00" }.joined(separator: "\n")
            let id = try await harness.insert(try harness.request(csv: "Charge Id,Amount\n\(rows)\n"))
            let runner = Task { try await harness.run(id) }
            try await eventually("the chunks to go out") { harness.messenger.chunks.count == 20 }
            let chunks = harness.messenger.chunks
            for (index, chunk) in chunks.enumerated() {
                _ = try await harness.messenger.applier.apply(chunk, jobId: id)
                try await eventually("the keeper to announce chunk \(index)") {
                    harness.messenger.events.contains { $0.recordsProcessed == (index + 1) * 1000 }
                }
            }
            try await runner.value
            let events = harness.messenger.events
            let validated = try #require(events.first { $0.status == .processing })
            #expect(validated.rowsValidated == 20_000 && (validated.bytesValidated ?? 0) > 20_000 * 12, "\(validated)")
            let paced = events.filter { $0.status == .processing && $0.rowsPerSecond != nil }
            #expect(!paced.isEmpty, "a running job tells its pace")
            #expect(paced.allSatisfy { $0.estimatedEnd != nil && $0.recordsTotal == 20_000 })
            #expect(events.last?.status == .completed && events.last?.rowsPerSecond == nil && events.last?.estimatedEnd == nil)
        }
    }

    @Test("validation's progress is saved while Pending, fenced by the claim, and carried by the status event")
    func validationProgressSaved() async throws {
        try await BackfillJobHarness.with { harness in
            let id = try await harness.insert(try harness.request(csv: Self.csv), status: .pending)
            let job = try #require(try await harness.job(id))
            let claim = try #require(job.claim)
            #expect(try await harness.log.saveValidation(id, claim: claim, rows: 4096, bytes: 65_536) == job.sequence + 1)
            let saved = try #require(try await harness.job(id))
            #expect(saved.statusEvent.rowsValidated == 4096 && saved.statusEvent.bytesValidated == 65_536)
            let stale = JobClaim(owner: claim.owner, epoch: claim.epoch + 1)
            #expect(
                try await harness.log.saveValidation(id, claim: stale, rows: 1, bytes: 1) == nil, "another claim saves nothing")
        }
    }

    @Test("pause and resume are refused where they mean nothing, saying why")
    func refusals() async throws {
        try await BackfillJobHarness.with { harness in
            #expect(try await harness.log.requestPause("nope", by: "ops") == .notFound)
            let pending = try await harness.insert(try harness.request(csv: Self.csv), status: .pending)
            guard case .refused(let why) = try await harness.log.requestPause(pending, by: "ops") else {
                Issue.record("a Pending job was paused")
                return
            }
            #expect(why == "backfill \(pending) is Pending; only a Processing job can be paused")
            guard case .refused(let notPaused) = try await harness.log.resume(pending, maxFailed: nil) else {
                Issue.record("a job that is not paused was resumed")
                return
            }
            #expect(notPaused.contains("not paused"))
        }
    }

    @Test(
        "two processors on PostgreSQL at once: the brake lets through only the chunk that crosses the limit",
        .enabled(if: TestStores.postgresURL("_holds") != nil, "the run has no PostgreSQL"))
    func brakeUnderConcurrency() async throws {
        try await BackfillJobHarness.with(flavor: .postgres, database: "_holds", chunkSize: 2) { harness in
            harness.messenger.state.withLock { $0.applies = false }
            // Every row fails (no such charge): two failures a chunk, a limit of five.
            let rows = (1...40).map { "NOPE-\(String(format: "%08d", $0)),1.00" }.joined(separator: "\n")
            var request = try harness.request(csv: "Charge Id,Amount\n\(rows)\n")
            request.maxFailed = "5"
            let id = try await harness.insert(request)
            let runner = Task { try await harness.run(id) }
            try await eventually("the chunks to go out") { harness.messenger.chunks.count == 20 }
            let chunks = harness.messenger.chunks
            let (second, folder) = try await TestStores.open(.postgres, database: "_holds")
            defer { folder.remove() }
            let appliers = [harness.messenger.applier, ChunkApplier(store: second)]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (lane, applier) in appliers.enumerated() {
                    group.addTask {
                        for chunk in chunks where chunk.chunkIndex % 2 == lane { _ = try await applier.apply(chunk, jobId: id) }
                    }
                }
                try await group.waitForAll()
            }
            await second.close()
            let progress = try await harness.environment.ledger.progress(id)
            #expect(progress.chunks == 3 && progress.failed == 6, "4 failures, then the chunk that crossed 5: \(progress)")
            _ = try await harness.log.cancel(id, by: "test")
            try await runner.value
        }
    }
}

@Suite("The failure brake's limit")
struct FailureBrakeTests {
    @Test("rows or a percentage; anything else is refused")
    func parsing() throws {
        #expect(try FailureBrake.parse("500").get() == FailureBrake(.rows(500)))
        #expect(try FailureBrake.parse("2.5%").get() == FailureBrake(.percent(2.5)))
        #expect(try FailureBrake.parse("0").get().isExceeded(failed: 1, of: 1))
        for bad in ["", "-1", "abc", "100%", "1e3%", "12345678901234", "%"] {
            #expect(throws: BrakeProblem.self, "\(bad)") { try FailureBrake.parse(bad).get() }
        }
    }

    @Test("exceeded only past the limit; a percentage of the rows so far")
    func exceeding() throws {
        let rows = try FailureBrake.parse("512").get()
        #expect(!rows.isExceeded(failed: 512, of: 2000) && rows.isExceeded(failed: 513, of: 2000))
        let share = try FailureBrake.parse("25%").get()
        #expect(!share.isExceeded(failed: 500, of: 2000) && share.isExceeded(failed: 501, of: 2000))
        #expect(!share.isExceeded(failed: 0, of: 0))
        #expect(
            rows.reason(failed: 513, of: 2000)
                == "stopped for a person to decide: too many rows failed — 513 of the first 2,000 (the limit is 512)")
        #expect(rows.reason(failed: 1_234_567, of: 12).contains("1,234,567 of the first 12"))
    }
}
