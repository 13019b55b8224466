import Foundation
import JobstreamMessages
import JobstreamStore
import Logging

/// Sends the webhooks the outbox owes (``WebhookOutbox``), apart from any job: a receiver that is
/// down or slow delays only its own deliveries, never a job. Each turn it runs the sweep that turns
/// ended jobs into deliveries, claims the due ones, sends them side by side (each with a timeout) and
/// records every attempt. A failed delivery is tried again after 2, 4, 8 … seconds (at most
/// `maximumBackoff`) until `retryWindow` after it was owed, then given up.
public struct WebhookDeliverer: Sendable {
    let outbox: WebhookOutbox
    let sender: any WebhookSending
    let secret: String
    let sweep: @Sendable (_ now: Int) async throws -> Void
    let interval: Duration
    let timeout: Duration
    let retryWindow: Duration
    let maximumBackoff: Duration
    let logger: Logger

    public init(
        outbox: WebhookOutbox, sender: any WebhookSending, secret: String, interval: Duration = .seconds(1),
        timeout: Duration = .seconds(10), retryWindow: Duration = .seconds(24 * 3600), maximumBackoff: Duration = .seconds(600),
        logger: Logger, sweep: @escaping @Sendable (_ now: Int) async throws -> Void
    ) {
        self.outbox = outbox
        self.sender = sender
        self.secret = secret
        self.sweep = sweep
        self.interval = interval
        self.timeout = timeout
        self.retryWindow = retryWindow
        self.maximumBackoff = maximumBackoff
        self.logger = logger
    }

    /// Turns until the task is cancelled.
    public func run() async {
        while !Task.isCancelled {
            await turn()
            try? await Task.sleep(for: interval)
        }
    }

    /// One turn at `now`: sweep, then send what is due. Returns how many deliveries it tried.
    @discardableResult
    public func turn(now: () -> Int = { Date().epochMilliseconds }) async -> Int {
        let instant = now()
        do { try await sweep(instant) } catch { logger.warning("sweeping ended jobs for webhooks failed: \(error)") }
        let due: [WebhookOutbox.Delivery]
        do {
            due = try await outbox.claimDue(limit: 20, claimMilliseconds: Int((timeout * 3).seconds * 1000), now: instant)
        } catch {
            logger.warning("reading the webhooks due failed: \(error)")
            return 0
        }
        await withTaskGroup(of: Void.self) { group in
            for delivery in due {
                group.addTask { await deliver(delivery, now: instant) }
            }
        }
        return due.count
    }

    /// Seconds to wait after the `attempts`-th failure.
    public static func backoff(afterAttempts attempts: Int, maximum: Duration) -> Duration {
        let seconds = 2 << min(max(attempts - 1, 0), 20)
        return min(.seconds(seconds), maximum)
    }

    func deliver(_ delivery: WebhookOutbox.Delivery, now: Int) async {
        let body = Self.body(for: delivery)
        let timestamp = now / 1000
        let headers = [
            ("Content-Type", "application/json"), ("User-Agent", "jobstream-webhooks"),
            ("Jobstream-Event-Id", "\(delivery.jobId)/\(delivery.eventKey)"),
            ("Jobstream-Delivery-Attempt", "\(delivery.attempts + 1)"),
            (WebhookSignature.header, WebhookSignature.value(secret: secret, timestamp: timestamp, body: body)),
        ]
        var status: Int?
        var problem: String?
        do {
            status = try await sender.post(delivery.url, body: body, headers: headers, timeout: timeout)
            if let status, !(200..<300).contains(status) { problem = "the receiver answered \(status)" }
        } catch {
            problem = "no answer: \(error)"
        }
        let delivered = problem == nil
        let backoff = Self.backoff(afterAttempts: delivery.attempts + 1, maximum: maximumBackoff)
        let retryAt = now + Int(backoff.seconds * 1000)
        let giveUp = !delivered && retryAt > delivery.createdAt + Int(retryWindow.seconds * 1000)
        if delivered {
            logger.info("webhook delivered", metadata: ["job.id": "\(delivery.jobId)", "event": "\(delivery.eventKey)"])
        } else {
            logger.notice(
                "webhook not delivered\(giveUp ? "; given up" : ", tried again in \(backoff)")",
                metadata: [
                    "job.id": "\(delivery.jobId)", "event": "\(delivery.eventKey)",
                    "to": "\(WebhookOutbox.redacted(delivery.url))",
                    "reason": "\(problem ?? "")",
                ])
        }
        do {
            try await outbox.recordAttempt(
                delivery, status: status, error: problem, delivered: delivered, retryAt: delivered || giveUp ? nil : retryAt,
                now: now)
        } catch {
            logger.warning("recording a webhook attempt failed: \(error); it is claimed again after its claim lapses")
        }
    }

    /// The body sent: the status event as JSON; for an address that asks for Slack's format (a
    /// `hooks.slack.com` address, or `format=slack` in its query), `{"text": "…"}` telling the same.
    static func body(for delivery: WebhookOutbox.Delivery) -> [UInt8] {
        guard wantsText(delivery.url) else { return Array(delivery.payload.utf8) }
        let event = (try? JSONSerialization.jsonObject(with: Data(delivery.payload.utf8))) as? [String: Any]
        let payload = event?["payload"] as? [String: Any] ?? [:]
        let status = payload["status"] as? String ?? delivery.eventKey
        let action = payload["action"] as? String ?? "backfill"
        let processed = payload["recordsProcessed"] as? Int ?? 0
        let failed = payload["recordsFailed"] as? Int ?? 0
        var text = "Backfill \(delivery.jobId) (\(action)) is \(status): \(processed) rows processed, \(failed) failed"
        if let reason = payload["pauseReason"] as? String { text += ". \(reason)" }
        if let error = payload["error"] as? String { text += ". \(error.prefix(300))" }
        let data = (try? JSONSerialization.data(withJSONObject: ["text": text])) ?? Data()
        return Array(data)
    }

    static func wantsText(_ url: String) -> Bool {
        guard let components = URLComponents(string: url) else { return false }
        return components.host?.hasSuffix("hooks.slack.com") == true
            || components.queryItems?.contains { $0.name == "format" && $0.value == "slack" } == true
    }
}
