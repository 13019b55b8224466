import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import JobstreamService

/// A check whose answer a test sets.
final class FixedCheck: ReadinessCheck, @unchecked Sendable {
    let readinessName: String
    let problem: String?

    init(_ name: String, problem: String? = nil) {
        readinessName = name
        self.problem = problem
    }

    func checkReadiness() async throws {
        if let problem { throw NotReady(problem) }
    }
}

@Suite("The operations port: /metrics, /health, /ready")
struct OperationsServerTests {
    private func withServer(
        checks: [any ReadinessCheck], _ body: @Sendable (any TestClientProtocol) async throws -> Void
    )
        async throws
    {
        let metrics = ServiceMetrics(service: "test")
        metrics.consumed(from: "t")
        let readiness = Readiness()
        checks.forEach(readiness.add)
        try await Application(router: OperationsServer.router(metrics: metrics, readiness: readiness)).test(.router, body)
    }

    @Test("/ready is 503 naming every failing check, /health stays 200")
    func notReady() async throws {
        try await withServer(checks: [FixedCheck("kafka", problem: "not yet a member of consumer group g"), FixedCheck("store")])
        { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                #expect(body?["ready"] as? Bool == false)
                #expect(body?["checks"] as? [String: String] == ["kafka": "not yet a member of consumer group g", "store": "ok"])
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test("/ready is 200 when every check passes; /metrics is Prometheus text")
    func ready() async throws {
        try await withServer(checks: [FixedCheck("kafka"), FixedCheck("store")]) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                #expect(String(buffer: response.body).contains(#"jobstream_messages_consumed_total{topic="t"} 1"#))
            }
        }
    }

    @Test("a check that does not answer in time fails instead of hanging the probe")
    func slowCheck() async throws {
        struct Hanging: ReadinessCheck {
            var readinessName: String { "store" }
            func checkReadiness() async throws { try await Task.sleep(for: .seconds(60)) }
        }
        let readiness = Readiness()
        readiness.add(Hanging())
        let results = await readiness.evaluate(timeout: .milliseconds(100))
        #expect(results.count == 1)
        #expect(results.first?.problem?.contains("did not answer within") == true)
    }
}
