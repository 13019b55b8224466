import Hummingbird

/// `GET /events`: server-sent events naming the log that changed (`event: change`, `data: backfills`,
/// `migrations` or `sync`), with a keep-alive comment in between so that proxies keep the connection
/// and a closed browser tab is noticed. The stream ends when the board closes (the dashboard stops).
extension Dashboard {
    enum LiveMessage: Sendable {
        case change(StatusBoard.Log)
        case keepAlive
    }

    /// The board's changes (of `only` that log, when given) with a keep-alive every `keepAlive`
    /// between them, and what stops both (call it when the stream's reader is done).
    static func liveMessages(
        _ changes: AsyncStream<StatusBoard.Log>, only: StatusBoard.Log? = nil, keepAlive: Duration
    ) -> (AsyncStream<LiveMessage>, stop: @Sendable () -> Void) {
        let (messages, feed) = AsyncStream.makeStream(of: LiveMessage.self, bufferingPolicy: .bufferingNewest(64))
        let forwarding = Task {
            for await log in changes where only == nil || log == only { feed.yield(.change(log)) }
            feed.finish()
        }
        let keepingAlive = Task {
            while !Task.isCancelled {
                try await Task.sleep(for: keepAlive)
                feed.yield(.keepAlive)
            }
        }
        return (
            messages,
            {
                forwarding.cancel()
                keepingAlive.cancel()
            }
        )
    }

    func liveEvents(_ request: Request) async throws -> Response {
        guard access.mayView(access.role(of: request)) else {
            return Responses.apiError(.unauthorized, "live updates need a token")
        }
        let changes = await board.changes()
        let keepAliveInterval = keepAliveInterval
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                let (messages, stop) = Self.liveMessages(changes, keepAlive: keepAliveInterval)
                defer { stop() }
                try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                for await message in messages {
                    switch message {
                    case .change(let log): try await writer.write(ByteBuffer(string: "event: change\ndata: \(log.rawValue)\n\n"))
                    case .keepAlive: try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    }
                }
                try await writer.finish(nil)
            })
    }
}
