import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import SQLKit
import Testing

/// Previews, their apply and approval, through the validator's job logic and the processors'
/// applier on a real store (SQLite, and PostgreSQL when the run has it).
@Suite("Preview, apply and approval", .serialized)
struct PreviewJobTests {
    static let flavors = TestStores.flavors("_preview")
    static let database = "_preview"

    static let csv = """
        Charge Id,Booking Date,Accounting Code,Note
        RPC-00000001,2031-01-01,ACC-PREVIEW,first
        RPC-00000002,,ACC-PREVIEW,second
        RPC-09999999,2031-01-01,,missing
        RPC-00000004,not-a-date,,refused

        """

    /// Submits `request` as a preview and runs it to its end; returns its id.
    static func preview(_ request: BackfillRequest, on harness: BackfillJobHarness) async throws -> String {
        var request = request
        request.preview = true
        let id = try await harness.insert(request)
        try await harness.run(id)
        return id
    }

    /// Runs an apply of `preview` to its end; returns its id.
    static func apply(
        _ preview: String, on harness: BackfillJobHarness, approvedBy: String? = nil, overwriting: Bool = false
    ) async throws -> String {
        let action = try #require(try await harness.job(preview)).action
        let id = try await harness.insert(
            BackfillRequest(
                action: action, generatedBy: "ops", overwriteChanged: overwriting ? true : nil, applies: preview,
                approvedBy: approvedBy))
        try await harness.run(id)
        return id
    }

    static func setField(_ column: String, of id: String, to value: String, in store: Store) async throws {
        try await store.withDatabase {
            try await $0.raw(
                "UPDATE rate_plan_charges SET \(ident: column) = \(bind: value), version = version + 1 WHERE id = \(bind: id)"
            ).run()
        }
    }

    @Test("a preview writes no record and says, row by row, what each would change", arguments: flavors)
    func previewChangesNothing(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor, database: Self.database) { harness in
            // RPC-00000002 already holds what its row asks.
            try await Self.setField("accounting_code", of: "RPC-00000002", to: "ACC-PREVIEW", in: harness.store)
            let code1 = try await RevertJobTests.field("accounting_code", of: "RPC-00000001", in: harness.store)
            let table = try await RevertJobTests.table(harness.store)
            let versions = try await RevertJobTests.versions(harness.store)

            let id = try await Self.preview(try harness.request(csv: Self.csv), on: harness)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .completed && job.preview == 1)
            #expect(try await RevertJobTests.table(harness.store) == table, "no field of any record changed")
            #expect(try await RevertJobTests.versions(harness.store) == versions, "no version moved")
            #expect(job.wouldChange == 1 && job.alreadyAsAsked == 1 && job.recordsFailed == 2)
            #expect(try await BeforeImages(store: harness.store).count(id) == 0)
            let event = try #require(harness.messenger.events.last)
            #expect(event.preview == true && event.wouldChange == 1 && event.alreadyAsAsked == 1 && event.wouldFail == 2)
            #expect(job.resultPath?.hasSuffix("charges-preview.csv") == true)

