import ArgumentParser
import AsyncHTTPClient
import Foundation
import JobstreamBackfill
import JobstreamService
import JobstreamStore
import JobstreamWebhooks
import Logging
import ServiceLifecycle

/// The validator's webhook settings: where every job's end is sent, which addresses a request may
/// add, and the secret every delivery is signed with.
struct WebhookOptions: ParsableArguments {
    @Option(
        name: .customLong("webhook"),
        help:
            "An address every backfill's end (and pause at its brake) is sent to; repeat for more (also $JOBSTREAM_WEBHOOKS, comma-separated)."
    )
    var urls: [String] = []

    @Option(
        name: .customLong("webhook-allow"),
        help:
            "A prefix an address a request adds (`webhooks`) must start with, e.g. https://hooks.slack.com/; repeat for more (also $JOBSTREAM_WEBHOOK_ALLOW). None: requests add no address."
    )
    var allowedPrefixes: [String] = []

    @Option(
        name: .customLong("webhook-retry-hours"),
        help: "How long a delivery that fails is tried again (with backoff) before it is given up.")
    var retryHours: Int = Settings.value("webhook-retry-hours", default: 24)

    /// The secret deliveries are signed with: `$JOBSTREAM_WEBHOOK_SECRET` only, never a flag (a
    /// command line is visible to other users of the machine).
    var secret: String? {
        let value = ProcessInfo.processInfo.environment["JOBSTREAM_WEBHOOK_SECRET"] ?? ""
        return value.isEmpty ? nil : value
    }

    var allURLs: [String] { urls + Self.list("JOBSTREAM_WEBHOOKS") }
    var allPrefixes: [String] { allowedPrefixes + Self.list("JOBSTREAM_WEBHOOK_ALLOW") }

    static func list(_ name: String) -> [String] {
        (ProcessInfo.processInfo.environment[name] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func check() throws {
        for url in allURLs + allPrefixes where !(url.hasPrefix("https://") || url.hasPrefix("http://")) {
            throw ValidationError("webhook address \(url.prefix(60)) is not an http:// or https:// address")
        }
        guard (1...720).contains(retryHours) else { throw ValidationError("--webhook-retry-hours must be between 1 and 720") }
        if !(allURLs.isEmpty && allPrefixes.isEmpty), let secret = secret, secret.count < 24 {
            throw ValidationError("JOBSTREAM_WEBHOOK_SECRET is \(secret.count) characters; use at least 24")
        }
        if !(allURLs.isEmpty && allPrefixes.isEmpty), secret == nil {
            throw ValidationError("webhooks need a secret to sign them with: set JOBSTREAM_WEBHOOK_SECRET")
        }
    }

    /// The deliverer, when there is a secret to sign with (without one, deliveries wait for a validator that has one).
    func deliverer(store: Store, logger: Logger) -> (any Service)? {
        guard let secret else { return nil }
        let notifications = BackfillNotifications(store: store, deploymentURLs: allURLs, allowedPrefixes: allPrefixes)
        let retryWindow = Duration.seconds(retryHours * 3600)
        return WebhookService { sender in
            WebhookDeliverer(
                outbox: WebhookOutbox(store: store), sender: sender, secret: secret, retryWindow: retryWindow,
                logger: logger, sweep: { try await notifications.sweep(now: $0) })
        }
    }
}

/// Runs a deliverer with an HTTP client of its own (no redirects followed), shut down when it stops.
struct WebhookService: Service {
    let make: @Sendable (any WebhookSending) -> WebhookDeliverer

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let deliverer = make(HTTPWebhookSender(client: client))
        await cancelWhenGracefulShutdown { await deliverer.run() }
        try await client.shutdown()
    }
}
