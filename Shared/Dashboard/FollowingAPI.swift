import Foundation
import Hummingbird
import JobstreamBackfill
import JobstreamCSV
import JobstreamFiles
import JobstreamMessages
import JobstreamMigration
import JobstreamStore

/// The API's reading of one job: its files, its changes as server-sent events, and the audit trail.
extension Dashboard {
    struct AuditList: Encodable { var events: [AuditTrail.Event] }

    /// A webhook delivery as the API shows it: the address by scheme and host only (its path or
    /// query can be its secret).
    struct WebhookDelivery: Encodable {
        var to, event: String
        var attempts: Int
        var lastStatus: Int?
        var lastError: String?
        var createdAt: Int
        var nextAttemptAt: Int?
        var deliveredAt: Int?
        var gaveUpAt: Int?

        init(_ delivery: WebhookOutbox.Delivery) {
            to = WebhookOutbox.redacted(delivery.url)
            event = delivery.eventKey
            attempts = delivery.attempts
            lastStatus = delivery.lastStatus
            lastError = delivery.lastError
            createdAt = delivery.createdAt
            nextAttemptAt = delivery.deliveredAt == nil && delivery.gaveUpAt == nil ? delivery.nextAttemptAt : nil
            deliveredAt = delivery.deliveredAt
            gaveUpAt = delivery.gaveUpAt
        }
    }
    struct WebhookDeliveries: Encodable { var deliveries: [WebhookDelivery] }

    func addFollowingAPI(to api: RouterGroup<DashboardRequestContext>) {
        api.get("backfills/:job/result") { request, context in
            try await apiViewing(request) { try await resultFile(of: try Self.identifier(context, "job"), failuresOnly: false) }
        }
        api.get("backfills/:job/failures") { request, context in
            try await apiViewing(request) { try await resultFile(of: try Self.identifier(context, "job"), failuresOnly: true) }
        }
        api.get("backfills/:job/webhooks") { request, context in
            try await apiViewing(request) {
                let id = try Self.identifier(context, "job")
                guard await board.backfill(id) != nil else { return Responses.apiError(.notFound, "no backfill \(id)") }
                let deliveries = try await WebhookOutbox(store: store).deliveries(of: id).map(WebhookDelivery.init)
                return Responses.json(WebhookDeliveries(deliveries: deliveries))
            }
        }
        api.get("backfills/:job/events") { request, context in
            try await apiViewing(request) {
                let id = try Self.identifier(context, "job")
                // A job just submitted is in the log before its first status event is on the topic.
                var known = await board.backfill(id) != nil
                if !known { known = try await BackfillJobLog(store: store).job(id) != nil }
                guard known else {
                    return Responses.apiError(.notFound, "no backfill \(id)")
                }
                return follow(.backfills) { await board.backfill(id).map { ($0, $0.status.isTerminal) } }
            }
        }
        api.get("migrations/:migration/events") { request, context in
            try await apiViewing(request) {
                let id = try Self.identifier(context, "migration")
                var known = await board.migration(id) != nil
                if !known { known = try await MigrationLog(store: store).migration(id) != nil }
                guard known else {
                    return Responses.apiError(.notFound, "no migration \(id)")
                }
                return follow(.migrations) { await board.migration(id).map { ($0, $0.status.isTerminal) } }
            }
        }
        api.get("audit") { request, _ in
            guard access.role(of: request) >= .operator else {
                return Responses.apiError(
                    access.role(of: request) == .anonymous ? .unauthorized : .forbidden,
                    "the audit trail needs an operator's or an approver's token")
            }
            let query = request.uri.queryParameters
            let limit: Int
            let job = query.get("job"), actor = query.get("actor")
            do throws(FilterProblem) {
                limit = try Self.limit(request, name: "limit", default: 100, maximum: 10_000)
                if let job, let problem = JobIdRule.problem(job) { throw FilterProblem("job: \(problem)") }
                if let actor, actor.count > 200 { throw FilterProblem("actor is longer than 200 characters") }
            } catch {
                return Responses.apiError(.badRequest, error.description)
            }
            let events = try await AuditTrail(store: store).events(targetId: job, actor: actor, limit: limit)
            return Responses.json(AuditList(events: events))
        }
    }

