import Foundation
import JobstreamBackfill
import JobstreamMessages
import JobstreamStore
import JobstreamTestSupport
import JobstreamWebhooks
import Logging
import SQLKit
import Synchronization
import Testing

/// A receiver in memory: answers each post with the next status of `answers` (then 200), and keeps
/// what it was sent.
final class RecordingReceiver: WebhookSending {
    struct Post: Sendable {
        let url: String
        let body: [UInt8]
        let headers: [String: String]
    }
    private let state: Mutex<(posts: [Post], answers: [Int])>

    init(answers: [Int] = []) {
        state = Mutex(([], answers))
    }

    var posts: [Post] { state.withLock { $0.posts } }

    func post(_ url: String, body: [UInt8], headers: [(String, String)], timeout: Duration) async throws -> Int {
        state.withLock { state in
            state.posts.append(Post(url: url, body: body, headers: Dictionary(headers, uniquingKeysWith: { $1 })))
            return state.answers.isEmpty ? 200 : state.answers.removeFirst()
        }
    }
}

@Suite("Webhooks: signatures, the outbox, the sweep and the deliverer")
struct WebhookTests {
    static let secret = "whsec_test_secret_0123456789"

    @Test("the signature is HMAC-SHA256 of timestamp.body, as a receiver computes it; a changed body or an old timestamp fails")
    func signature() {
        let body = Array(#"{"a":1}"#.utf8)
        let value = WebhookSignature.value(secret: Self.secret, timestamp: 1_700_000_000, body: body)
        // Computed independently: python3 -c "import hmac,hashlib; print(hmac.new(SECRET, b'1700000000.{\"a\":1}', hashlib.sha256).hexdigest())"
        #expect(value == "t=1700000000,v1=10fb0e5eb2c2204d471e7d252958fb5af663638b8d24fc8dc03090a74bcc366c")
        #expect(WebhookSignature.verify(value, secret: Self.secret, body: body, now: 1_700_000_100))
        #expect(!WebhookSignature.verify(value, secret: Self.secret, body: Array(#"{"a":2}"#.utf8), now: 1_700_000_100))
        #expect(!WebhookSignature.verify(value, secret: "another secret", body: body, now: 1_700_000_100))
        #expect(!WebhookSignature.verify(value, secret: Self.secret, body: body, now: 1_700_000_400), "a replay past 5 minutes")
    }

    @Test("backoff doubles from 2 seconds to its maximum")
    func backoff() {
        let waits = (1...12).map { WebhookDeliverer.backoff(afterAttempts: $0, maximum: .seconds(600)) }
        #expect(waits.prefix(5) == [.seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(32)])
        #expect(waits.last == .seconds(600))
    }

    /// A store with one backfill in `status`, as its validator left it.
    static func withJob(
        _ status: BackfillStatus, pausedBy: String? = nil, webhooks: [String] = [],
        _ body: (Store, BackfillJobRecord) async throws -> Void
    ) async throws {
        let (store, folder) = try await TestStores.open(.sqlite)
        defer { folder.remove() }
        var job = BackfillJobRecord.accepted(
            BackfillRequest(action: "booking-date-from-created", generatedBy: "ana.lima"), jobId: "job-1", submittedAt: 0,
            chunkSize: 10, owner: "v", requireApproval: false, previewed: nil)
        job.status = status
        job.recordsProcessed = 7
        job.pauseRequestedBy = pausedBy
        try await WebhookOutbox(store: store).subscribe(jobId: "job-1", urls: webhooks)
        #expect(try await BackfillJobLog(store: store).insert(job, leaseMilliseconds: 0))
        try await store.withDatabase { database in
            try await database.raw(
                """
                UPDATE backfill_jobs SET status = \(bind: status.rawValue), records_processed = 7,
                    pause_requested_by = \(bind: pausedBy), sequence = 3 WHERE job_id = 'job-1'
                """
            ).run()
        }
        do {
            try await body(store, try #require(try await BackfillJobLog(store: store).job("job-1")))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test("an ended job owes its final status event once to every address; a job's own address only when allowed")
    func sweep() async throws {
        try await Self.withJob(
            .completed, webhooks: ["https://hooks.slack.com/services/T0/B0/x", "http://169.254.169.254/latest"]
        ) { store, _ in
            let notifications = BackfillNotifications(
                store: store, deploymentURLs: ["http://receiver.example/jobstream"], allowedPrefixes: ["https://hooks.slack.com/"]
            )
            #expect(try await notifications.sweep() == 1)
            #expect(try await notifications.sweep() == 0, "a job is swept once per state")
            let deliveries = try await WebhookOutbox(store: store).deliveries(of: "job-1")
            #expect(
                deliveries.map(\.url).sorted() == [
                    "http://169.254.169.254/latest", "http://receiver.example/jobstream",
                    "https://hooks.slack.com/services/T0/B0/x",
                ])
            let refused = try #require(deliveries.first { $0.url.contains("169.254") })
            #expect(refused.gaveUpAt != nil && refused.lastError?.contains("--webhook-allow") == true)
            let sent = try #require(deliveries.first { $0.url.contains("receiver") })
            #expect(sent.eventKey == "Completed" && sent.gaveUpAt == nil)
            let event = try MessageCodec.decode(Array(sent.payload.utf8))
            #expect(event.jobId == "job-1")
            #expect(event.payload(as: BackfillStatusEvent.self)?.status == .completed)
        }
    }

    @Test("a job paused by an operator owes nothing; one paused at its brake does, once per pause")
    func pauses() async throws {
        try await Self.withJob(.paused, pausedBy: "ana.lima") { (store: Store, _: BackfillJobRecord) async throws in
            let notifications = BackfillNotifications(store: store, deploymentURLs: ["http://r.example/"], allowedPrefixes: [])
            #expect(try await notifications.sweep() == 0)
            #expect(try await WebhookOutbox(store: store).deliveries(of: "job-1").isEmpty)
        }
        try await Self.withJob(.paused) { (store: Store, _: BackfillJobRecord) async throws in
            let notifications = BackfillNotifications(store: store, deploymentURLs: ["http://r.example/"], allowedPrefixes: [])
            #expect(try await notifications.sweep() == 1)
            #expect(try await WebhookOutbox(store: store).deliveries(of: "job-1").map(\.eventKey) == ["paused-3"])
        }
    }

    @Test("the deliverer signs each post, tries a failed one again after its backoff, and gives up past its window")
    func deliverer() async throws {
        try await Self.withJob(.failed) { store, _ in
            let receiver = RecordingReceiver(answers: [500, 503])
            let notifications = BackfillNotifications(
                store: store, deploymentURLs: ["http://r.example/hook", "http://s.example/hook?format=slack"], allowedPrefixes: []
            )
            let deliverer = WebhookDeliverer(
                outbox: WebhookOutbox(store: store), sender: receiver, secret: Self.secret, retryWindow: .seconds(3600),
                logger: Logger(label: "test"), sweep: { try await notifications.sweep(now: $0) })
            let start = Date().epochMilliseconds
            #expect(await deliverer.turn(now: { start }) == 2)
            #expect(await deliverer.turn(now: { start }) == 0, "a failed delivery waits out its backoff")
            var deliveries = try await WebhookOutbox(store: store).deliveries(of: "job-1")
            #expect(deliveries.map(\.attempts) == [1, 1])
            #expect(deliveries.allSatisfy { $0.deliveredAt == nil && $0.lastStatus != nil && $0.nextAttemptAt == start + 2000 })
            #expect(await deliverer.turn(now: { start + 1999 }) == 0, "not before 2 seconds")
            #expect(await deliverer.turn(now: { start + 2000 }) == 2, "both are due again once their backoff has passed")
            deliveries = try await WebhookOutbox(store: store).deliveries(of: "job-1")
            #expect(deliveries.allSatisfy { $0.deliveredAt != nil && $0.attempts == 2 && $0.lastStatus == 200 })
            let posts = receiver.posts
            #expect(posts.count == 4)
            for post in posts {
                let signature = try #require(post.headers[WebhookSignature.header])
                #expect(WebhookSignature.verify(signature, secret: Self.secret, body: post.body, now: start / 1000))
                #expect(post.headers["Jobstream-Event-Id"] == "job-1/Failed")
            }
            let slack = try #require(posts.last { $0.url.contains("format=slack") })
            let text = try #require(try JSONSerialization.jsonObject(with: Data(slack.body)) as? [String: String])
            #expect(text.keys.sorted() == ["text"])
            #expect(text["text"]?.hasPrefix("Backfill job-1 (booking-date-from-created) is Failed: 7 rows processed") == true)
            let plain = try #require(posts.last { $0.url == "http://r.example/hook" })
            #expect(try MessageCodec.decode(plain.body).payload(as: BackfillStatusEvent.self)?.recordsProcessed == 7)
            #expect(posts.last { $0.url == "http://r.example/hook" }?.headers["Jobstream-Delivery-Attempt"] == "2")
        }
        try await Self.withJob(.failed) { store, _ in
            let receiver = RecordingReceiver(answers: [500])
            let notifications = BackfillNotifications(store: store, deploymentURLs: ["http://r.example/"], allowedPrefixes: [])
            let deliverer = WebhookDeliverer(
                outbox: WebhookOutbox(store: store), sender: receiver, secret: Self.secret, retryWindow: .seconds(1),
                logger: Logger(label: "test"), sweep: { try await notifications.sweep(now: $0) })
            #expect(await deliverer.turn(now: { 1_000_000 }) == 1)
            let given = try #require(try await WebhookOutbox(store: store).deliveries(of: "job-1").first)
            #expect(given.gaveUpAt != nil && given.lastError == "the receiver answered 500")
            #expect(await deliverer.turn(now: { 9_000_000 }) == 0, "a delivery given up is not tried again")
        }
    }

    @Test("logs and pages show an address by its scheme and host only")
    func redaction() {
        #expect(WebhookOutbox.redacted("https://hooks.slack.com/services/T0/B0/secret") == "https://hooks.slack.com/…")
        #expect(WebhookOutbox.redacted("http://127.0.0.1:9000/x?token=y") == "http://127.0.0.1:9000/…")
    }
}
