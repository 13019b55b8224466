import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobstreamBackfill
import JobstreamDashboard
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import NIOCore
import Testing

@Suite("The jobs API: submit, act, follow, audit")
struct JobsAPITests {
    static let csv = "Charge Id,Booking Date\nRPC-00000001,2025-01-15\nRPC-00000002,2025-02-01\n"

    static func json(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    @Test("a file sent as the body is stored whole under uploads/<job>/<name>, and the job logged as the token's name")
    func submitWithFile() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            var headers = bearer(TestDashboard.namedOperatorToken)
            headers[.contentType] = "text/csv"
            let response = try await client.execute(
                uri: "/api/backfills?action=update-rate-plan-charge&filename=charges.csv&preview=true&maxFailed=2.5%25&rate=500",
                method: .post, headers: headers, body: ByteBuffer(string: Self.csv))
            #expect(response.status == .accepted)
            let answer = try Self.json(response)
            let jobId = try #require(answer["jobId"] as? String)
            #expect(answer["by"] as? String == "ana.lima")
            #expect(answer["events"] as? String == "/api/backfills/\(jobId)/events")
            let submitted = await test.cancels.submitted
            #expect(submitted.count == 1)
            let request = try #require(submitted.first?.request)
            #expect(submitted.first?.jobId == jobId)
            #expect(request.generatedBy == "ana.lima", "a named token's name, never a name the request gives")
            #expect(request.preview == true && request.maxFailed == "2.5%" && request.ratePerSecond == 500)
            let file = try #require(request.file)
            #expect(file.path == "uploads/\(jobId)/charges.csv")
            #expect(file.sizeBytes == Int64(Self.csv.utf8.count))
            let stored = try String(contentsOf: test.files.resolve(file.path), encoding: .utf8)
            #expect(stored == Self.csv)
            let trail = try await AuditTrail(store: test.store).events(targetId: jobId, limit: 5)
            #expect(trail.map(\.outcome) == ["accepted"])
            #expect(trail.first?.action == "backfill.submit" && trail.first?.actor == "ana.lima")
            #expect(trail.first?.detail?.contains("file charges.csv (\(Self.csv.utf8.count) bytes), preview") == true)
        }
    }

    @Test("a checksum that does not match, a body over the limit, a bad name or a missing file: refused, nothing stored")
    func submitRefusals() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            let token = bearer(TestDashboard.namedOperatorToken)
            func post(_ query: String, _ body: String, headers extra: HTTPFields = [:]) async throws -> TestResponse {
                var headers = token
                headers.append(contentsOf: extra)
                return try await client.execute(
                    uri: "/api/backfills?\(query)", method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            let md5 = Data(Insecure.MD5.hash(data: Data(Self.csv.utf8))).base64EncodedString()
            let wrongMD5 = Data(Insecure.MD5.hash(data: Data("other".utf8))).base64EncodedString()
            let damaged = try await post(
                "action=update-rate-plan-charge&filename=a.csv", Self.csv, headers: [HTTPField.Name("Content-MD5")!: wrongMD5])
            #expect(damaged.status == .badRequest && damaged.text.contains("MD5 checksum"))
            let tooBig = try await post("action=update-rate-plan-charge&filename=a.csv", String(repeating: "x", count: 70_000))
            #expect(tooBig.status == .contentTooLarge)
            for (query, words) in [
                ("action=update-rate-plan-charge&filename=../a.csv", "not a plain file name"),
                ("action=update-rate-plan-charge&filename=a.txt", "does not end .csv or .zip"),
                ("action=update-rate-plan-charge", "needs a file"),
                ("action=booking-date-from-created&filename=a.csv", "takes no file"),
                ("action=no-such-action", "no-such-action"),
                ("action=update-rate-plan-charge&filename=a.csv&maxFailed=lots", "maxFailed"),
                ("action=update-rate-plan-charge&filename=a.csv&preview=maybe", "not true or false"),
            ] {
                let refused = try await post(query, Self.csv)
                #expect(refused.status == .badRequest, "\(query)")
                #expect(refused.text.contains(words), "\(query): \(refused.text)")
            }
            let matching = try await post(
                "action=update-rate-plan-charge&filename=ok.csv", Self.csv, headers: [HTTPField.Name("Content-MD5")!: md5])
            #expect(matching.status == .accepted)
            #expect(await test.cancels.submitted.count == 1, "only the file that matched its checksum was logged")
            let uploads = test.files.root.appendingPathComponent("uploads")
            let stored = try FileManager.default.subpathsOfDirectory(atPath: uploads.path).filter {
                $0.hasSuffix("csv") || $0.hasSuffix("partial")
            }
            #expect(stored.count == 1 && stored[0].hasSuffix("/ok.csv"), "\(stored)")
            let refusals = try await AuditTrail(store: test.store).events(limit: 20).filter { $0.outcome.hasPrefix("refused") }
            #expect(refusals.count == 9)
        }
    }

    @Test("a file name of the longest allowed is stored (its partial file is named apart: found by schemathesis as a 503)")
    func longestName() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            let name = String(repeating: "n", count: InputLimits.fileNameBytes - 4) + ".csv"
            let response = try await client.execute(
                uri: "/api/backfills?action=update-rate-plan-charge&filename=\(name)", method: .post,
                headers: bearer(TestDashboard.namedOperatorToken), body: ByteBuffer(string: Self.csv))
            #expect(response.status == .accepted, "\(response.text)")
            let file = try #require(await test.cancels.submitted.first?.request.file)
            #expect(file.name == name && file.sizeBytes == Int64(Self.csv.utf8.count))
        }
    }

    @Test("roles: anonymous 401, viewer 403, operator submits but cannot apply, approver applies as itself")
    func roles() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            var preview = BackfillRouteTests.processing()
            preview.status = .completed
            preview.preview = true
            await test.publish(preview, id: "job-p")
            let submit = "/api/backfills?action=booking-date-from-created"
            #expect(try await client.execute(uri: submit, method: .post).status == .unauthorized)
            #expect(
                try await client.execute(uri: submit, method: .post, headers: bearer(TestDashboard.namedViewerToken)).status
                    == .forbidden)
            let fileless = try await client.execute(uri: submit, method: .post, headers: bearer(TestDashboard.namedOperatorToken))
            #expect(fileless.status == .accepted)
            let byOperator = try await client.execute(
                uri: "/api/backfills/job-p/apply", method: .post, headers: bearer(TestDashboard.namedOperatorToken))
            #expect(byOperator.status == .forbidden && byOperator.text.contains("only a named approver token"))
            let byShared = try await client.execute(
                uri: "/api/backfills/job-p/apply", method: .post, headers: bearer(TestDashboard.operatorToken))
            #expect(byShared.status == .forbidden)
            let applied = try await client.execute(
                uri: "/api/backfills/job-p/apply", method: .post, headers: bearer(TestDashboard.approverToken),
                body: ByteBuffer(string: #"{"overwriteChanged": true}"#))
            #expect(applied.status == .accepted)
            let answer = try Self.json(applied)
            #expect(answer["of"] as? String == "job-p" && answer["by"] as? String == "bea.costa")
            #expect(await test.cancels.started == ["apply job-p approved by bea.costa as bea.costa overwriting"])
            #expect(await test.cancels.submitted.first?.request.generatedBy == "ana.lima")
            let audit = try await client.execute(
                uri: "/api/audit?job=job-p", method: .get, headers: bearer(TestDashboard.approverToken))
            let events = try #require(try Self.json(audit)["events"] as? [[String: Any]])
            #expect(events.map { $0["outcome"] as? String } == ["accepted", "refused (403)", "refused (403)"])
            #expect(
                try await client.execute(uri: "/api/audit", method: .get, headers: bearer(TestDashboard.namedViewerToken)).status
                    == .forbidden, "the trail names who did what from where: operators and approvers only")
        }
    }

    @Test("pause, resume with a new brake, rate and cancel: recorded under the token's name, whatever the body says")
    func holds() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            await test.publish(BackfillRouteTests.processing(), id: "job-1")
            var paused = BackfillRouteTests.processing()
            paused.status = .paused
            await test.publish(paused, id: "job-2")
            let token = bearer(TestDashboard.namedOperatorToken)
            func post(_ uri: String, _ body: String = "") async throws -> TestResponse {
                try await client.execute(uri: uri, method: .post, headers: token, body: ByteBuffer(string: body))
            }
            #expect(try await post("/api/backfills/job-1/pause").status == .accepted)
            #expect(try await post("/api/backfills/job-2/resume", #"{"maxFailed": "5%"}"#).status == .accepted)
            #expect(try await post("/api/backfills/job-1/rate", #"{"rowsPerSecond": 250}"#).status == .accepted)
            #expect(try await post("/api/backfills/job-1/rate", #"{"rowsPerSecond": 0}"#).status == .badRequest)
            #expect(try await post("/api/backfills/job-2/pause").status == .conflict)
            #expect(try await post("/api/backfills/job-9/pause").status == .notFound)
            #expect(try await post("/api/backfills/job-1/pause", "not json").status == .badRequest)
            let cancel = try await post("/api/backfills/job-1/cancel", #"{"requestedBy": "someone.else"}"#)
            #expect(cancel.status == .accepted)
            #expect(try Self.json(cancel)["requestedBy"] as? String == "ana.lima")
            #expect(await test.cancels.holds == ["pause job-1 by ana.lima", "resume job-2 max failed 5%", "rate job-1 250"])
            #expect(await test.cancels.requests.map(\.requestedBy) == ["ana.lima"])
        }
    }

    @Test("a migration starts with a cutover date; a body without one is refused")
    func migration() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            let token = bearer(TestDashboard.namedOperatorToken)
            let started = try await client.execute(
                uri: "/api/migrations", method: .post, headers: token,
                body: ByteBuffer(string: #"{"cutoverDate": "2026-01-01", "preview": true}"#))
            #expect(started.status == .accepted)
            let migrations = await test.cancels.migrations
            #expect(migrations.count == 1)
            #expect(migrations.first?.request.preview == true && migrations.first?.request.generatedBy == "ana.lima")
            #expect(try Self.json(started)["jobId"] as? String == migrations.first?.id)
            for body in ["{}", #"{"cutoverDate": "01/01/2026"}"#, "["] {
                let refused = try await client.execute(
                    uri: "/api/migrations", method: .post, headers: token, body: ByteBuffer(string: body))
                #expect(refused.status == .badRequest, "\(body)")
            }
        }
    }

    @Test("following a job sends its summary at each change and ends after its last status")
    func follow() async throws {
        try await TestDashboard.with { test, client in
            let board = test.board
            await test.publish(BackfillRouteTests.processing(), id: "job-1")
            let publisher = Task {
                while await board.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
                var done = BackfillRouteTests.processing()
                await test.publish(BackfillRouteTests.processing(), id: "job-other")
                done.status = .completed
                done.recordsProcessed = 1300
                await test.publish(done, id: "job-1")
            }
            let stream = try await client.execute(uri: "/api/backfills/job-1/events", method: .get)
            try await publisher.value
            #expect(stream.headers[.contentType] == "text/event-stream")
            let events = stream.text.components(separatedBy: "event: status\ndata: ").dropFirst()
            #expect(events.count == 2, "\(stream.text)")
            #expect(events.first?.contains(#""status":"Processing""#) == true)
            #expect(
                events.last?.contains(#""recordsProcessed":1300"#) == true
                    && events.last?.contains(#""status":"Completed""#) == true)
            #expect(!stream.text.contains("job-other"))
            #expect(try await client.execute(uri: "/api/backfills/job-none/events", method: .get).status == .notFound)
        }
    }

    @Test("a job's webhook deliveries show on its details and in the API, each address by its scheme and host only")
    func webhookDeliveries() async throws {
        try await TestDashboard.with { test, client in
            var done = BackfillRouteTests.processing()
            done.status = .completed
            await test.publish(done, id: "job-1")
            let outbox = WebhookOutbox(store: test.store)
            try await test.store.withDatabase { database in
                try await outbox.owe(
                    jobId: "job-1", eventKey: "Completed", payload: "{}", urls: ["https://hooks.slack.com/services/T0/B0/SECRET"],
                    refused: [("http://10.0.0.1/x", "not an address this deployment allows jobs to add")], now: 1000,
                    in: database)
            }
            let page = try await client.execute(uri: "/backfills/job-1", method: .get)
            #expect(page.text.contains("<h2>Webhooks</h2>"))
            #expect(page.text.contains("https://hooks.slack.com/…") && page.text.contains("waiting"))
            #expect(page.text.contains("given up") && page.text.contains("not an address this deployment allows"))
            #expect(!page.text.contains("SECRET"), "a webhook's path can be its secret")
            let api = try await client.execute(uri: "/api/backfills/job-1/webhooks", method: .get)
            let deliveries = try #require(try Self.json(api)["deliveries"] as? [[String: Any]])
            #expect(deliveries.count == 2 && !api.text.contains("SECRET"))
            #expect(Set(deliveries.compactMap { $0["to"] as? String }) == ["https://hooks.slack.com/…", "http://10.0.0.1/…"])
        }
    }

    @Test("the result file downloads as written; failures holds only the rows that did not succeed")
    func files() async throws {
        try await TestDashboard.with { test, client in
            let (relative, url) = try test.files.resultFile(jobId: "job-1", uploadedName: "charges.csv")
            let result =
                "Charge Id,Booking Date,Success,Error Message\nRPC-1,=2025-01-15,true,\nRPC-2,2025-13-01,false,bad date\n"
            try result.write(to: url, atomically: true, encoding: .utf8)
            var done = BackfillRouteTests.processing()
            done.status = .completed
            done.resultFile = FileReference(path: relative, name: "charges-result.csv")
            await test.publish(done, id: "job-1")
            let whole = try await client.execute(uri: "/api/backfills/job-1/result", method: .get)
            #expect(whole.status == .ok && whole.text == result, "the API hands programs the file as it is")
            let failures = try await client.execute(uri: "/api/backfills/job-1/failures", method: .get)
            #expect(failures.text == "Charge Id,Booking Date,Success,Error Message\r\nRPC-2,2025-13-01,false,bad date\r\n")
            #expect(failures.headers[.contentDisposition]?.contains("charges-result-failures.csv") == true)
        }
    }
}

/// The API and pages with the file store in an object store (in memory, at the file store's seam).
@Suite("Files over HTTP in an object store")
struct ObjectStoreAPITests {
    @Test("an upload goes up to the object store and nothing stays in the scratch folder; downloads read it there")
    func uploadAndDownload() async throws {
        let objects = InMemoryObjectStorage()
        try await TestDashboard.with(named: TestDashboard.namedTokens, objects: objects) { test, client in
            var headers = bearer(TestDashboard.namedOperatorToken)
            headers[.contentType] = "text/csv"
            let response = try await client.execute(
                uri: "/api/backfills?action=update-rate-plan-charge&filename=charges.csv", method: .post, headers: headers,
                body: ByteBuffer(string: JobsAPITests.csv))
            #expect(response.status == .accepted)
            let jobId = try #require(try JobsAPITests.json(response)["jobId"] as? String)
            #expect(objects.bytes("uploads/\(jobId)/charges.csv") == Array(JobsAPITests.csv.utf8))
            let left = FileManager.default.enumerator(atPath: test.files.root.path)?.allObjects as? [String] ?? []
            #expect(!left.contains { $0.hasSuffix(".csv") || $0.hasSuffix(".partial") }, "left in the scratch folder: \(left)")

            let result = "Charge Id,Booking Date,Success,Error Message\nRPC-1,2025-01-15,true,\nRPC-2,2025-13-01,false,bad date\n"
            objects.put("results/job-1/run-1/charges-result.csv", Array(result.utf8))
            var done = BackfillRouteTests.processing()
            done.status = .completed
            done.resultFile = FileReference(path: "results/job-1/run-1/charges-result.csv", name: "charges-result.csv")
            await test.publish(done, id: "job-1")
            let reading = bearer(TestDashboard.namedOperatorToken)
            let whole = try await client.execute(uri: "/api/backfills/job-1/result", method: .get, headers: reading)
            #expect(whole.status == .ok && whole.text == result)
            let failures = try await client.execute(uri: "/api/backfills/job-1/failures", method: .get, headers: reading)
            #expect(failures.text == "Charge Id,Booking Date,Success,Error Message\r\nRPC-2,2025-13-01,false,bad date\r\n")
            let page = try await client.execute(
                uri: "/backfills/job-1/result.csv", method: .get, headers: bearer(TestDashboard.namedOperatorToken))
            #expect(page.status == .ok && page.text.contains("RPC-2,2025-13-01,false,bad date"))

            try await objects.delete("results/job-1/run-1/charges-result.csv")
            let gone = try await client.execute(uri: "/api/backfills/job-1/result", method: .get, headers: reading)
            #expect(gone.status == .notFound)
        }
    }
}

@Suite("The New backfill page")
struct NewBackfillPageTests {
    @Test("operators get the form (every action, preview on by default) and a link from the log; others do not")
    func form() async throws {
        try await TestDashboard.with(named: TestDashboard.namedTokens) { test, client in
            let page = try await client.execute(
                uri: "/backfills/new", method: .get, headers: bearer(TestDashboard.namedOperatorToken))
            #expect(page.status == .ok)
            #expect(page.text.contains("<form class=\"new-backfill\" id=\"new-backfill\">"))
            #expect(page.text.contains("name=\"preview\" checked"))
            for action in ["update-rate-plan-charge", "update-invoice-item", "booking-date-from-created"] {
                #expect(page.text.contains("<option value=\"\(action)\""), "\(action)")
            }
            #expect(page.text.contains("data-needs-file=\"false\">booking-date-from-created"))
            let viewer = try await client.execute(
                uri: "/backfills/new", method: .get, headers: bearer(TestDashboard.namedViewerToken))
            #expect(viewer.status == .forbidden)
            let list = try await client.execute(
                uri: "/backfills", method: .get, headers: bearer(TestDashboard.namedOperatorToken))
            #expect(list.text.contains("href=\"/backfills/new\""))
            let viewersList = try await client.execute(
                uri: "/backfills", method: .get, headers: bearer(TestDashboard.namedViewerToken))
            #expect(!viewersList.text.contains("href=\"/backfills/new\""))
        }
    }

    @Test("a job in the log but not yet on the status topic gets a live waiting page, not a 404")
    func waiting() async throws {
        try await TestDashboard.with { test, client in
            let job = BackfillJobRecord.accepted(
                BackfillRequest(action: "booking-date-from-created", generatedBy: "ana.lima"), jobId: "job-new", submittedAt: 0,
                chunkSize: 10, owner: "dashboard", requireApproval: false, previewed: nil)
            #expect(try await BackfillJobLog(store: test.store).insert(job, leaseMilliseconds: 0))
            let page = try await client.execute(uri: "/backfills/job-new?notice=submitted", method: .get)
            #expect(page.status == .ok && page.text.contains("Backfill job-new is logged"))
            #expect(page.text.contains("data-live=\"backfills\""))
            #expect(try await client.execute(uri: "/backfills/job-none", method: .get).status == .notFound)
            await test.publish(BackfillRouteTests.processing(), id: "job-new")
            let details = try await client.execute(uri: "/backfills/job-new?notice=submitted", method: .get)
            #expect(details.text.contains("Submitted. This page follows the job"))
        }
    }
}

@Suite("Named tokens and the API document")
struct NamedTokenTests {
    @Test("a token file holds names, roles and hashes; a bad line is refused naming its number")
    func tokenFile() throws {
        let tokens = TestDashboard.namedTokens
        #expect(tokens.entries.map(\.name) == ["bea.costa", "ana.lima", "carl.viewer"])
        let access = try DashboardAccess(operatorToken: nil, viewerToken: nil, named: tokens)
        #expect(access.identity(forToken: TestDashboard.approverToken) == .init(role: .approver, name: "bea.costa"))
        #expect(access.identity(forToken: TestDashboard.approverToken + "x") == .anonymous)
        #expect(access.viewingNeedsToken && access.actionsEnabled)
        let line = NamedTokens.line(name: "x", role: .viewer, token: "secret-token")
        #expect(
            !line.contains("secret-token") && line.hasPrefix("x viewer sha256:") && line.count == "x viewer sha256:".count + 64)
        for (text, words) in [
            ("ana operator", "line 1: expected NAME ROLE sha256:HEX"),
            ("# a comment\n\nana boss sha256:" + String(repeating: "0", count: 64), "line 3: the role"),
            ("ana operator plain-token-in-the-file", "the file holds hashes, never tokens"),
            ("ana/x operator sha256:" + String(repeating: "0", count: 64), "a token's name"),
            (line + "\n" + line, "given twice"),
        ] {
            #expect(throws: AccessConfigurationError.self, "\(text)") { try NamedTokens.parse(text) }
            do { _ = try NamedTokens.parse(text) } catch { #expect(error.description.contains(words), "\(error)") }
        }
    }

    @Test("every route of the API is in the OpenAPI document, and the document lists no route the API lacks")
    func documentMatchesRoutes() async throws {
        try await TestDashboard.with { test, client in
            let response = try await client.execute(uri: "/api/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let documented = Set(
                paths.flatMap { path, operations in
                    operations.keys.map { "\($0.uppercased()) \(path)" }
                })
            let served = Set(
                test.dashboard.router().routes.map { "\($0.method) \($0.path)" }
                    .filter { $0.contains(" /api/") }
                    .map { $0.replacing(/:(\w+)/) { "{\($0.1)}" } })
            #expect(
                served == documented,
                "only served: \(served.subtracting(documented)); only documented: \(documented.subtracting(served))")
        }
    }
}
