import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The operations port of a service (`--metrics-port`): `/metrics` in Prometheus's text format,
/// `/health` (the process is up and serving) and `/ready` (every ``ReadinessCheck`` passes; 503 with
/// the reasons otherwise). Kept apart from any port the service serves users on.
public enum OperationsServer {
    /// The web application for `host:port`; run it as a service beside the others.
    public static func application(
        host: String, port: Int, metrics: ServiceMetrics, readiness: Readiness,
        logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: router(metrics: metrics, readiness: readiness),
            configuration: .init(address: .hostname(host, port: port), serverName: "jobstream-operations"),
            onServerRunning: { channel in
                let address = channel.localAddress?.port.map { "http://\(host):\($0)" } ?? "http://\(host):\(port)"
                logger.info("metrics, health and readiness on \(address)", metadata: ["operations.url": "\(address)"])
            },
            logger: logger)
    }

    /// The routes, separate from the server so tests can call them.
    public static func router(metrics: ServiceMetrics, readiness: Readiness) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: await metrics.render())))
        }
        router.get("health") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"status":"up"}"#)))
        }
        router.get("ready") { _, _ in
            let results = await readiness.evaluate()
            let ready = results.allSatisfy { $0.problem == nil }
            let checks = Dictionary(uniqueKeysWithValues: results.map { ($0.name, $0.problem ?? "ok") })
            let body = try JSONSerialization.data(withJSONObject: ["ready": ready, "checks": checks], options: [.sortedKeys])
            return Response(
                status: ready ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        return router
    }
}