            let lines = try await RevertJobTests.result(of: id, on: harness)
            #expect(
                lines.first == [
                    "Charge Id", "Booking Date", "Accounting Code", "Note", "Booking Date (current)",
                    "Accounting Code (current)", "Would Change", "Success", "Error Message",
                ])
            #expect(Array(lines[1].prefix(4)) == ["RPC-00000001", "2031-01-01", "ACC-PREVIEW", "first"])
            #expect(lines[1][5] == code1 && lines[1][6] == "true" && lines[1][7] == "true", "\(lines[1])")
            #expect(lines[2][5] == "ACC-PREVIEW" && lines[2][6] == "false" && lines[2][7] == "true", "\(lines[2])")
            #expect(lines[3][6] == "false" && lines[3][7] == "false" && lines[3][8].contains("does not exist"), "\(lines[3])")
            #expect(lines[4][7] == "false" && lines[4][8].contains("Booking Date"), "\(lines[4])")
            #expect(lines.count == 5)
        }
    }

    @Test("applying a preview applies its rows, and reports a record changed in between", arguments: flavors)
    func applyReportsChangedSince(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor, database: Self.database) { harness in
            let csv = "Charge Id,Accounting Code\nRPC-00000001,ACC-APPLY\nRPC-00000002,ACC-APPLY\nRPC-00000003,ACC-APPLY\n"
            let preview = try await Self.preview(try harness.request(csv: csv), on: harness)
            try await Self.setField("amount", of: "RPC-00000002", to: "5.00", in: harness.store)
            let other = try await RevertJobTests.backfill("Charge Id,Amount\nRPC-00000003,6.00\n", on: harness, by: "bea.costa")

            let apply = try await Self.apply(preview, on: harness, approvedBy: "ana.lima")
            let job = try #require(try await harness.job(apply))
            #expect(job.status == .completed && job.recordsProcessed == 3 && job.recordsFailed == 2)
            #expect(job.applies == preview && job.approvedBy == "ana.lima" && job.preview == 0)
            #expect(try await harness.job(preview)?.appliedBy == apply)
            #expect(harness.messenger.events.last?.applies == preview)
            #expect(try await RevertJobTests.field("accounting_code", of: "RPC-00000001", in: harness.store) == "ACC-APPLY")
            #expect(try await RevertJobTests.field("accounting_code", of: "RPC-00000002", in: harness.store) != "ACC-APPLY")
            #expect(try await RevertJobTests.field("accounting_code", of: "RPC-00000003", in: harness.store) != "ACC-APPLY")
            let lines = try await RevertJobTests.result(of: apply, on: harness)
            #expect(lines[1][2] == "true")
            #expect(
                lines[2][3].contains("changed since the preview by a change outside jobstream's backfills"), "\(lines[2])")
            #expect(
                lines[3][3].contains("changed since the preview by another job: backfill \(other) (generated by bea.costa)"),
                "\(lines[3])")

            #expect(
                BackfillJobLog.applyProblem(
                    of: try await harness.job(preview), id: preview, by: nil, approvedBy: nil, requireApproval: false)
                    == "preview \(preview) was applied already, by backfill \(apply)")
            let second = try await Self.apply(preview, on: harness)
            #expect(try await harness.job(second)?.status == .failed)

            let again = try await Self.preview(try harness.request(csv: csv), on: harness)
            try await Self.setField("amount", of: "RPC-00000002", to: "7.00", in: harness.store)
            let overwriting = try await Self.apply(again, on: harness, overwriting: true)
            #expect(try await harness.job(overwriting)?.recordsFailed == 0)
            #expect(try await RevertJobTests.field("accounting_code", of: "RPC-00000002", in: harness.store) == "ACC-APPLY")
        }
    }

    @Test("with approval required, a file backfill is a preview and its submitter cannot approve it")
    func approvalRequired() async throws {
        try await BackfillJobHarness.with(requireApproval: true) { harness in
            var request = try harness.request(csv: "Charge Id,Amount\nRPC-00000001,11.00\n")
            request.generatedBy = "sam.ortiz"
            let submitted = try await harness.insert(request)
            try await harness.run(submitted)
            let job = try #require(try await harness.job(submitted))
            #expect(job.preview == 1 && job.status == .completed, "made a preview: approval is required")
            #expect(try await RevertJobTests.field("amount", of: "RPC-00000001", in: harness.store) != "11.00")

            let unapproved = try await Self.apply(submitted, on: harness)
            #expect(try await harness.job(unapproved)?.status == .failed)
            #expect(
                try await harness.job(unapproved)?.error?.contains("needs the approval of someone other than its submitter")
                    == true)
            let selfApproved = try await Self.apply(submitted, on: harness, approvedBy: " Sam.Ortiz ")
            #expect(
                try await harness.job(selfApproved)?.error?.contains("submitted preview \(submitted) and cannot approve it")
                    == true)
            #expect(try await harness.job(submitted)?.appliedBy == nil, "a refused apply does not link")

            let approved = try await Self.apply(submitted, on: harness, approvedBy: "ana.lima")
            #expect(try await harness.job(approved)?.status == .completed)
            #expect(try await RevertJobTests.field("amount", of: "RPC-00000001", in: harness.store) == "11.00")

            let fileless = try await harness.insert(BackfillRequest(action: "booking-date-from-created", generatedBy: "ops"))
            try await harness.run(fileless)
            #expect(try await harness.job(fileless)?.preview == 0, "approval is asked of file backfills")
        }
    }

    @Test("an apply whose stored upload is not the file previewed fails and applies nothing")
    func changedUploadRefused() async throws {
        try await BackfillJobHarness.with { harness in
            let request = try harness.request(csv: "Charge Id,Amount\nRPC-00000001,12.00\n")
            let preview = try await Self.preview(request, on: harness)
            let path = try #require(request.file?.path)
            try Data("Charge Id,Amount\nRPC-00000001,99999.00\n".utf8).write(to: try harness.files.resolve(path))
            let apply = try await Self.apply(preview, on: harness)
            let job = try #require(try await harness.job(apply))
            #expect(job.status == .failed)
            #expect(job.error?.contains("is not the file preview \(preview) read") == true, "\(job.error ?? "")")
            #expect(try await RevertJobTests.field("amount", of: "RPC-00000001", in: harness.store) != "99999.00")
        }
    }

    @Test("a file-less preview lists the records it would change and changes none", arguments: flavors)
    func filelessPreview(flavor: SQLFlavor) async throws {
        try await BackfillJobHarness.with(flavor: flavor, database: Self.database) { harness in
            let table = try await RevertJobTests.table(harness.store)
            let id = try await Self.preview(BackfillRequest(action: "booking-date-from-created", generatedBy: "ops"), on: harness)
            let job = try #require(try await harness.job(id))
            #expect(job.status == .completed && job.preview == 1)
            #expect(try await RevertJobTests.table(harness.store) == table)
            let lines = try await RevertJobTests.result(of: id, on: harness)
            #expect(lines.first == ["Row", "Charge Id", "Booking Date (current)", "Would Change", "Success", "Error Message"])
            #expect(lines.count - 1 == job.wouldChange && (job.wouldChange ?? 0) > 0)
            #expect(lines.dropFirst().allSatisfy { $0[2].isEmpty && $0[3] == "true" })
            #expect(
                try await harness.log.revertProblem(of: id)
                    == "backfill \(id) is a preview: it wrote no record, so there is nothing to revert")

            let apply = try await Self.apply(id, on: harness, approvedBy: "ana.lima")
            #expect(try await harness.job(apply)?.status == .completed)
            #expect(try await harness.job(apply)?.recordsProcessed == job.wouldChange, "the records the preview listed")
            #expect(try await RevertJobTests.table(harness.store) != table)
        }
    }
}
