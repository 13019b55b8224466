import Foundation
import HTTPTypes
import HummingbirdTesting
import JobstreamDashboard
import JobstreamMessages
import JobstreamStore
import JobstreamSync
import SQLKit
import Testing

@Suite("Sync History and Migration Logs: filters, details, downloads")
struct SyncAndMigrationRouteTests {
    static func session(
        _ operation: SyncOperation, started: String, status: SyncSessionStatus = .finished,
        failed: Int = 0
    ) -> SyncHistoryEntry {
        SyncHistoryEntry(
            operation: operation, status: status, startedAt: date(started), finishedAt: date(started).addingTimeInterval(60),
            recordsSynced: 10, recordsFailed: failed)
    }

    static func fill(_ test: TestDashboard) async {
        await test.publish(session(.manual, started: "2026-11-01T10:00:00Z"), id: "s-manual-1")
        await test.publish(session(.scheduled, started: "2026-11-02T23:59:59Z"), id: "s-scheduled-2")
        await test.publish(
            session(.manual, started: "2026-11-03T00:00:00Z", status: .finishedWithErrors, failed: 2), id: "s-manual-3")
    }

    @Test("the From/To/Operation filter keeps whole UTC days and one operation, on the page and the API")
    func filters() async throws {
        try await TestDashboard.with { test, client in
            await Self.fill(test)
            let all = try await client.execute(uri: "/api/sync", method: .get)
            #expect(all.text.contains("s-manual-1") && all.text.contains("s-scheduled-2") && all.text.contains("s-manual-3"))

            let days = try await client.execute(uri: "/api/sync?from=2026-11-02&to=2026-11-02", method: .get)
            #expect(days.status == .ok)
            #expect(days.text.contains("s-scheduled-2") && !days.text.contains("s-manual"))

            let manual = try await client.execute(uri: "/sync?from=2026-11-01&to=2026-11-03&operation=Manual", method: .get)
            #expect(manual.text.contains("data-session=\"s-manual-1\"") && manual.text.contains("data-session=\"s-manual-3\""))
            #expect(!manual.text.contains("data-session=\"s-scheduled-2\""))
            #expect(manual.text.contains("<option value=\"Manual\" selected>"))
            #expect(manual.text.contains("value=\"2026-11-01\""))
            // Newest first, and the failed count links to the failures CSV.
            let newest = try #require(manual.text.range(of: "s-manual-3"))
            let oldest = try #require(manual.text.range(of: "s-manual-1"))
            #expect(newest.lowerBound < oldest.lowerBound)
            #expect(manual.text.contains("href=\"/sync/s-manual-3/failures.csv\" download>[more...]"))

            let newestTwo = try await client.execute(uri: "/api/sync?limit=2", method: .get)
            #expect(newestTwo.text.contains("\"matching\":3"))
            #expect(
                newestTwo.text.contains("s-manual-3") && newestTwo.text.contains("s-scheduled-2")
                    && !newestTwo.text.contains("s-manual-1"))
        }
    }

    @Test("a bad filter gets a 400 naming the parameter, and lists nothing")
    func badFilter() async throws {
        try await TestDashboard.with { test, client in
            await Self.fill(test)
            let api = try await client.execute(uri: "/api/sync?from=2026-02-30", method: .get)
            #expect(api.status == .badRequest)
            #expect(api.text.contains("from \\\"2026-02-30\\\" is not a date"))
            let reversed = try await client.execute(uri: "/api/sync?from=2026-11-03&to=2026-11-01", method: .get)
            #expect(reversed.status == .badRequest)
            let operation = try await client.execute(uri: "/sync?operation=%3Cb%3EWeekly", method: .get)
            #expect(operation.status == .badRequest)
            #expect(operation.text.contains("operation &quot;&lt;b&gt;Weekly&quot; is not one of"))
            #expect(!operation.text.contains("data-session"))
            let limit = try await client.execute(uri: "/api/sync?limit=0", method: .get)
            #expect(limit.status == .badRequest)
        }
    }

    @Test("a session's page and failures CSV come from the store, defused")
    func sessionDetails() async throws {
        try await TestDashboard.with { test, client in
            await Self.fill(test)
            var batch = SyncEventBatch()
            batch.add(SyncSessionStarted(operation: .manual, startedAt: date("2026-11-03T00:00:00Z")), sessionId: "s-manual-3")
            batch.add(
                SyncRecordOutcome(
                    objectType: "Account", objectId: "A-1", success: false, errorCode: "INVALID_ID",
                    errorMessage: "=cmd|' /C calc'!A0 <b>bold</b>", retryable: false), sessionId: "s-manual-3")
            batch.add(
                SyncRecordOutcome(
                    objectType: "Account", objectId: "A-2", success: false, errorCode: "LOCKED",
                    errorMessage: "Unable to lock row", retryable: true), sessionId: "s-manual-3")
            _ = try await SyncHistoryLog(store: test.store).apply(batch)

            let page = try await client.execute(uri: "/sync/s-manual-3", method: .get)
            #expect(page.status == .ok)
            #expect(page.text.contains("Finished with Errors"))
            #expect(page.text.contains("=cmd|&#39; /C calc&#39;!A0 &lt;b&gt;bold&lt;/b&gt;"))
            #expect(page.text.contains("Manual fix") && page.text.contains("Automatic"))

            let csv = try await client.execute(uri: "/sync/s-manual-3/failures.csv", method: .get)
            #expect(csv.status == .ok)
            let lines = csv.text.split(separator: "\r\n").map(String.init)
            #expect(lines.first == "Object Type,Object Id,CRM Id,Error Code,Error Message,Retry")
            #expect(lines.contains("Account,A-1,,INVALID_ID,'=cmd|' /C calc'!A0 <b>bold</b>,Manual fix"))
            #expect(lines.contains("Account,A-2,,LOCKED,Unable to lock row,Automatic"))

            let api = try await client.execute(uri: "/api/sync/s-manual-3", method: .get)
            #expect(api.text.contains("\"failedRecords\""))
            #expect(api.text.contains("INVALID_ID"))
            let missing = try await client.execute(uri: "/sync/nope", method: .get)
            #expect(missing.status == .notFound)
        }
    }

    @Test("a tombstone on the sync history removes the session from the list")
    func tombstone() async throws {
        try await TestDashboard.with { test, client in
            await Self.fill(test)
            await test.board.removeSyncSession("s-manual-1")
            let list = try await client.execute(uri: "/api/sync", method: .get)
            #expect(!list.text.contains("s-manual-1"))
            #expect(list.text.contains("s-manual-3"))
        }
    }

    @Test("the Migration Logs show progress as a bar; details list the warnings from the store")
    func migrations() async throws {
        try await TestDashboard.with { test, client in
            let cutover = CalendarDate(year: 2025, month: 1, day: 1)!
            await test.publish(
                MigrationStatusEvent(
                    startTime: date("2026-11-20T08:00:00Z"), generatedBy: "ops", cutoverDate: cutover,
                    progress: 40, status: .inProgress), id: "m-1")
            try await test.store.withDatabase { database in
                for (charge, reason) in [("C-1", "no booking date"), ("C-2", "+SUM(1) <i>x</i>")] {
                    try await database.raw(
                        "INSERT INTO migration_warnings (migration_id, charge_id, reason) VALUES ('m-1', \(bind: charge), \(bind: reason))"
                    ).run()
                }
            }
            let list = try await client.execute(uri: "/migrations", method: .get)
            #expect(list.text.contains("<progress max=\"100\" value=\"40\""))
            #expect(list.text.contains("In progress"))
            for column in ["Start Time", "End Time", "Generated By", "Cutover Date", "Progress", "Status"] {
                #expect(list.text.contains("<th>\(column)</th>"))
            }
            let details = try await client.execute(uri: "/migrations/m-1", method: .get)
            #expect(details.text.contains("no booking date"))
            #expect(details.text.contains("+SUM(1) &lt;i&gt;x&lt;/i&gt;"))
            let csv = try await client.execute(uri: "/migrations/m-1/warnings.csv", method: .get)
            #expect(csv.text == "Charge Id,Reason\r\nC-1,no booking date\r\nC-2,'+SUM(1) <i>x</i>\r\n")
            let api = try await client.execute(uri: "/api/migrations/m-1?warnings=1", method: .get)
            #expect(api.text.contains("\"progress\":40"))
            #expect(api.text.contains("C-1") && !api.text.contains("C-2"))
            #expect(api.text.contains("\"preview\":false"))

            var preview = MigrationStatusEvent(
                generatedBy: "ops", cutoverDate: cutover, progress: 100, status: .completed, schedulesGenerated: 900)
            preview.preview = true
            await test.publish(preview, id: "m-2")
            #expect(
                try await client.execute(uri: "/migrations", method: .get).text.contains("<span class=\"tag\">preview</span>"))
            let previewed = try await client.execute(uri: "/migrations/m-2", method: .get)
            #expect(previewed.text.contains("Schedules It Would Generate") && previewed.text.contains("no schedule was written"))
        }
    }
}