    /// The job's result file (a preview's preview file) as written, or only its failed rows.
    func resultFile(of id: String, failuresOnly: Bool) async throws -> Response {
        guard let job = await board.backfill(id) else { return Responses.apiError(.notFound, "no backfill \(id)") }
        guard let path = job.resultPath, let name = job.resultFile else {
            return Responses.apiError(
                .notFound,
                "backfill \(id) is \(job.status.rawValue) and has no result file" + (job.status.isTerminal ? "" : " yet"))
        }
        let size: Int64?
        do { size = try await files.size(path) } catch {
            return Responses.apiError(.notFound, "the result file of backfill \(id) cannot be read: \(error)")
        }
        guard size != nil else {
            return Responses.apiError(.notFound, "the result file of backfill \(id) is not in the file store")
        }
        let fileName = failuresOnly ? name.replacingOccurrences(of: ".csv", with: "-failures.csv") : name
        return CSVDownload.response(
            fileName: fileName,
            body: failuresOnly ? Self.failedRows(of: path, job: id, files) : Self.rawFile(path, files))
    }

    /// A file of the store as it is, piece by piece (from an object store, as its body arrives).
    static func rawFile(_ path: String, _ files: FileStore) -> ResponseBody {
        ResponseBody { writer in
            try await files.read(path) { try await writer.write($0) }
            try await writer.finish(nil)
        }
    }

    /// The header and the rows whose `Success` is not `true`, of a result or preview file.
    static func failedRows(of path: String, job jobId: String, _ files: FileStore) -> ResponseBody {
        ResponseBody { writer in
            let stored = try await files.fetch(path, forJob: jobId)
            defer { withExtendedLifetime(stored) {} }
            let reader = try CSVReader(url: stored.readableURL, limits: .ownFiles)
            guard let header = try reader.next() else { return try await writer.finish(nil) }
            let success = header.fields.firstIndex(of: "Success")
            var bytes: [UInt8] = []
            CSVWriter.append(header.fields, to: &bytes)
            while let record = try reader.next() {
                guard let success, success < record.fields.count, record.fields[success] != "true" else { continue }
                CSVWriter.append(record.fields, to: &bytes)
                if bytes.count >= 256 * 1024 {
                    try await writer.write(ByteBuffer(bytes: bytes))
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            if !bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes)) }
            try await writer.finish(nil)
        }
    }

    /// Server-sent events of one job: `event: status` with the job's summary as JSON, now (once the
    /// status topic has the job) and at every change, ending after the job's last status; keep-alive
    /// comments in between.
    func follow<Summary: Encodable & Equatable & Sendable>(
        _ log: StatusBoard.Log, _ current: @escaping @Sendable () async -> (Summary, ended: Bool)?
    ) -> Response {
        let keepAliveInterval = keepAliveInterval
        let board = board
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let changes = await board.changes()
                let (messages, stop) = Self.liveMessages(changes, only: log, keepAlive: keepAliveInterval)
                defer { stop() }
                try await writer.write(ByteBuffer(string: "retry: 2000\n: following\n\n"))
                var sent: Summary?
                func sendIfChanged() async throws -> Bool {
                    guard let (summary, ended) = await current() else { return false }
                    if summary != sent {
                        try await writer.write(ByteBuffer(string: "event: status\ndata: \(Self.jsonLine(summary))\n\n"))
                        sent = summary
                    }
                    return ended
                }
                if try await !sendIfChanged() {
                    loop: for await message in messages {
                        switch message {
                        case .change: if try await sendIfChanged() { break loop }
                        case .keepAlive: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        }
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// A value as one line of JSON (an event's `data` may not span lines unprefixed).
    static func jsonLine(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
