import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import SQLKit
import Testing

/// Before-images and reverts, through the validator's job logic and the processors' applier on a
/// real store (SQLite, and PostgreSQL when the run has it).
@Suite("Undo: before-images and reverts", .serialized)
struct RevertJobTests {
    static let flavors = TestStores.flavors("_undo")
    static let fields = [
        "id", "charge_number", "subscription_number", "created_on", "booking_date", "accounting_code",
        "revenue_recognition_rule", "amount", "service_start_date", "service_end_date",
    ]

    /// Every charge with every field but its version, in id order: equal texts, equal records.
    static func table(_ store: Store) async throws -> String {
        try await store.withDatabase { database in
            var text = ""
            for row in try await database.raw(
                "SELECT \(unsafeRaw: fields.joined(separator: ", ")) FROM rate_plan_charges ORDER BY id"
            )
            .all() {
                text += try fields.map { try row.decode(column: $0, as: String?.self) ?? "NULL" }.joined(separator: "|") + "\n"
            }
            return text
        }
    }

    static func versions(_ store: Store) async throws -> [String: Int] {
        try await store.withDatabase { database in
            Dictionary(
                uniqueKeysWithValues: try await database.raw("SELECT id, version FROM rate_plan_charges").all().map {
                    (try $0.decode(column: "id", as: String.self), try $0.decode(column: "version", as: Int.self))
                })
        }
    }

    static func field(_ column: String, of id: String, in store: Store) async throws -> String? {
        try await store.withDatabase { database in
            try await database.raw("SELECT \(ident: column) AS value FROM rate_plan_charges WHERE id = \(bind: id)").first()?
                .decode(column: "value", as: String?.self)
        }
    }

    /// Runs a backfill of `csv` to its end; returns its id.
    static func backfill(_ csv: String, on harness: BackfillJobHarness, by user: String = "test") async throws -> String {
        var request = try harness.request(csv: csv)
        request.generatedBy = user
        let id = try await harness.insert(request)
        try await harness.run(id)
        #expect(try await harness.job(id)?.status == .completed)
        return id
    }

    /// Runs a revert of `original` to its end; returns its id.
    static func revert(_ original: String, on harness: BackfillJobHarness, overwriting: Bool = false) async throws -> String {
        let action = try #require(try await harness.job(original)).action
        let id = try await harness.insert(
            BackfillRequest(action: action, generatedBy: "ops", reverts: original, overwriteChanged: overwriting))
        try await harness.run(id)
        return id
    }

    /// The revert's result file, as lines of fields.
    static func result(of id: String, on harness: BackfillJobHarness) async throws -> [[String]] {
        let path = try #require(try await harness.job(id)?.resultPath)
        return try String(contentsOf: harness.files.resolve(path), encoding: .utf8)
            .split(whereSeparator: \.isNewline).map {
                $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            }
    }

    /// A record's field.
    struct Pair: Hashable {
        var id: String
        var column: String
    }

    static let csv = """
        Charge Id,Booking Date,Accounting Code,Amount
        RPC-00000001,2031-01-01,ACC-REVERT,
        RPC-00000002,,ACC-REVERT,99.99
        RPC-09999999,2031-01-01,,
        RPC-00000003,2031-02-02,,
        RPC-00000004,not-a-date,,
        RPC-00000005,2031-03-03,ACC-REVERT,1.00

        """

