import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends one webhook: a seam, so the deliverer can be tested without a network.
public protocol WebhookSending: Sendable {
    /// POSTs `body` with `headers`; returns the status, or throws when there was no answer in time.
    func post(_ url: String, body: [UInt8], headers: [(String, String)], timeout: Duration) async throws -> Int
}

/// Sends webhooks with async-http-client: no redirect is followed (a receiver's answer is its own),
/// and at most 64 KiB of an answer is read.
public struct HTTPWebhookSender: WebhookSending {
    let client: HTTPClient

    public init(client: HTTPClient) {
        self.client = client
    }

    public func post(_ url: String, body: [UInt8], headers: [(String, String)], timeout: Duration) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout.components.seconds * 1000)))
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }
}
