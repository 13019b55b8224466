import Foundation
import JobstreamMessages
import JobstreamTestSupport
import Logging
import SQLKit
import Testing

@testable import JobstreamBackfill
@testable import JobstreamStore

extension TestStores {
    /// The backfill store tests use the database of JOBSTREAM_TEST_POSTGRES_URL itself.
    static let postgresURL = postgresURL()
    static let kinds = flavors()
}

@Suite("Record store and backfill ledger", .serialized)
struct StoreTests {
    @Test("PostgreSQL is part of the run when CI runs the tests")
    func postgresInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(
                TestStores.postgresURL != nil, "CI must set JOBSTREAM_TEST_POSTGRES_URL so the store tests run on PostgreSQL too")
        }
    }

    @Test(
        "PostgreSQL answers",
        .enabled(
            if: TestStores.postgresURL != nil,
            "JOBSTREAM_TEST_POSTGRES_URL is not set: the store tests run on SQLite only (make test sets it)"))
    func postgresAnswers() async throws {
        let (store, folder) = try await TestStores.open(.postgres)
        defer { folder.remove() }
        #expect(store.flavor == .postgres)
        await store.close()
    }

    @Test("store locations: SQLite paths and postgres URLs; anything else is refused")
    func locations() throws {
        #expect(try StoreLocation(parsing: "data/x.sqlite") == .sqlite(path: "data/x.sqlite"))
        #expect(try StoreLocation(parsing: "sqlite:/tmp/x") == .sqlite(path: "/tmp/x"))
        #expect(
            try StoreLocation(parsing: "postgres://u:secret@db:5432/jobs") == .postgres(url: "postgres://u:secret@db:5432/jobs"))
        #expect(try StoreLocation(parsing: "postgres://u:secret@db:5432/jobs").description == "postgres://u:***@db:5432/jobs")
        #expect(throws: StoreError.self) { try StoreLocation(parsing: "mysql://u@db/jobs") }
        let unparsable = #expect(throws: StoreError.self) { try StoreLocation(parsing: "postgres://u:s3cretpw@host:notaport/db") }
        #expect(
            unparsable?.description.contains("s3cretpw") == false, "a location that does not parse is quoted without its password"
        )
        #expect(unparsable?.description.contains("postgres://u:***@host:notaport/db") == true)
        #expect(throws: StoreError.self) { try StoreLocation(parsing: "postgres://db/jobs") }
        #expect(throws: StoreError.self) { try StoreLocation(parsing: " ") }
    }

    @Test("seeding is deterministic: the same counts give the same records", arguments: TestStores.kinds)
    func seedIsDeterministic(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        let seeder = StoreSeeder(charges: 1200, invoiceItems: 700)
        try await seeder.seed(store)
        let first = try await snapshot(store)
        try await seeder.seed(store)
        #expect(try await snapshot(store) == first)
        let counts = try await RecordCounts.read(store)
        #expect(counts.charges == 1200 && counts.invoiceItems == 700)
        #expect((300...700).contains(counts.chargesWithoutBookingDate))
        #expect(first.first?.hasPrefix("RPC-00000001|C-00000001|A-S00000001|2") == true)
        await store.close()
    }

    /// Every charge as one line, in id order.
    func snapshot(_ store: Store) async throws -> [String] {
        try await store.withDatabase { database in
            try await database.raw(
                """
                SELECT id, charge_number, subscription_number, created_on, booking_date, amount FROM rate_plan_charges ORDER BY id
                """
            ).all().map { row in
                try ["id", "charge_number", "subscription_number", "created_on", "booking_date", "amount"]
                    .map { try row.decode(column: $0, as: String?.self) ?? "-" }.joined(separator: "|")
            }
        }
    }

    /// Inserts a job claimed by `owner` for `lease` milliseconds from the database's now (negative: lapsed already).
    func insertJob(
        _ log: BackfillJobLog, action: BackfillAction, status: BackfillStatus = .processing, owner: String = "me",
        lease: Int = 3_600_000
    ) async throws -> String {
        let jobId = UUID().uuidString
        let job = BackfillJobRecord(
            jobId: jobId, action: action.name, uploadedFile: "f.csv", filePath: nil, fileSize: nil, md5: nil,
            generatedBy: "test", retryOf: nil, status: status, submittedAt: Date().epochMilliseconds,
            chunkSize: 100, owner: owner, leaseUntil: 0)
        #expect(try await log.insert(job, leaseMilliseconds: lease))
        return jobId
    }

    func charge(_ store: Store, _ id: String) async throws -> (bookingDate: String?, amount: String, version: Int) {
        try await store.withDatabase { database in
            let row = try #require(
                try await database.raw(
                    "SELECT booking_date, amount, version FROM rate_plan_charges WHERE id = \(bind: id)"
                ).first())
            return (
                try row.decode(column: "booking_date", as: String?.self), try row.decode(column: "amount", as: String.self),
                try row.decode(column: "version", as: Int.self)
            )
        }
    }

    @Test("a chunk is applied once: a redelivery changes nothing and reports the same outcome", arguments: TestStores.kinds)
    func chunkAppliedOnce(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        try await StoreSeeder(charges: 50, invoiceItems: 0).seed(store)
        let log = BackfillJobLog(store: store)
        let jobId = try await insertJob(log, action: .updateRatePlanCharge)
        let chunk = BackfillChunk(
            chunkIndex: 0, action: BackfillAction.updateRatePlanCharge.name,
            rows: [
                BackfillRow(rowNumber: 1, fields: ["Charge Id": "RPC-00000007", "Booking Date": "2025-03-04"]),
                BackfillRow(rowNumber: 2, fields: ["Charge Id": "RPC-00009999", "Booking Date": "2025-03-04"]),
                BackfillRow(rowNumber: 4, fields: ["Charge Id": "RPC-00000008", "Amount": "12.34"]),
            ])
        let before = try await charge(store, "RPC-00000008")
        let applier = ChunkApplier(store: store)
        #expect(try await applier.apply(chunk, jobId: jobId) == .refused(reason: "chunk 0 is not one the job's validator sent"))
        try await BackfillLedger(store: store).planChunks(jobId, [(0, ChunkDigest.of(chunk))])
        var forged = chunk
        forged.rows[0].fields["Booking Date"] = "1999-01-01"
        #expect(
            try await applier.apply(forged, jobId: jobId)
                == .refused(reason: "chunk 0 holds other rows than the job's validator sent"))
        forged = chunk
        forged.action = BackfillAction.updateInvoiceItem.name
        #expect(
            try await applier.apply(forged, jobId: jobId)
                == .refused(reason: "the chunk's action \"update-invoice-item\" is not the job's (update-rate-plan-charge)"))
        #expect(try await charge(store, "RPC-00000007").version == 1, "nothing refused was applied")
        let outcome = try await applier.apply(chunk, jobId: jobId)
        #expect(
            outcome
                == .applied(
                    BackfillLedger.Chunk(
                        index: 0, firstRow: 1, lastRow: 4, rowCount: 3,
                        failures: [2: "rate plan charge RPC-00009999 does not exist"])))
        #expect(try await charge(store, "RPC-00000007").bookingDate == "2025-03-04")
        #expect(try await charge(store, "RPC-00000007").version == 2)
        let eight = try await charge(store, "RPC-00000008")
        #expect(eight.amount == "12.34" && eight.bookingDate == before.bookingDate && eight.version == 2)

        #expect(try await applier.apply(chunk, jobId: jobId) == .alreadyApplied)
        #expect(try await charge(store, "RPC-00000007").version == 2)
        let ledger = BackfillLedger(store: store)
        #expect(try await ledger.progress(jobId) == BackfillLedger.Progress(chunks: 1, rows: 3, failed: 1))
        #expect(
            try await ledger.chunks(jobId, after: -1, limit: 10).first?.failures[2]
                == "rate plan charge RPC-00009999 does not exist")
        await store.close()
    }

    @Test("a chunk the store refuses is recorded with every row failed and the reason", arguments: TestStores.kinds)
    func refusedChunk(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        let jobId = try await insertJob(BackfillJobLog(store: store), action: .updateRatePlanCharge)
        let chunk = BackfillChunk(
            chunkIndex: 2, action: BackfillAction.updateRatePlanCharge.name,
            rows: [
                BackfillRow(rowNumber: 7, fields: ["Charge Id": "RPC-1", "Amount": "1"]),
                BackfillRow(rowNumber: 9, fields: ["Charge Id": "RPC-2", "Amount": "2"]),
            ])
        let ledger = BackfillLedger(store: store)
        try await ledger.planChunks(jobId, [(2, ChunkDigest.of(chunk))])
        let outcome = try await ChunkApplier(store: store).recordRefused(chunk, jobId: jobId, reason: "not applied: refused")
        #expect(
            outcome
                == .applied(
                    BackfillLedger.Chunk(
                        index: 2, firstRow: 7, lastRow: 9, rowCount: 2,
                        failures: [7: "not applied: refused", 9: "not applied: refused"])))
        #expect(try await ledger.progress(jobId) == BackfillLedger.Progress(chunks: 1, rows: 2, failed: 2))
        #expect(try await ChunkApplier(store: store).apply(chunk, jobId: jobId) == .alreadyApplied)
        await store.close()
    }

    @Test(
        "after a cancel request no chunk of the job is applied; an unknown job's chunk is reported", arguments: TestStores.kinds)
    func cancelStopsChunks(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        try await StoreSeeder(charges: 10, invoiceItems: 0).seed(store)
        let log = BackfillJobLog(store: store)
        let jobId = try await insertJob(log, action: .updateRatePlanCharge)
        #expect(try await log.requestCancel(jobId, by: "ops")?.status == .processing)
        let chunk = BackfillChunk(
            chunkIndex: 3, action: BackfillAction.updateRatePlanCharge.name,
            rows: [BackfillRow(rowNumber: 1, fields: ["Charge Id": "RPC-00000001", "Amount": "1.00"])])
        #expect(try await ChunkApplier(store: store).apply(chunk, jobId: jobId) == .skipped(reason: "the job was canceled"))
        #expect(try await charge(store, "RPC-00000001").version == 1)
        #expect(try await ChunkApplier(store: store).apply(chunk, jobId: "no-such-job") == .unknownJob)
        await store.close()
    }

    @Test("booking-date-from-created fills exactly the charges without a booking date", arguments: TestStores.kinds)
    func filelessAction(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        try await StoreSeeder(charges: 500, invoiceItems: 0).seed(store)
        let missing = try await RecordCounts.read(store).chargesWithoutBookingDate
        let log = BackfillJobLog(store: store)
        let jobId = try await insertJob(log, action: .bookingDateFromCreated)
        let chunk = BackfillChunk(chunkIndex: 0, action: BackfillAction.bookingDateFromCreated.name, rows: [])
        try await BackfillLedger(store: store).planChunks(jobId, [(0, ChunkDigest.of(chunk))])
        guard case .applied(let entry) = try await ChunkApplier(store: store).apply(chunk, jobId: jobId) else {
            Issue.record("not applied")
            return
        }
        #expect(entry.rowCount == missing && missing > 0)
        #expect(try await RecordCounts.read(store).chargesWithoutBookingDate == 0)
        let mismatched = try await store.withDatabase { database in
            try await database.raw("SELECT COUNT(*) AS n FROM rate_plan_charges WHERE version = 2 AND booking_date <> created_on")
                .first()?.decode(column: "n", as: Int.self)
        }
        #expect(mismatched == 0)
        await store.close()
    }

    @Test(
        "the job log: one job per id, claims fenced by owner and epoch, lapsed claims taken over by the database's clock",
        arguments: TestStores.kinds)
    func claims(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        let log = BackfillJobLog(store: store)
        let live = try await insertJob(log, action: .updateRatePlanCharge, status: .pending, owner: "a", lease: 60_000)
        let orphan = try await insertJob(log, action: .updateRatePlanCharge, status: .processing, owner: "dead", lease: -1)
        var repeated = try #require(try await log.job(live))
        repeated.owner = "b"
        #expect(try await log.insert(repeated, leaseMilliseconds: 1000) == false)
        let found = try await log.claimOrphans(owner: "b", leaseMilliseconds: 60_000, maxTakeovers: 5)
        #expect(found.claimed.contains(orphan) && !found.claimed.contains(live) && !found.givenUp.contains(orphan))
        var job = try #require(try await log.job(orphan))
        #expect(job.claim == JobClaim(owner: "b", epoch: 2) && job.takeovers == 1)
        job.status = .completed
        #expect(try await log.save(job, claim: JobClaim(owner: "dead", epoch: 1), leaseMilliseconds: 0) == nil)
        #expect(
            try await log.save(job, claim: JobClaim(owner: "b", epoch: 1), leaseMilliseconds: 0) == nil,
            "the same owner with an older epoch (a run of it from before a takeover) is fenced off too")
        #expect(try await log.save(job, claim: JobClaim(owner: "b", epoch: 2), leaseMilliseconds: 0) == job.sequence + 1)
        #expect(try await log.job(orphan)?.takeovers == 0, "a save is progress: the takeover count starts again")
        #expect(try await log.renew(live, claim: JobClaim(owner: "b", epoch: 1), leaseMilliseconds: 1000) == nil)
        #expect(try await log.requestCancel(orphan, by: "ops")?.status == .completed)
        #expect(try await log.job(orphan)?.cancelRequestedBy == nil)
        var ended = try #require(try await log.job(live))
        ended.status = .failed
        #expect(
            try await log.save(ended, claim: JobClaim(owner: "a", epoch: 1), leaseMilliseconds: 0) != nil,
            "ended, so later runs on the same database find no job of this one to take over")
        await store.close()
    }

    @Test(
        "a job taken over too many times in a row without progress is failed, saying why, and left unpublished",
        arguments: TestStores.kinds)
    func givenUp(flavor: SQLFlavor) async throws {
        let (store, folder) = try await TestStores.open(flavor)
        defer { folder.remove() }
        let log = BackfillJobLog(store: store)
        let doomed = try await insertJob(log, action: .updateRatePlanCharge, status: .pending, owner: "v0", lease: -1)
        // Each claim lapses at once: its owner "died" before it could move the job on.
        for takeover in 1...3 {
            #expect(
                try await log.claimOrphans(owner: "v\(takeover)", leaseMilliseconds: -1, maxTakeovers: 3).claimed.contains(doomed)
            )
        }
        let claim = try #require(try await log.job(doomed)?.claim)
        try await log.release(doomed, claim: claim)
        #expect(try await log.job(doomed)?.takeovers == 2, "a takeover after a deliberate release does not count")
        #expect(try await log.claimOrphans(owner: "v3", leaseMilliseconds: -1, maxTakeovers: 3).claimed.contains(doomed))
        let found = try await log.claimOrphans(owner: "v4", leaseMilliseconds: 1000, maxTakeovers: 3)
        #expect(found.givenUp.contains(doomed) && !found.claimed.contains(doomed))
        let job = try #require(try await log.job(doomed))
        #expect(job.status == .failed && job.endDate != nil && job.leaseUntil == 0)
        #expect(job.error?.hasPrefix("the job was taken over 3 times in a row without progress") == true)
        #expect(
            try await log.unpublished(quietMilliseconds: -1_000_000, limit: 10_000).map(\.jobId).contains(doomed),
            "its Failed event waits in the outbox")
        try await log.published(doomed, sequence: job.sequence)
        #expect(try await !log.unpublished(quietMilliseconds: -1_000_000, limit: 10_000).map(\.jobId).contains(doomed))
        await store.close()
    }
}