    @Test(
        "a backfill then its revert leave every record as it was (version aside); a revert of the revert re-applies it",
        arguments: flavors)
    func revertRestoresTheTable(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor) { harness in
            let before = try await Self.table(harness.store)
            let versionsBefore = try await Self.versions(harness.store)
            var untouched: [Pair: String?] = [:]
            for (id, column) in [
                ("RPC-00000001", "amount"), ("RPC-00000002", "booking_date"), ("RPC-00000003", "accounting_code"),
                ("RPC-00000003", "amount"), ("RPC-00000005", "service_end_date"),
            ] {
                untouched[Pair(id: id, column: column)] = try await Self.field(column, of: id, in: harness.store)
            }
            let original = try await Self.backfill(Self.csv, on: harness)
            let applied = try await Self.table(harness.store)
            #expect(applied != before)
            #expect(try await BeforeImages(store: harness.store).count(original) == 4, "four rows changed a record")
            // Each row set its own columns and left the others; its image says which, one character per
            // changeable column (booking date, accounting code, rule, amount, service start, service end).
            for (id, column, value) in [
                ("RPC-00000001", "booking_date", "2031-01-01"), ("RPC-00000001", "accounting_code", "ACC-REVERT"),
                ("RPC-00000002", "accounting_code", "ACC-REVERT"), ("RPC-00000002", "amount", "99.99"),
                ("RPC-00000003", "booking_date", "2031-02-02"), ("RPC-00000005", "amount", "1.00"),
            ] {
                #expect(try await Self.field(column, of: id, in: harness.store) == value, "\(id) \(column)")
            }
            for (key, value) in untouched {
                #expect(try await Self.field(key.column, of: key.id, in: harness.store) == value, "\(key) is as it was")
            }
            let masks = try await harness.store.withDatabase { database in
                try await database.raw(
                    "SELECT row_number, changed FROM backfill_before_images WHERE job_id = \(bind: original) ORDER BY row_number"
                ).all().map {
                    "\(try $0.decode(column: "row_number", as: Int.self)):\(try $0.decode(column: "changed", as: String.self))"
                }
            }
            #expect(masks == ["1:110000", "2:010100", "4:100000", "6:110100"])

            let revert = try await Self.revert(original, on: harness)
            let reverted = try #require(try await harness.job(revert))
            #expect(reverted.status == .completed && reverted.recordsProcessed == 4 && reverted.recordsFailed == 0)
            #expect(try await Self.table(harness.store) == before, "every field as before the backfill")
            #expect(reverted.reverts == original)
            #expect(try await harness.job(original)?.revertedBy == revert)
            #expect(harness.messenger.events.last?.reverts == original)
            let lines = try await Self.result(of: revert, on: harness)
            #expect(lines.first == ["Row", "Charge Id", "Success", "Error Message"])
            #expect(lines.dropFirst().map { $0[0] } == ["1", "2", "4", "6"], "the rows of the file that changed a record")
            #expect(lines.dropFirst().allSatisfy { $0[2] == "true" })

            let again = try await Self.revert(revert, on: harness)
            #expect(try await harness.job(again)?.status == .completed)
            #expect(try await Self.table(harness.store) == applied, "reverting the revert puts the backfill's values back")
            let versions = try await Self.versions(harness.store)
            for id in ["RPC-00000001", "RPC-00000002", "RPC-00000003", "RPC-00000005"] {
                #expect(versions[id] == versionsBefore[id].map { $0 + 3 }, "\(id): applied, reverted, re-applied")
            }
            #expect(versions["RPC-00000004"] == versionsBefore["RPC-00000004"], "a refused row changed nothing")
        }
    }

    @Test("a record changed since the job is reported naming who changed it, unless overwriting", arguments: flavors)
    func changedSinceIsReported(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor) { harness in
            let originalCode = try await Self.field("accounting_code", of: "RPC-00000002", in: harness.store)
            let first = try await Self.backfill(
                "Charge Id,Accounting Code\nRPC-00000001,ACC-A\nRPC-00000002,ACC-A\nRPC-00000003,ACC-A\n", on: harness)
            let second = try await Self.backfill("Charge Id,Amount\nRPC-00000002,42.00\n", on: harness, by: "bea.costa")
            try await harness.store.withDatabase {
                try await $0.raw("UPDATE rate_plan_charges SET amount = '7.00', version = version + 1 WHERE id = 'RPC-00000003'")
                    .run()
            }
            let revert = try await Self.revert(first, on: harness)
            let job = try #require(try await harness.job(revert))
            #expect(job.status == .completed && job.recordsProcessed == 3 && job.recordsFailed == 2)
            let lines = try await Self.result(of: revert, on: harness)
            #expect(lines[1][2] == "true")
            #expect(lines[2][2] == "false")
            #expect(
                lines[2][3].contains("changed since backfill \(first) by backfill \(second) (generated by bea.costa)"),
                "\(lines[2])")
            #expect(
                lines[3][3].contains("changed since backfill \(first) by a change outside jobstream's backfills"), "\(lines[3])")
            #expect(try await Self.field("accounting_code", of: "RPC-00000001", in: harness.store) != "ACC-A")
            #expect(try await Self.field("accounting_code", of: "RPC-00000002", in: harness.store) == "ACC-A", "not overwritten")
            #expect(try await Self.field("amount", of: "RPC-00000002", in: harness.store) == "42.00")

            let third = try await Self.backfill("Charge Id,Accounting Code\nRPC-00000002,ACC-C\n", on: harness)
            let otherCode = try await Self.field("accounting_code", of: "RPC-00000002", in: harness.store)
            #expect(otherCode == "ACC-C")
            try await harness.store.withDatabase {
                try await $0.raw("UPDATE rate_plan_charges SET version = version + 1 WHERE id = 'RPC-00000002'").run()
            }
            let overwriting = try await Self.revert(third, on: harness, overwriting: true)
            #expect(try await harness.job(overwriting)?.recordsFailed == 0)
            #expect(try await Self.field("accounting_code", of: "RPC-00000002", in: harness.store) == "ACC-A")
            #expect(originalCode != "ACC-A")
        }
    }

    @Test("a retention removes the before-images of jobs ended before it, and a revert of one is refused saying so")
    func retention() async throws {
        try await BackfillJobHarness.with { harness in
            let old = try await Self.backfill("Charge Id,Amount\nRPC-00000001,1.00\n", on: harness)
            let images = BeforeImages(store: harness.store)
            let ended = try #require(try await harness.job(old)?.endDate)
            #expect(try await images.removeImages(ofJobsEndedBefore: ended) == 0, "a job that ended since is kept")
            #expect(try await images.removeImages(ofJobsEndedBefore: ended + 1) == 1)
            #expect(try await images.count(old) == 0)
            #expect(try await images.removeImages(ofJobsEndedBefore: ended + 1) == 0, "removed once")
            #expect(try await harness.log.revertProblem(of: old)?.contains("its before-images were removed on") == true)
            let refused = try await Self.revert(old, on: harness)
            #expect(try await harness.job(refused)?.status == .failed)
        }
    }

    @Test("a file-less backfill is reverted too: the booking dates it filled are empty again", arguments: flavors)
    func filelessRevert(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor) { harness in
            let before = try await Self.table(harness.store)
            let id = try await harness.insert(BackfillRequest(action: "booking-date-from-created", generatedBy: "test"))
            try await harness.run(id)
            let changed = try #require(try await harness.job(id)).recordsProcessed
            #expect(changed > 0)
            #expect(try await Self.table(harness.store) != before)
            let revert = try await Self.revert(id, on: harness)
            #expect(try await harness.job(revert)?.recordsProcessed == changed)
            #expect(try await Self.table(harness.store) == before)
        }
    }

    @Test("reverting a running job, a job with nothing applied, an unknown job or one reverted already is refused, saying why")
    func refusals() async throws {
        try await BackfillJobHarness.with { harness in
            let running = try await harness.insert(try harness.request(csv: Self.csv), status: .processing)
            #expect(
                try await harness.log.revertProblem(of: running)?.contains(
                    "is Processing: a job can be reverted once it has ended") == true)

            let empty = try await harness.insert(try harness.request(csv: ""))
            try await harness.run(empty)
            #expect(try await harness.job(empty)?.status == .failed)
            #expect(
                try await harness.log.revertProblem(of: empty)
                    == "backfill \(empty) failed with nothing applied: there is nothing to revert")
            let failedRevert = try await Self.revert(empty, on: harness)
            #expect(try await harness.job(failedRevert)?.status == .failed)
            #expect(try await harness.job(failedRevert)?.error?.contains("nothing to revert") == true)

            let unknown = try await harness.insert(
                BackfillRequest(action: "update-rate-plan-charge", generatedBy: "ops", reverts: "no-such-job"))
            try await harness.run(unknown)
            #expect(try await harness.job(unknown)?.error == "backfill no-such-job is not in the job log")

            let done = try await Self.backfill("Charge Id,Amount\nRPC-00000001,1.00\n", on: harness)
            let revert = try await Self.revert(done, on: harness)
            #expect(try await harness.job(revert)?.status == .completed)
            #expect(
                try await harness.log.revertProblem(of: done) == "backfill \(done) was reverted already, by backfill \(revert)")
            let second = try await Self.revert(done, on: harness)
            #expect(try await harness.job(second)?.status == .failed)
            #expect(try await harness.job(done)?.revertedBy == revert, "the first revert stays linked")
        }
    }
}
