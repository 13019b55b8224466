import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JobstreamDashboard
import JobstreamMessages
import Testing

@Suite("Tokens, sign-in and live updates")
struct AccessAndLiveTests {
    @Test("with a viewer token set, nothing is shown without a token")
    func protectedViewing() async throws {
        try await TestDashboard.with(viewerToken: TestDashboard.viewerToken) { test, client in
            await test.publish(BackfillRouteTests.processing(), id: "job-1")
            let page = try await client.execute(uri: "/backfills", method: .get)
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=/backfills")
            #expect(!page.text.contains("job-1"))
            let fragment = try await client.execute(
                uri: "/backfills", method: .get, headers: [HTTPField.Name("X-Live-Fragment")!: "1"])
            #expect(fragment.status == .unauthorized)
            for uri in ["/api/backfills", "/api/sync", "/api/migrations", "/events", "/backfills/job-1/result.csv"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .unauthorized || response.status == .seeOther, "\(uri) answered \(response.status)")
                #expect(!response.text.contains("job-1"))
            }
            for token in [TestDashboard.viewerToken, TestDashboard.operatorToken] {
                let allowed = try await client.execute(uri: "/api/backfills", method: .get, headers: bearer(token))
                #expect(allowed.status == .ok)
                #expect(allowed.text.contains("\"jobId\":\"job-1\""))
            }
        }
    }

    @Test("signing in sets an HttpOnly, SameSite=Strict cookie; a wrong token sets none")
    func signIn() async throws {
        try await TestDashboard.with(viewerToken: TestDashboard.viewerToken) { _, client in
            let form = "token=\(TestDashboard.operatorToken)&name=Ana%20Lima&next=%2Fsync"
            let signedIn = try await client.execute(
                uri: "/login", method: .post,
                headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: form))
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/sync")
            let cookies = signedIn.headers[values: .setCookie]
            let tokenCookie = try #require(cookies.first { $0.hasPrefix("jobstream_token=") })
            #expect(tokenCookie.contains("HttpOnly") && tokenCookie.contains("SameSite=Strict"))

            let wrong = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=guess-guess-guess-guess&next=%2F%2Fevil.example"))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[values: .setCookie].isEmpty)

            let offsite = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "token=\(TestDashboard.viewerToken)&next=%2F%2Fevil.example"))
            #expect(offsite.headers[.location] == "/backfills")
        }
    }

    @Test("tokens that are too short, or the same for both roles, are refused at start-up")
    func tokenRules() {
        #expect(throws: AccessConfigurationError.self) { try DashboardAccess(operatorToken: "short", viewerToken: nil) }
        #expect(throws: AccessConfigurationError.self, "the example shipped in deploy/ is refused") {
            try DashboardAccess(operatorToken: "CHANGE-ME-to-24-random-characters", viewerToken: nil)
        }
        #expect(throws: AccessConfigurationError.self, "long but not random") {
            try DashboardAccess(operatorToken: String(repeating: "ab12", count: 8), viewerToken: nil)
        }
        #expect(throws: AccessConfigurationError.self) {
            try DashboardAccess(operatorToken: TestDashboard.operatorToken, viewerToken: TestDashboard.operatorToken)
        }
        #expect(throws: AccessConfigurationError.self) {
            try DashboardAccess(operatorToken: "has a space in it, long enough", viewerToken: nil)
        }
        let access = try? DashboardAccess(operatorToken: TestDashboard.operatorToken, viewerToken: nil)
        #expect(access?.role(forToken: TestDashboard.operatorToken) == .operator)
        #expect(access?.role(forToken: TestDashboard.operatorToken + "x") == .anonymous)
        #expect(access?.mayView(.anonymous) == true)
    }

    @Test("the event stream names each log that changes and ends when the board closes")
    func liveEvents() async throws {
        try await TestDashboard.with { test, client in
            let board = test.board
            let publisher = Task {
                while await board.subscriberCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
                await test.publish(
                    MigrationStatusEvent(
                        generatedBy: "ops", cutoverDate: CalendarDate(year: 2025, month: 1, day: 1)!,
                        progress: 0, status: .accepted), id: "m-1")
                await test.publish(BackfillRouteTests.processing(), id: "job-1")
                await board.close()
            }
            let stream = try await client.execute(uri: "/events", method: .get)
            try await publisher.value
            #expect(stream.headers[.contentType] == "text/event-stream")
            #expect(stream.text.hasPrefix("retry: 2000\n"))
            let migrations = try #require(stream.text.range(of: "event: change\ndata: migrations\n\n"))
            let backfills = try #require(stream.text.range(of: "event: change\ndata: backfills\n\n"))
            #expect(migrations.lowerBound < backfills.lowerBound)
            #expect(await board.subscriberCount == 0)
        }
    }
}

@Suite("Board, escaping and CSV safety")
struct DashboardUnitTests {
    @Test("HTML interpolation escapes text and keeps markup")
    func html() {
        let name = "<a href=\"x\">'&'</a>"
        let cell: HTML = "<td>\(name)</td>"
        #expect(cell.rendered == "<td>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</td>")
        let nested: HTML = "<tr>\(cell)</tr>"
        #expect(nested.rendered == "<tr><td>&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;</td></tr>")
    }

    @Test(
        "formula cells are defused; plain numbers and ordinary text are not",
        arguments: [
            ("=1+2", "'=1+2"), ("+1+2", "'+1+2"), ("-1+2", "'-1+2"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
            ("-12.50", "-12.50"), ("+3", "+3"), ("-0.5", "-0.5"), ("-", "'-"), ("-.5", "'-.5"), ("1-2", "1-2"), ("", ""),
            ("ACC-100", "ACC-100"), ("a=b", "a=b"),
        ])
    func defuse(cell: String, expected: String) {
        #expect(SpreadsheetSafety.defuse(cell) == expected)
    }

    @Test("the board keeps the latest event per job and announces each change until closed")
    func board() async throws {
        let board = StatusBoard()
        let changes = await board.changes()
        let first = BackfillStatusEvent(action: "a", generatedBy: "g", status: .pending)
        var second = first
        second.status = .processing
        await board.apply(AnyEnvelope(Envelope(jobId: "j", payload: first)))
        await board.apply(AnyEnvelope(Envelope(jobId: "j", payload: second)))
        let ignored = await board.apply(
            AnyEnvelope(Envelope(jobId: "j", payload: BackfillRequest(action: "x", generatedBy: "x"))))
        #expect(ignored == nil)
        #expect(await board.backfillList().map(\.status) == [.processing])
        await board.close()
        var seen: [StatusBoard.Log] = []
        for await log in changes { seen.append(log) }
        #expect(seen == [.backfills, .backfills])
        var afterClose: [StatusBoard.Log] = []
        for await log in await board.changes() { afterClose.append(log) }
        #expect(afterClose.isEmpty)
    }
}
